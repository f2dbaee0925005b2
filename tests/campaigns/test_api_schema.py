"""The dialer API's contract, tested from its own OpenAPI description: a client generated from the schema
never sends what the API refuses, and the API refuses whatever the schema forbids.

For every operation, every request field (body, query, header) is taken from the generated schema: each
declared constraint (type, nullability, required, minLength, maxLength, pattern, minimum, maximum,
format) gets a value that violates it, which must be refused with 422 in the error shape naming the field;
and the minimal body and each boundary value the schema allows must be accepted. Values that name
something (a caller, a disposition, a number of the lead's contact) are made real in the database first:
the schema cannot say which usernames exist, and those refusals are the API's documented 422s.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from campaigns.models import Disposition, User
from campaigns.services.callers import callers_approve
from tests.campaigns.api_factories import DialerCampaignFactory, api_key_for, pool_create

pytestmark = pytest.mark.django_db

MISSING = object()
_keys = itertools.count()


@dataclass(frozen=True, eq=False)  # one field is one key, by identity
class Field:
    location: str  # body, query or header
    name: str
    schema: dict
    required: bool

    @property
    def error_field(self) -> str:
        return self.name if self.location != "header" else self.name.lower().replace("-", "_")


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _fields(schema: dict, operation: dict) -> list[Field]:
    fields = [
        Field(p["in"], p["name"], p["schema"], p.get("required", False))
        for p in operation.get("parameters", [])
        if p["in"] in ("query", "header")
    ]
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        component = _resolve(schema, body["schema"])
        fields += [
            Field("body", name, prop, name in component.get("required", []))
            for name, prop in component["properties"].items()
            if not prop.get("readOnly")
        ]
    return fields


def _allowed_string(spec: dict, length: int) -> str:
    value = "a" * length
    assert re.search(spec.get("pattern", ""), value), f"the walker cannot write a string for {spec}"
    return value


def violations(field: Field) -> list[tuple[str, object]]:
    """Return (constraint, value) pairs: one value per declared constraint of ``field`` that breaks it."""
    spec = field.schema
    found: list[tuple[str, object]] = []
    if field.required:
        found.append(("required", MISSING))
    if not spec.get("nullable") and field.location == "body":
        found.append(("nullable", None))
    kind = spec.get("type")
    if kind == "string":
        if field.location == "body":
            found += [("type", 5), ("type", True), ("type", ["a"])]
        if "minLength" in spec and spec["minLength"] > 0:
            found.append(("minLength", "a" * (spec["minLength"] - 1)))
        if "maxLength" in spec:
            found.append(("maxLength", "a" * (spec["maxLength"] + 1)))
        if "pattern" in spec:
            breaking = [v for v in ("   ", "a\x00b", "\x00") if not re.search(spec["pattern"], v)]
            assert breaking, f"the walker has no value that breaks the pattern of {field.name}"
            found += [("pattern", v) for v in breaking if len(v) <= spec.get("maxLength", 10**6)]
        if spec.get("format") == "date-time":
            found.append(("format", "next tuesday"))
    elif kind == "integer":
        found += [("type", "1"), ("type", 1.5), ("type", True)]
        if "minimum" in spec:
            found.append(("minimum", spec["minimum"] - 1))
        if "maximum" in spec:
            found.append(("maximum", spec["maximum"] + 1))
    else:
        raise AssertionError(f"The walker cannot break a {kind} field ({field.name}): teach it.")
    return found


def allowed(field: Field) -> list[tuple[str, object]]:
    """Return (what, value) pairs: the boundary values the schema allows for ``field``."""
    spec = field.schema
    found: list[tuple[str, object]] = []
    if not field.required:
        found.append(("omitted", MISSING))
    if spec.get("nullable"):
        found.append(("null", None))
    kind = spec.get("type")
    if kind == "string" and spec.get("format") == "date-time":
        found.append(("a date-time", (timezone.now() + timedelta(days=3)).isoformat()))
    elif kind == "string":
        shortest = spec.get("minLength", 0)
        found.append(("minLength", _allowed_string(spec, shortest)))
        found.append(("maxLength", _allowed_string(spec, spec.get("maxLength", 300))))
    elif kind == "integer":
        found += [("minimum", spec.get("minimum", 0)), ("maximum", spec.get("maximum", 2**31))]
    return found


@dataclass
class World:
    """What the requests act on, and how a schema-made value is made to name something real."""

    campaign: object  # pulls draw from its pool
    leads: list  # of another campaign: what calls, dial checks and releases act on, one lead a request
    key: str

    def realise(self, field: Field, value: object, lead) -> object:
        """Return ``value`` with whatever it names created; or ``value`` itself when it names nothing."""
        if not isinstance(value, str) or field.name not in ("caller", "number", "disposition", "at"):
            return value
        if field.name == "at":
            # The dial check's ``at`` names a past moment (a moment to come is refused, as it says): ten days
            # before the one the schema's format allows.
            moment = datetime.fromisoformat(value)
            return (moment - timedelta(days=10)).isoformat() if moment > timezone.now() else value
        if field.name == "caller" and value.strip():
            caller, _ = User.objects.get_or_create(username=value.strip(), defaults={"is_staff": False})
            callers_approve(callers=[caller], campaigns=[self.campaign, lead.campaign], actor="tests")
        elif field.name == "disposition" and value.strip():
            Disposition.objects.get_or_create(
                campaign=lead.campaign, code=value.strip(), defaults={"label": "Schema", "effect": "no_answer"}
            )
        elif field.name == "number":
            # Any writing of the lead's number reads: spaces after it fill the length the schema allows.
            real = lead.contact.phones.get().phone.e164
            if len(value) < len(real):
                return real  # no number is that short; readability is the documented 422 invalid_number
            return real + " " * (len(value) - len(real))
        return value


@pytest.fixture
def schema(client):
    return client.get("/api/v1/schema", {"format": "json"}).json()


@pytest.fixture
def world():
    pulled, called = DialerCampaignFactory(), DialerCampaignFactory()
    pool_create(campaign=pulled, size=60)
    leads = pool_create(campaign=called, size=120, first_number=4_000_000)
    return World(campaign=pulled, leads=leads, key=api_key_for()[1])


def _operations(schema: dict):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if path.endswith("/schema"):
                continue
            yield path, method, operation


def _send(client, world: World, path: str, method: str, values: dict[Field, object], lead):
    url = path.replace("{campaign_id}", str(world.campaign.pk)).replace("{lead_id}", str(lead.pk))
    body = {f.name: v for f, v in values.items() if f.location == "body" and v is not MISSING}
    query = {f.name: v for f, v in values.items() if f.location == "query" and v is not MISSING}
    headers = {
        f"HTTP_{f.name.upper().replace('-', '_')}": v
        for f, v in values.items()
        if f.location == "header" and v is not MISSING
    }
    auth = {"HTTP_AUTHORIZATION": f"Bearer {world.key}", **headers}
    if method == "get":
        return client.get(url, query, **auth)
    return getattr(client, method)(url, body, content_type="application/json", **auth)


def _minimal(fields: list[Field], world: World, lead) -> dict[Field, object]:
    values = {}
    for field in fields:
        if field.required:
            [value] = [v for what, v in allowed(field) if what in ("minLength", "minimum", "a date-time")][:1]
            values[field] = world.realise(field, value, lead)
        else:
            values[field] = MISSING
    return values


def test_the_schema_states_a_constraint_for_every_field_the_api_refuses_empty(schema):
    # given: the fields the issue found refused with 422 while the schema allowed them
    call = _resolve(
        schema,
        schema["paths"]["/api/v1/leads/{lead_id}/calls"]["post"]["requestBody"]["content"]["application/json"][
            "schema"
        ],
    )

    # then
    for name in ("caller", "number", "disposition"):
        assert call["properties"][name]["minLength"] == 1
        assert call["properties"][name]["pattern"]


def test_every_value_the_schema_forbids_is_refused_with_422_naming_the_field(client, schema, world):
    leads = iter(world.leads)
    checked = 0
    for path, method, operation in _operations(schema):
        fields = _fields(schema, operation)
        for field in fields:
            for constraint, bad in violations(field):
                # given: a body the schema allows but for this one value
                lead = next(leads)
                values = _minimal(fields, world, lead)
                values[field] = bad

                # when
                response = _send(client, world, path, method, values, lead)

                # then
                where = f"{method.upper()} {path} {field.location} {field.name}={bad!r} ({constraint})"
                assert response.status_code == 422, f"{where} answered {response.status_code}: {response.content!r}"
                error = response.json()["error"]
                assert set(error) == {"code", "message", "field"}, where
                assert error["field"] == field.error_field, f"{where} named {error['field']!r}"
                checked += 1
    assert checked >= 30


def test_the_api_accepts_the_minimal_body_and_every_boundary_value_the_schema_allows(client, schema, world):
    leads = iter(world.leads)
    checked = 0
    for path, method, operation in _operations(schema):
        fields = _fields(schema, operation)
        success = next(int(code) for code in operation["responses"] if code.startswith("2"))
        cases = [(None, "minimal", None)] + [(f, what, v) for f in fields for what, v in allowed(f)]
        for field, what, good in cases:
            # given
            lead = next(leads)
            values = _minimal(fields, world, lead)
            if field is not None:
                if field.location == "header" and isinstance(good, str):
                    good = f"{next(_keys)}-{good}"[: len(good)] if good else good
                values[field] = world.realise(field, good, lead)

            # when
            response = _send(client, world, path, method, values, lead)

            # then
            where = f"{method.upper()} {path} {field.name if field else ''} {what}"
            assert response.status_code == success, f"{where} answered {response.status_code}: {response.content!r}"
            checked += 1
    assert checked >= 15


def _response(schema: dict, path: str, method: str) -> dict:
    return _resolve(schema, schema["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"])


def test_the_schema_describes_not_now_answers(schema):
    # given: the dial check's and the pull's answers as the schema describes them
    check = _response(schema, "/api/v1/leads/{lead_id}/dial-check", "get")
    reason = _resolve(schema, check["properties"]["reasons"]["items"])
    pulled = _resolve(
        schema, _response(schema, "/api/v1/campaigns/{campaign_id}/pull", "post")["properties"]["leads"]["items"]
    )
    number = _resolve(schema, pulled["properties"]["numbers"]["items"])
    # then: every answer has next_allowed_at (null unless only "not now" refuses); a reason may carry its own
    assert "next_allowed_at" in check["required"]
    assert check["properties"]["next_allowed_at"] == {
        **check["properties"]["next_allowed_at"],
        "format": "date-time",
        "nullable": True,
    }
    assert {"next_allowed_at", "rule", "count"} <= set(reason["properties"])
    assert not {"next_allowed_at", "rule", "count"} & set(reason.get("required", []))
    assert {"code", "message", "block_id"} <= set(reason["required"])
    assert "calling_window" in reason["properties"]["code"]["description"]
    assert "frequency_cap" in reason["properties"]["code"]["description"]
    assert "dialable" in number["required"] and "now" in number["properties"]["dialable"]["description"]

"""The dial check's everyday answer skips DRF's dispatch (``_lean_dial_check``): it must answer exactly as the
dispatch does — status, headers, body — and leave every other request to it, having done nothing."""

import pytest

from campaigns.dialer.api import views
from campaigns.models import Block, Verdict
from campaigns.services import BlockTarget, block_create
from tests.campaigns.api_factories import DialerLeadFactory, api_key_for
from tests.campaigns.factories import CustomerFactory

pytestmark = pytest.mark.django_db

COMPARED_HEADERS = ("Content-Type", "Allow", "Vary", "WWW-Authenticate", "X-Frame-Options")


def _through_dispatch(monkeypatch):
    """Make every dial check go DRF's whole way, as it did before the lean path."""
    monkeypatch.setattr(views, "_lean_dial_check", lambda request, lead_id: None)


def _answer(client, url, query, headers):
    response = client.get(url, query, **headers)
    return (
        response.status_code,
        {name: response.get(name) for name in COMPARED_HEADERS},
        response.content,
    )


def _requests():
    lead = DialerLeadFactory()
    blocked = DialerLeadFactory(campaign=lead.campaign)
    block_create(
        target=BlockTarget(contact=blocked.contact),
        source=Block.Source.CUSTOMER_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    _, agency = api_key_for()
    _, own = api_key_for(customer=lead.customer)
    _, other = api_key_for(customer=CustomerFactory())
    e164 = lead.contact.phones.get().phone.e164
    national = f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"
    blocked_number = blocked.contact.phones.get().phone.e164

    def bearer(key):
        return {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    check = f"/api/v1/leads/{lead.pk}/dial-check"
    return [
        ("allowed", check, {"number": e164}, bearer(agency)),
        ("national writing", check, {"number": national}, bearer(agency)),
        ("spaces around", check, {"number": f"  {e164} "}, bearer(agency)),
        (
            "refused, agency wording",
            f"/api/v1/leads/{blocked.pk}/dial-check",
            {"number": blocked_number},
            bearer(agency),
        ),
        (
            "refused, customer wording",
            f"/api/v1/leads/{blocked.pk}/dial-check",
            {"number": blocked_number},
            bearer(own),
        ),
        ("not the contact's number", check, {"number": blocked_number}, bearer(agency)),
        ("another customer's key", check, {"number": e164}, bearer(other)),
        ("no such lead", "/api/v1/leads/999999999/dial-check", {"number": e164}, bearer(agency)),
        ("no key", check, {"number": e164}, {}),
        ("a wrong key", check, {"number": e164}, bearer("lok_nothing_" + "x" * 40)),
        ("not bearer", check, {"number": e164}, {"HTTP_AUTHORIZATION": f"Token {agency}"}),
        ("no number", check, {}, bearer(agency)),
        ("a blank number", check, {"number": "   "}, bearer(agency)),
        ("a number too long", check, {"number": "1" * 65}, bearer(agency)),
        ("not a number", check, {"number": "call me"}, bearer(agency)),
        ("as of", check, {"number": e164, "at": "2020-01-01T00:00:00Z"}, bearer(agency)),
        ("as of, blank", check, {"number": e164, "at": ""}, bearer(agency)),
        ("json asked", check, {"number": e164}, {**bearer(agency), "HTTP_ACCEPT": "application/json"}),
        ("html asked", check, {"number": e164}, {**bearer(agency), "HTTP_ACCEPT": "text/html"}),
        (
            "as axios asks",
            check,
            {"number": e164},
            {**bearer(agency), "HTTP_ACCEPT": "application/json, text/plain, */*"},
        ),
        (
            "weighed",
            check,
            {"number": e164},
            {**bearer(agency), "HTTP_ACCEPT": "text/html;q=0.9, application/json;q=0.1"},
        ),
        ("format json", check, {"number": e164, "format": "json"}, bearer(agency)),
        ("format xml", check, {"number": e164, "format": "xml"}, bearer(agency)),
    ]


def test_every_dial_check_is_answered_as_drfs_dispatch_answers_it(client, monkeypatch):
    # given: the same requests, answered by the view as it is and by DRF's dispatch alone
    requests = _requests()
    lean = {name: _answer(client, url, query, headers) for name, url, query, headers in requests}
    lean_verdicts = list(Verdict.objects.order_by("id").values_list("lead_id", "number", "allowed", "reasons"))
    _through_dispatch(monkeypatch)
    dispatched = {name: _answer(client, url, query, headers) for name, url, query, headers in requests}
    all_verdicts = list(Verdict.objects.order_by("id").values_list("lead_id", "number", "allowed", "reasons"))
    # then: the same status, headers and body, and the same verdicts recorded, one per answer given for now
    for name, _, _, _ in requests:
        assert lean[name] == dispatched[name], name
    assert {lean["allowed"][0], lean["no key"][0], lean["no number"][0], lean["html asked"][0]} == {200, 401, 422, 406}
    assert lean["format xml"][0] == 404 and lean["as axios asks"][0] == 200
    assert all_verdicts[len(lean_verdicts) :] == lean_verdicts
    # the answers given for now: allowed (three writings, three ways of asking for JSON, ?format=json), refused
    # (three)
    assert len(lean_verdicts) == 10


def test_the_everyday_dial_check_does_not_go_through_drfs_dispatch(client, monkeypatch):
    # given: a dispatch that would fail
    lead = DialerLeadFactory()
    _, key = api_key_for()

    def no_dispatch(*args, **kwargs):
        raise AssertionError("dispatched")

    monkeypatch.setattr(views.DialCheckView, "dispatch", no_dispatch)
    # when
    response = client.get(
        f"/api/v1/leads/{lead.pk}/dial-check",
        {"number": lead.contact.phones.get().phone.e164},
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    # then
    assert response.status_code == 200
    assert response.json()["allowed"] is True


def test_the_openapi_description_still_documents_the_dial_check(client):
    # when
    schema = client.get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    # then
    operation = schema["paths"]["/api/v1/leads/{lead_id}/dial-check"]["get"]
    assert operation["operationId"] == "lead_dial_check"
    assert {parameter["name"] for parameter in operation["parameters"]} >= {"number", "at"}

"""The dialer API's endpoints: thin adapters that parse, scope by key, call one service, and answer."""

from __future__ import annotations

import functools
import io

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed, ParseError, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from campaigns.dialer.api import serializers as s
from campaigns.dialer.api.authentication import AgencyKeyForWrites, ApiKeyAuthentication, HasApiKey
from campaigns.dialer.api.errors import api_exception_handler
from campaigns.dialer.api.scoping import lead_for_key
from campaigns.dialer.pool import lead_release, leads_pull_dialable, pull_not_now_reason
from campaigns.models import Call, Lead, User
from campaigns.selectors.explaining import CUSTOMER, OPS, Reason, can_dial_lead, explain, moment_in_past
from campaigns.selectors.loading import caller_named, campaign_and_caller
from campaigns.services.calls import call_record
from campaigns.services.verdicts import HandedOut, verdict_record_dial_check, verdicts_record_pull
from leadops.errors import LeadopsError
from suppressions.selectors import upload_pending_reasons

IDEMPOTENCY_KEY_MAX = Call._meta.get_field("idempotency_key").max_length

ERRORS = {
    code: OpenApiResponse(s.ErrorSerializer, description=text)
    for code, text in {
        400: "The body is not JSON.",
        401: "Missing, wrong or revoked API key.",
        403: "A customer's read-only key was used to change something, or the caller is not approved for the "
        "campaign (`caller_not_approved`).",
        404: "No such campaign or lead for this key.",
        409: "Conflicts with the lead's current state.",
        422: "A field is invalid; `field` names it.",
    }.items()
}


@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """Answer without authentication or the database: the framework's own floor for load tests."""
    return JsonResponse({"status": "ok"})


def _reason(reason: Reason) -> dict[str, object]:
    body: dict[str, object] = {"code": reason.code, "message": reason.message, "block_id": reason.block_id}
    if reason.is_not_now:
        # Time, not a block: when the number may be called, by which rule, and (a cap) the calls counted.
        body.update(next_allowed_at=reason.next_allowed_at, rule=reason.rule)
        if reason.count is not None:
            body["count"] = reason.count
    return body


def _pull_hold(campaign, passed_over) -> list[dict[str, object]]:
    """Why an empty pull is empty when it is not merely a dry pool: the customer's upload not yet in force, or
    else the leads at the head of the pool may be called only later (``pull_not_now_reason``)."""
    held = upload_pending_reasons(customer_id=campaign.customer_id)
    if not held:
        not_now = pull_not_now_reason(campaign, passed_over)
        held = [not_now] if not_now is not None else []
    return [_reason(r) for r in held]


def _no_caller(username: str) -> LeadopsError:
    return LeadopsError(f"There is no caller '{username}'.", field="caller", code="unknown_caller")


def _caller(username: str) -> User:
    caller = caller_named(username)
    if caller is None:
        raise _no_caller(username)
    return caller


def audience_of(request: Request) -> str:
    """Return who reads the answer's sentences: a customer's key gets the customer wording, as the portal
    does (no agency staff names, no internal notes, nothing of another customer's); the agency's key the ops
    wording."""
    return CUSTOMER if request.auth.customer_id is not None else OPS


def _lead_state(lead: Lead, *, audience: str) -> dict[str, object]:
    return {
        "lead_id": lead.pk,
        "status": lead.status,
        "waiting_reason": lead.waiting_reason,
        "waiting_until": lead.waiting_until,
        "reasons": [_reason(r) for r in explain(lead, audience=audience)],
    }


class ApiView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey, AgencyKeyForWrites]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]

    def get_exception_handler(self):
        return api_exception_handler

    def get_scoped(self, find, pk: int):
        """Return ``find(key, pk)``, the one object of the key's scope, or 404; then check the key may act on it."""
        obj = find(self.request.auth, pk)
        if obj is None:
            raise Http404
        self.check_object_permissions(self.request, obj)
        return obj

    def validated(self, serializer_class, data) -> dict:
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class PullView(ApiView):
    @extend_schema(
        operation_id="leads_pull",
        summary="Lease the next leads of a campaign to a caller",
        request=s.PullRequestSerializer,
        responses={200: s.PullResponseSerializer, **ERRORS},
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        data = self.validated(s.PullRequestSerializer, request.data)
        found = campaign_and_caller(campaign_id, data["caller"], customer_id=request.auth.customer_id)
        if found is None:
            raise Http404
        campaign, caller = found
        self.check_object_permissions(request, campaign)
        if caller is None:
            raise _no_caller(data["caller"])
        return Response(
            _pull_body(campaign, caller, count=data["count"], api_key=request.auth, audience=audience_of(request))
        )

    @classmethod
    def as_view(cls, **initkwargs):
        """The view, with the everyday pull made without DRF's dispatch (``_lean_pull``): the dispatch, the
        body's parsing and its serializer cost a tenth of a pull's Python. Anything else goes the whole way,
        having done nothing (a refusal met once the pull began is rolled back, then answered by the dispatch)."""
        dispatched = super().as_view(**initkwargs)

        def view(request: HttpRequest, campaign_id: int) -> HttpResponse:
            answer = _lean_pull(request, campaign_id)
            return answer if answer is not None else dispatched(request, campaign_id=campaign_id)

        return functools.update_wrapper(view, dispatched)


def _pull_body(campaign, caller: User, *, count: int, api_key, audience) -> dict[str, object]:
    """Pull for ``caller`` and return the answer's body, the leases and their verdicts committed."""
    # The leases and the verdicts of the numbers handed out commit together, before the answer leaves: a
    # lead is leased if and only if what the dialer is told of it is recorded, for one WAL flush
    # (``campaigns.services.verdicts``).
    passed_over: list = []
    with transaction.atomic():
        pulled = leads_pull_dialable(
            campaign=campaign, caller=caller, count=count, audience=audience, passed_over=passed_over
        )
        handed_out = [
            HandedOut(lead_id=lead.pk, number=check.e164, reasons=[check.reason] if check.reason else [])
            for lead, checks in pulled
            for check in checks
        ]
        verdicts_record_pull(handed_out=handed_out, api_key=api_key, caller=caller)
    body = [
        {
            "lead_id": lead.pk,
            "priority": lead.priority,
            "attempts": lead.attempts,
            "last_attempt_at": lead.last_attempt_at,
            "contact": {
                "id": lead.contact_id,
                "name": lead.contact.full_name,
                "title": lead.contact.title,
                "account": lead.contact.account.name,
            },
            "numbers": [
                {
                    "number": check.e164,
                    "kind": check.kind,
                    "dialable": check.dialable,
                    "reason": _reason(check.reason) if check.reason else None,
                }
                for check in checks
            ],
            "lease_expires_at": lead.waiting_until,
        }
        for lead, checks in pulled
    ]
    # Already in the response's shape (``PullResponseSerializer`` documents it): rendered as it is.
    return {"leads": body, "reasons": [] if pulled else _pull_hold(campaign, passed_over)}


_PULL_ALLOW = "POST, OPTIONS"  # what DRF's dispatch says of this view (tests hold the two equal)
_PULL_BODY_MAX = 4096
_JSON_PARSER = JSONParser()


@functools.cache
def _pull_fields():
    # The request serializer's own fields, bound once: they read and refuse the body as the serializer does.
    return s.PullRequestSerializer().fields


def _lean_pull(request: HttpRequest, campaign_id: int) -> HttpResponse | None:
    """Answer a pull as ``PullView`` does, status, headers and body alike, or return None, having done nothing,
    when the request is not the everyday one: a POST of a JSON object whose fields the serializer's own
    fields accept, with the agency's key, for a campaign and a caller that exist and a pull that is not
    refused."""
    if request.method != "POST" or FORMAT_OVERRIDE in request.GET or request.content_type != "application/json":
        return None
    if request.content_params or not _accepts_json_plainly(request.headers.get("Accept", "")):
        return None
    # A pull's body is a few dozen bytes; a big one is DRF's to stream (``request.body`` would refuse it whole).
    if not request.META.get("CONTENT_LENGTH", "").isdigit() or int(request.META["CONTENT_LENGTH"]) > _PULL_BODY_MAX:
        return None
    try:
        found = _AUTHENTICATION.authenticate(request)
        data = _JSON_PARSER.parse(io.BytesIO(request.body), "application/json")
        if found is None or found[1].customer_id is not None or type(data) is not dict:
            return None
        fields = _pull_fields()
        username = fields["caller"].run_validation(fields["caller"].get_value(data))
        count = fields["count"].run_validation(fields["count"].get_value(data))
    except (AuthenticationFailed, ParseError, ValidationError):
        return None
    api_key = found[1]
    found = campaign_and_caller(campaign_id, username, customer_id=None)
    if found is None or found[1] is None:
        return None
    campaign, caller = found
    try:
        body = _pull_body(campaign, caller, count=count, api_key=api_key, audience=OPS)
    except LeadopsError:
        return None
    response = HttpResponse(_JSON.render(body), content_type=_JSON.media_type)
    response["Allow"] = _PULL_ALLOW
    return response


class DialCheckView(ApiView):
    @extend_schema(
        operation_id="lead_dial_check",
        summary="May this number be dialled for this lead now? The authoritative answer",
        parameters=[s.DialCheckQuerySerializer],
        responses={200: s.DialCheckResponseSerializer, **ERRORS},
    )
    def get(self, request: Request, lead_id: int) -> Response:
        data = self.validated(s.DialCheckQuerySerializer, request.query_params)
        # An empty ``at`` is a moment written wrong, never "now" (a form's query string drops an empty field).
        at = moment_in_past(data.get("at")) if "at" in request.query_params else None
        # Reading needs no object permission: the key's scope alone decides whether the lead exists for it.
        check = can_dial_lead(
            lead_id, data["number"], customer_id=request.auth.customer_id, audience=audience_of(request), at=at
        )
        if check is None:
            raise Http404
        if at is None:
            verdict_record_dial_check(lead_id=lead_id, check=check, api_key=request.auth)
        return Response(_dial_check_body(check))

    @classmethod
    def as_view(cls, **initkwargs):
        """The view, with the everyday question answered without DRF's dispatch (``_lean_dial_check``): the
        dialer asks it before every call, and the dispatch cost a fifth of its Python. Anything else — no key
        or a wrong one, a number the field refuses or that cannot be read, ``at``, a lead the key does not
        see, an ``Accept`` other than JSON — goes the whole way, before anything is done or recorded."""
        dispatched = super().as_view(**initkwargs)

        def view(request: HttpRequest, lead_id: int) -> HttpResponse:
            answer = _lean_dial_check(request, lead_id)
            return answer if answer is not None else dispatched(request, lead_id=lead_id)

        # ``cls``, ``initkwargs`` (read by the OpenAPI description) and ``csrf_exempt`` come along.
        return functools.update_wrapper(view, dispatched)


def _dial_check_body(check) -> dict[str, object]:
    return {
        "allowed": check.allowed,
        "number": check.number,
        "reasons": [_reason(r) for r in check.reasons],
        "next_allowed_at": check.next_allowed_at,
    }


_AUTHENTICATION = ApiKeyAuthentication()
_JSON = JSONRenderer()
_JSON_RANGES = frozenset({"*/*", "application/*", "application/json"})
_DIAL_CHECK_ALLOW = "GET, HEAD, OPTIONS"  # what DRF's dispatch says of this view (tests hold the two equal)
FORMAT_OVERRIDE = api_settings.URL_FORMAT_OVERRIDE  # "?format=…", which DRF's negotiation reads


@functools.cache
def _number_field():
    # The query serializer's own field, bound once: it reads and refuses the number as the serializer does.
    return s.DialCheckQuerySerializer().fields["number"]


def _accepts_json_plainly(accept: str) -> bool:
    """Whether DRF's negotiation would pick JSON for this ``Accept`` without weighing it: none, or media ranges
    without parameters (no ``q``) of which one is JSON's ("application/json, text/plain, */*"). Anything
    else is left to DRF's negotiation."""
    if not accept.strip():
        return True
    ranges = [part.strip().lower() for part in accept.split(",")]
    return not any(";" in r for r in ranges) and any(r in _JSON_RANGES for r in ranges)


def _lean_dial_check(request: HttpRequest, lead_id: int) -> HttpResponse | None:
    """Answer a dial check as ``DialCheckView`` does, status, headers and body alike, or return None, having
    done nothing, when the request is not the everyday one: a GET for now (no ``at``) with a key that
    authenticates, a number the query's field accepts and that can be read, for a lead the key sees."""
    if request.method != "GET" or "at" in request.GET or FORMAT_OVERRIDE in request.GET:
        return None
    if not _accepts_json_plainly(request.headers.get("Accept", "")):
        return None
    try:
        found = _AUTHENTICATION.authenticate(request)
        field = _number_field()
        number = field.run_validation(field.get_value(request.GET))
    except (AuthenticationFailed, ValidationError):
        return None
    if found is None:
        return None
    api_key = found[1]
    audience = CUSTOMER if api_key.customer_id is not None else OPS
    try:
        check = can_dial_lead(lead_id, number, customer_id=api_key.customer_id, audience=audience)
    except LeadopsError:
        return None
    if check is None:
        return None
    verdict_record_dial_check(lead_id=lead_id, check=check, api_key=api_key)
    response = HttpResponse(_JSON.render(_dial_check_body(check)), content_type=_JSON.media_type)
    response["Allow"] = _DIAL_CHECK_ALLOW
    return response


class CallView(ApiView):
    @extend_schema(
        operation_id="lead_call_record",
        summary="Record a call and apply its disposition",
        request=s.CallRequestSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                location=OpenApiParameter.HEADER,
                required=False,
                description="Replaying a request with the same key (per caller) records one call.",
                # ``call_record`` refuses a longer key (422): the schema says so.
                type={"type": "string", "maxLength": IDEMPOTENCY_KEY_MAX},
            )
        ],
        responses={201: s.CallResponseSerializer, **ERRORS},
    )
    def post(self, request: Request, lead_id: int) -> Response:
        lead = self.get_scoped(lead_for_key, lead_id)
        data = self.validated(s.CallRequestSerializer, request.data)
        caller = _caller(data["caller"])
        # The dialer names a disposition by its code; whether the campaign offers it is call_record's rule.
        call, created = call_record(
            lead=lead,
            caller=caller,
            disposition=data["disposition"],
            number=data["number"],
            notes=data["notes"],
            callback_at=data["callback_at"],
            idempotency_key=request.headers.get("Idempotency-Key", ""),
            actor=caller,
        )
        lead.refresh_from_db()
        body = {**_lead_state(lead, audience=audience_of(request)), "call_id": call.pk, "replayed": not created}
        headers = {} if created else {"Idempotent-Replayed": "true"}
        return Response(s.CallResponseSerializer(body).data, status=status.HTTP_201_CREATED, headers=headers)


class ReleaseView(ApiView):
    @extend_schema(
        operation_id="lead_release",
        summary="Return a leased lead to the pool",
        request=s.ReleaseRequestSerializer,
        responses={200: s.LeadStateSerializer, **ERRORS},
    )
    def post(self, request: Request, lead_id: int) -> Response:
        lead = self.get_scoped(lead_for_key, lead_id)
        data = self.validated(s.ReleaseRequestSerializer, request.data)
        caller = _caller(data["caller"]) if data.get("caller") else None
        lead = lead_release(lead=lead, caller=caller, actor=caller or f"api key {request.auth.prefix}")
        return Response(s.LeadStateSerializer(_lead_state(lead, audience=audience_of(request))).data)

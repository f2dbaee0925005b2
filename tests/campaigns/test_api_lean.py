"""The dial check's and the pull's everyday answers skip DRF's dispatch (``_lean_dial_check``, ``_lean_pull``):
each must answer exactly as the dispatch does — status, headers, body — and leave every other request to it,
having done nothing."""

import json

import pytest
from django.db import transaction

from campaigns.dialer.api import views
from campaigns.models import Block, Campaign, Lead, Verdict
from campaigns.services import BlockTarget, block_create
from tests.campaigns.api_factories import CallerFactory, DialerLeadFactory, api_key_for
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


# --- The pull ---------------------------------------------------------------------------------------------


def _pull_requests():
    lead = DialerLeadFactory()
    campaign = lead.campaign
    blocked = DialerLeadFactory(campaign=campaign)
    block_create(
        target=BlockTarget(phone=blocked.contact.phones.get().phone),
        source=Block.Source.CUSTOMER_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.CUSTOMER,
        customer=campaign.customer,
        actor="tests",
    )
    DialerLeadFactory(campaign=campaign)
    paused = DialerLeadFactory(campaign__customer=campaign.customer).campaign
    caller = CallerFactory(approved_for=[campaign, paused])
    Campaign.objects.filter(pk=paused.pk).update(status=Campaign.Status.PAUSED)
    stranger = CallerFactory()
    inactive = CallerFactory(approved_for=[campaign], is_active=False)
    _, agency = api_key_for()
    _, own = api_key_for(customer=campaign.customer)
    url = f"/api/v1/campaigns/{campaign.pk}/pull"

    def post(body, key=agency, content_type="application/json", **headers):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        extra = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
        return raw, content_type, {**extra, **headers}

    name = caller.username
    return [
        ("everyday", url, post({"caller": name, "count": 10})),
        ("one, by default", url, post({"caller": name})),
        ("unknown fields ignored", url, post({"caller": name, "count": 2, "note": "x"})),
        ("json asked", url, post({"caller": name}, HTTP_ACCEPT="application/json")),
        ("as axios asks", url, post({"caller": name}, HTTP_ACCEPT="application/json, text/plain, */*")),
        ("html asked", url, post({"caller": name}, HTTP_ACCEPT="text/html")),
        ("charset given", url, post({"caller": name}, content_type="application/json; charset=utf-8")),
        ("a form", url, post(b"caller=" + name.encode(), content_type="application/x-www-form-urlencoded")),
        ("not json", url, post(b"{caller:", content_type="application/json")),
        ("a list", url, post([{"caller": name}])),
        ("no caller", url, post({"count": 3})),
        ("a blank caller", url, post({"caller": "  "})),
        ("caller not a string", url, post({"caller": 7})),
        ("count as text", url, post({"caller": name, "count": "3"})),
        ("count too big", url, post({"caller": name, "count": 51})),
        ("count true", url, post({"caller": name, "count": True})),
        ("no such caller", url, post({"caller": "nobody-at-all"})),
        ("not approved", url, post({"caller": stranger.username})),
        ("inactive caller", url, post({"caller": inactive.username})),
        ("paused campaign", f"/api/v1/campaigns/{paused.pk}/pull", post({"caller": name})),
        ("no such campaign", "/api/v1/campaigns/999999999/pull", post({"caller": name})),
        ("a customer's key", url, post({"caller": name}, key=own)),
        ("no key", url, post({"caller": name}, key=None)),
        ("a wrong key", url, post({"caller": name}, key="lok_nothing_" + "x" * 40)),
        ("format json", url + "?format=json", post({"caller": name})),
        ("a big body", url, post({"caller": name, "padding": "x" * 5000})),
    ]


def _pulled(client, url, request):
    """Pull, and return the answer and the verdicts and leases it made; then undo it all, so that the next
    request meets the same pool."""
    body, content_type, headers = request
    with transaction.atomic():
        response = client.post(url, body, content_type=content_type, **headers)
        verdicts = list(Verdict.objects.order_by("id").values_list("lead_id", "number", "allowed", "reasons"))
        leased = list(Lead.objects.filter(leased_to__isnull=False).order_by("id").values_list("id", "leased_to_id"))
        transaction.set_rollback(True)
    content = response.content
    if response.get("Content-Type") == "application/json" and response.status_code == 200:
        # The lease's end is "now" plus the lease's length: the moment, not the answer, differs.
        answer = json.loads(content)
        for lead in answer["leads"]:
            assert lead.pop("lease_expires_at")
        content = json.dumps(answer).encode()
    headers = {name: response.get(name) for name in COMPARED_HEADERS}
    return (response.status_code, headers, content), verdicts, leased


def test_every_pull_is_answered_as_drfs_dispatch_answers_it(client, monkeypatch):
    # given: the same requests against the same pool, answered by the view as it is and by DRF's dispatch alone
    requests = _pull_requests()
    lean = {name: _pulled(client, url, request) for name, url, request in requests}
    monkeypatch.setattr(views, "_lean_pull", lambda request, campaign_id: None)
    dispatched = {name: _pulled(client, url, request) for name, url, request in requests}
    # then: the same status, headers and body, the same verdicts recorded and the same leases made
    for name, _, _ in requests:
        assert lean[name] == dispatched[name], name
    statuses = {name: answer[0] for name, (answer, _, _) in lean.items()}
    assert statuses["everyday"] == statuses["charset given"] == statuses["as axios asks"] == 200
    assert (statuses["no key"], statuses["a customer's key"], statuses["not approved"]) == (401, 403, 403)
    assert (statuses["not json"], statuses["count too big"], statuses["no such campaign"]) == (400, 422, 404)
    assert (statuses["paused campaign"], statuses["html asked"]) == (409, 406)
    everyday, verdicts, leased = lean["everyday"]
    assert [len(lead["numbers"]) for lead in json.loads(everyday[2])["leads"]] == [1, 1]  # the blocked one passed
    assert len(verdicts) == 2 and len(leased) == 2


def test_the_everyday_pull_does_not_go_through_drfs_dispatch(client, monkeypatch):
    # given: a dispatch that would fail
    lead = DialerLeadFactory()
    caller = CallerFactory(approved_for=[lead.campaign])
    _, key = api_key_for()

    def no_dispatch(*args, **kwargs):
        raise AssertionError("dispatched")

    monkeypatch.setattr(views.PullView, "dispatch", no_dispatch)
    # when
    response = client.post(
        f"/api/v1/campaigns/{lead.campaign.pk}/pull",
        {"caller": caller.username, "count": 5},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    # then
    assert response.status_code == 200
    assert [item["lead_id"] for item in response.json()["leads"]] == [lead.pk]
    assert Lead.objects.get(pk=lead.pk).leased_to == caller

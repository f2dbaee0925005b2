"""The dialer API's contract: keys, tenancy, pull, dial-check, calls, release, errors and the schema."""

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

import campaigns.dialer.api.admin  # noqa: F401  (campaigns/admin/ imports it too)
from campaigns.models import ApiKey, Block, Call, Lead, LeadStatus
from campaigns.selectors import CUSTOMER, explain
from campaigns.services import BlockTarget, block_create
from campaigns.services.api_keys import api_key_revoke
from suppressions.models import Entry
from tests.campaigns.api_factories import (
    CallerFactory,
    DialerCampaignFactory,
    DialerLeadFactory,
    api_key_for,
    pool_create,
)
from tests.campaigns.factories import ContactPhoneFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency_key(db) -> str:
    return api_key_for()[1]


def auth(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def number_of(lead: Lead) -> str:
    return lead.contact.phones.get().phone.e164


def pull(client, key, campaign, caller, count=10):
    return client.post(
        f"/api/v1/campaigns/{campaign.pk}/pull",
        {"caller": caller.username, "count": count},
        content_type="application/json",
        **auth(key),
    )


def post_call(client, key, lead, caller, headers=None, body=None, **fields):
    payload = {"caller": caller.username, "number": number_of(lead), "disposition": "no_answer", **fields}
    payload.update(body or {})
    return client.post(
        f"/api/v1/leads/{lead.pk}/calls", payload, content_type="application/json", **auth(key), **(headers or {})
    )


# --- authentication and tenancy -----------------------------------------------------------------


def test_a_request_without_a_key_is_refused_with_401_and_a_json_error(client):
    # given
    lead = DialerLeadFactory()
    # when
    response = client.get(f"/api/v1/leads/{lead.pk}/dial-check", {"number": number_of(lead)})
    # then
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer lok_abcdefgh_" + "x" * 43, "Bearer nonsense", "Token abc", "Bearer"])
def test_a_wrong_key_is_refused_with_401(client, agency_key, header):
    # given
    lead = DialerLeadFactory()
    # when
    response = client.get(f"/api/v1/leads/{lead.pk}/dial-check", {"number": number_of(lead)}, HTTP_AUTHORIZATION=header)
    # then
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_right_prefix_with_a_wrong_secret_is_refused_with_401(client):
    # given
    _, key = api_key_for()
    lead = DialerLeadFactory()
    # when
    response = client.get(f"/api/v1/leads/{lead.pk}/dial-check", {"number": number_of(lead)}, **auth(key[:-4] + "AAAA"))
    # then
    assert response.status_code == 401


def test_a_revoked_key_is_refused_with_401(client):
    # given
    api_key, key = api_key_for()
    api_key_revoke(api_key=api_key, actor=None)
    lead = DialerLeadFactory()
    # when
    response = client.get(f"/api/v1/leads/{lead.pk}/dial-check", {"number": number_of(lead)}, **auth(key))
    # then
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]


def test_only_the_hash_of_a_key_is_stored():
    # when
    api_key, key = api_key_for()
    # then
    stored = ApiKey.objects.get(pk=api_key.pk)
    assert key not in {stored.hashed_secret, stored.prefix, stored.name}
    assert key.startswith(f"lok_{stored.prefix}_")


def test_another_customers_key_sees_no_lead_and_no_campaign(client):
    # given
    lead = DialerLeadFactory()
    _, others_key = api_key_for(customer=DialerCampaignFactory().customer)
    # when
    dial_check = client.get(f"/api/v1/leads/{lead.pk}/dial-check", {"number": number_of(lead)}, **auth(others_key))
    pulled = pull(client, others_key, lead.campaign, CallerFactory())
    # then
    assert (dial_check.status_code, pulled.status_code) == (404, 404)
    assert dial_check.json()["error"]["code"] == "not_found"


def test_a_customers_key_reads_its_own_leads_but_changes_nothing(client):
    # given
    lead = DialerLeadFactory()
    _, key = api_key_for(customer=lead.customer)
    # when
    dial_check = client.get(f"/api/v1/leads/{lead.pk}/dial-check", {"number": number_of(lead)}, **auth(key))
    pulled = pull(client, key, lead.campaign, CallerFactory())
    # then
    assert dial_check.status_code == 200
    assert pulled.status_code == 403
    assert pulled.json()["error"]["code"] == "read_only_key"


@pytest.mark.parametrize("huge", [2**63, 2**64])
def test_an_id_beyond_any_row_is_a_404(client, agency_key, huge):
    # given
    caller = CallerFactory()
    # when
    dial_check = client.get(f"/api/v1/leads/{huge}/dial-check", {"number": "+12025550143"}, **auth(agency_key))
    pulled = client.post(
        f"/api/v1/campaigns/{huge}/pull",
        {"caller": caller.username},
        content_type="application/json",
        **auth(agency_key),
    )
    # then
    assert (dial_check.status_code, pulled.status_code) == (404, 404)


# --- pull ---------------------------------------------------------------------------------------


def test_pull_leases_leads_and_describes_each_with_its_numbers(client, agency_key):
    # given
    lead = DialerLeadFactory(priority=3)
    lead.contact.title = "CFO"
    lead.contact.save()
    caller = CallerFactory(approved_for=[lead.campaign])
    # when
    response = pull(client, agency_key, lead.campaign, caller, count=5)
    # then
    assert response.status_code == 200
    [pulled] = response.json()["leads"]
    lead.refresh_from_db()
    assert pulled["lead_id"] == lead.pk
    assert pulled["contact"] == {
        "id": lead.contact_id,
        "name": lead.contact.full_name,
        "title": "CFO",
        "account": lead.contact.account.name,
    }
    assert pulled["numbers"] == [{"number": number_of(lead), "kind": "direct", "dialable": True, "reason": None}]
    assert pulled["lease_expires_at"] == lead.waiting_until.isoformat().replace("+00:00", "Z")
    assert (lead.status, lead.leased_to) == (LeadStatus.WAITING, caller)


def test_pull_says_which_numbers_may_not_be_dialled_and_why(client, agency_key):
    # given
    lead = DialerLeadFactory()
    dnc = ContactPhoneFactory(contact=lead.contact).phone
    block, _ = block_create(
        target=BlockTarget(phone=dnc),
        source=Block.Source.OPS_PHONE_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        actor="tests",
    )
    # when
    response = pull(client, agency_key, lead.campaign, CallerFactory(approved_for=[lead.campaign]))
    # then
    numbers = {n["number"]: n for n in response.json()["leads"][0]["numbers"]}
    assert numbers[dnc.e164]["dialable"] is False
    assert numbers[dnc.e164]["reason"]["code"] == "platform_dnc"
    assert numbers[dnc.e164]["reason"]["block_id"] == block.pk
    assert "Do-Not-Call" in numbers[dnc.e164]["reason"]["message"]


@pytest.mark.parametrize(("body", "field"), [({"count": 51}, "count"), ({"caller": "nobody"}, "caller")])
def test_pull_names_the_field_it_cannot_accept(client, agency_key, body, field):
    # given
    lead = DialerLeadFactory()
    payload = {"caller": CallerFactory().username, "count": 1, **body}
    # when
    response = client.post(
        f"/api/v1/campaigns/{lead.campaign.pk}/pull", payload, content_type="application/json", **auth(agency_key)
    )
    # then
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


def test_a_customers_user_cannot_be_the_caller(client, agency_key):
    # given
    lead = DialerLeadFactory()
    user = UserFactory(is_staff=False, customer=lead.customer)
    # when
    response = pull(client, agency_key, lead.campaign, user)
    # then
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "unknown_caller",
        "message": f"There is no caller '{user.username}'.",
        "field": "caller",
    }
    lead.refresh_from_db()
    assert lead.status == LeadStatus.ELIGIBLE


def test_a_body_that_is_not_json_is_a_400(client, agency_key):
    # given
    lead = DialerLeadFactory()
    # when
    response = client.post(
        f"/api/v1/campaigns/{lead.campaign.pk}/pull", "{nope", content_type="application/json", **auth(agency_key)
    )
    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


@pytest.mark.postgres(
    "the pull's one lease statement is a data-modifying WITH; on SQLite a round is a SELECT and an UPDATE"
)
def test_a_pull_costs_the_same_statements_for_one_lead_or_ten(client, agency_key, django_assert_num_queries):
    # given: a process that has pulled both counts once (and compiled their lease statements)
    campaign = DialerCampaignFactory()
    pool_create(campaign=campaign, size=22)
    caller = CallerFactory(approved_for=[campaign])
    for count in (1, 10):
        pull(client, agency_key, campaign, caller, count=count)
    # when / then: the key; the campaign and the caller; the lease, which returns the leads; their numbers;
    # what the registries stop of them (one statement, ``suppressions.registries.numbers_reasons``); the
    # verdicts of the numbers handed out (one INSERT, ``campaigns.services.verdicts``); and the savepoint and
    # its release around the last four (in production the transaction they commit in: BEGIN and COMMIT)
    for count in (1, 10):
        with django_assert_num_queries(8):
            response = pull(client, agency_key, campaign, caller, count=count)
        assert len(response.json()["leads"]) == count


# --- dial-check ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("writing", "statements"),
    [
        # Each ends with the verdict's INSERT (``campaigns.services.verdicts``).
        pytest.param(lambda e164: e164, 3, id="E.164: the key, then the lead and its check in one, the verdict"),
        pytest.param(lambda e164: f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}", 4, id="national: the lead's region first"),
    ],
)
def test_an_allowed_dial_check_costs_three_statements_or_four(
    client, agency_key, django_assert_num_queries, writing, statements
):
    # given: a process that has answered once (and cached the content types the check names)
    lead = DialerLeadFactory()
    check, number = f"/api/v1/leads/{lead.pk}/dial-check", {"number": writing(number_of(lead))}
    client.get(check, number, **auth(agency_key))
    # when
    with django_assert_num_queries(statements):
        response = client.get(check, number, **auth(agency_key))
    # then
    assert response.json() == {"allowed": True, "number": number_of(lead), "reasons": [], "next_allowed_at": None}


def test_dial_check_allows_a_clean_number_written_in_national_format(client, agency_key):
    # given
    lead = DialerLeadFactory()
    e164 = number_of(lead)
    # when
    response = client.get(
        f"/api/v1/leads/{lead.pk}/dial-check",
        {"number": f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"},
        **auth(agency_key),
    )
    # then
    assert response.status_code == 200
    assert response.json() == {"allowed": True, "number": e164, "reasons": [], "next_allowed_at": None}


def test_dial_check_refuses_a_blocked_number_with_the_explain_sentence(client, agency_key):
    # given
    lead = DialerLeadFactory()
    block, _ = block_create(
        target=BlockTarget(contact=lead.contact),
        source=Block.Source.CUSTOMER_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    # when
    response = client.get(f"/api/v1/leads/{lead.pk}/dial-check", {"number": number_of(lead)}, **auth(agency_key))
    # then
    body = response.json()
    assert body["allowed"] is False
    assert body["reasons"][0]["block_id"] == block.pk
    assert body["reasons"][0]["message"].startswith(f"{lead.contact} is disqualified for {lead.customer}")


def test_a_customer_key_gets_the_customer_wording_without_staff_names_or_internal_notes(client):
    # given: ops disqualified the contact with an internal note; another customer's call put the number on
    # the platform Do-Not-Call list
    lead = DialerLeadFactory()
    ops = UserFactory(username="olivia-ops")
    block_create(
        target=BlockTarget(contact=lead.contact),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.COMPETITOR,
        reach=Block.Reach.CUSTOMER,
        actor=ops,
        note="Harbor is a competitor of Northwind since the merger",
    )
    block_create(
        target=BlockTarget(phone=lead.contact.phones.get().phone),
        source=Block.Source.DISPOSITION,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        actor=CallerFactory(username="rep-of-another-customer"),
        evidence_text="Do not call, Other Customer's Campaign",
        note="said so on the call for Other Customer",
    )
    _, customer_key = api_key_for(customer=lead.customer)
    check, number = f"/api/v1/leads/{lead.pk}/dial-check", {"number": number_of(lead)}

    # when
    for_customer = client.get(check, number, **auth(customer_key)).json()
    for_agency = client.get(check, number, **auth(api_key_for()[1])).json()

    # then
    customer_words = " ".join(r["message"] for r in for_customer["reasons"])
    assert [r["message"] for r in for_customer["reasons"]] == [
        r.message for r in explain(lead, number["number"], audience=CUSTOMER)
    ]
    assert "is on the agency's Do-Not-Call list" in customer_words
    assert "marked by the agency" in customer_words
    for internal in ("olivia-ops", "Harbor is a competitor", "rep-of-another-customer", "Other Customer"):
        assert internal not in customer_words
    agency_words = " ".join(r["message"] for r in for_agency["reasons"])
    assert "olivia-ops" in agency_words and "Harbor is a competitor" in agency_words


def test_a_customer_key_reads_a_note_ops_showed_to_the_customer(client):
    # given
    lead = DialerLeadFactory()
    block_create(
        target=BlockTarget(contact=lead.contact),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.EXISTING_CUSTOMER,
        reach=Block.Reach.CUSTOMER,
        actor=UserFactory(username="olivia-ops"),
        note="Already a client of yours since May",
        note_shown=True,
    )
    _, customer_key = api_key_for(customer=lead.customer)

    # when
    body = client.get(f"/api/v1/leads/{lead.pk}/dial-check", {"number": number_of(lead)}, **auth(customer_key)).json()

    # then
    [reason] = body["reasons"]
    assert 'Note: "Already a client of yours since May".' in reason["message"]
    assert "olivia-ops" not in reason["message"]


def test_a_customer_key_reads_a_live_suppression_entry_as_its_own_list(client):
    # given: an entry whose matching has not run yet
    lead = DialerLeadFactory()
    Entry.objects.create(customer=lead.customer, kind=Entry.Kind.PHONE, value=number_of(lead))
    _, customer_key = api_key_for(customer=lead.customer)

    # when
    body = client.get(f"/api/v1/leads/{lead.pk}/dial-check", {"number": number_of(lead)}, **auth(customer_key)).json()

    # then
    [reason] = body["reasons"]
    assert reason["code"] == "suppression_entry"
    assert "is on your suppression list (added by hand" in reason["message"]
    assert "ops" not in reason["message"] and "Undisqualify" not in reason["message"]


def test_a_refused_dial_check_words_every_reason_as_explain_does_without_loading_the_lead(
    client, agency_key, django_assert_num_queries
):
    # given: a block on the lead itself, one on its account, and one on its number
    lead = DialerLeadFactory()
    ops = UserFactory()
    for target, source, reach in [
        (BlockTarget(lead=lead), Block.Source.OPS_DISQUALIFY, Block.Reach.CAMPAIGN),
        (BlockTarget(account=lead.contact.account), Block.Source.OPS_DISQUALIFY, Block.Reach.CUSTOMER),
        (BlockTarget(phone=lead.contact.phones.get().phone), Block.Source.OPS_PHONE_DNC, Block.Reach.PLATFORM),
    ]:
        block_create(
            target=target,
            source=source,
            reason=Block.Reason.DO_NOT_CALL,
            reach=reach,
            campaign=lead.campaign if reach == Block.Reach.CAMPAIGN else None,
            actor=ops,
        )
    check, number = f"/api/v1/leads/{lead.pk}/dial-check", {"number": number_of(lead)}
    expected = [reason.message for reason in explain(lead, number["number"])]
    # when: the key, the check, the blocks with what their sentences read, the verdict
    with django_assert_num_queries(4):
        response = client.get(check, number, **auth(agency_key))
    # then
    assert [reason["message"] for reason in response.json()["reasons"]] == expected
    assert len(expected) == 3


@pytest.mark.parametrize("query", [{"number": "12345"}, {}])
def test_dial_check_of_an_unreadable_or_missing_number_is_a_422_naming_it(client, agency_key, query):
    # given
    lead = DialerLeadFactory()
    # when
    response = client.get(f"/api/v1/leads/{lead.pk}/dial-check", query, **auth(agency_key))
    # then
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "number"


# --- calls --------------------------------------------------------------------------------------


def test_recording_a_call_answers_201_with_the_leads_new_status(client, agency_key):
    # given
    lead = DialerLeadFactory()
    caller = CallerFactory(approved_for=[lead.campaign])
    # when
    response = post_call(client, agency_key, lead, caller, notes="rang out")
    # then
    assert response.status_code == 201
    body = response.json()
    call = Call.objects.get()
    assert body["call_id"] == call.pk
    assert (body["status"], body["waiting_reason"], body["reasons"], body["replayed"]) == (
        "waiting",
        "cooldown",
        [],
        False,
    )
    assert (call.caller, call.notes, call.disposition.code) == (caller, "rang out", "no_answer")


def test_a_disqualifying_call_answers_with_the_reasons(client, agency_key):
    # given
    lead = DialerLeadFactory()
    # when
    response = post_call(
        client, agency_key, lead, CallerFactory(approved_for=[lead.campaign]), disposition="not_interested"
    )
    # then
    body = response.json()
    assert body["status"] == "disqualified"
    assert body["reasons"][0]["code"] == Block.Source.DISPOSITION


def test_replaying_a_call_with_the_same_idempotency_key_records_one_call(client, agency_key):
    # given
    lead = DialerLeadFactory()
    caller = CallerFactory(approved_for=[lead.campaign])
    first = post_call(client, agency_key, lead, caller, headers={"HTTP_IDEMPOTENCY_KEY": "abc-1"})
    # when
    again = post_call(client, agency_key, lead, caller, headers={"HTTP_IDEMPOTENCY_KEY": "abc-1"})
    # then
    assert again.status_code == 201
    assert again.json()["call_id"] == first.json()["call_id"]
    assert again.json()["replayed"] is True
    assert again["Idempotent-Replayed"] == "true"
    assert Call.objects.count() == 1
    lead.refresh_from_db()
    assert lead.attempts == 1


def test_an_idempotency_key_reused_for_another_call_is_a_409(client, agency_key):
    # given
    lead = DialerLeadFactory()
    caller = CallerFactory(approved_for=[lead.campaign])
    post_call(client, agency_key, lead, caller, headers={"HTTP_IDEMPOTENCY_KEY": "abc-1"})
    # when
    response = post_call(
        client, agency_key, lead, caller, disposition="busy", headers={"HTTP_IDEMPOTENCY_KEY": "abc-1"}
    )
    # then
    assert response.status_code == 409
    assert response.json()["error"]["field"] == "idempotency_key"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"disposition": "sang_a_song"}, "disposition"),
        ({"number": "not a number"}, "number"),
        ({"number": "+12025550143"}, "number"),
        ({"caller": "nobody"}, "caller"),
        ({"disposition": "call_back_later"}, "callback_at"),
        ({"callback_at": "tomorrow"}, "callback_at"),
    ],
)
def test_a_call_the_api_cannot_accept_is_a_422_naming_the_field(client, agency_key, body, field):
    # given
    lead = DialerLeadFactory()
    # when
    response = post_call(client, agency_key, lead, CallerFactory(approved_for=[lead.campaign]), body=body)
    # then
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == field
    assert error["message"]
    assert not Call.objects.exists()


@pytest.mark.parametrize("retired", [False, True], ids=["unknown code", "switched-off disposition"])
def test_a_disposition_the_campaign_does_not_offer_is_refused_by_the_service_in_the_apis_shape(
    client, agency_key, retired
):
    # given a code the campaign does not offer: never had, or switched off
    lead = DialerLeadFactory()
    code = "no_answer" if retired else "sang_a_song"
    if retired:
        lead.campaign.dispositions.filter(code=code).update(is_active=False)
    # when a call with it is recorded
    response = post_call(client, agency_key, lead, CallerFactory(approved_for=[lead.campaign]), disposition=code)
    # then call_record's refusal is the answer, as the API's error body
    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "unknown_disposition",
            "message": f"'{code}' is not a disposition of the campaign {lead.campaign}.",
            "field": "disposition",
        }
    }
    assert not Call.objects.exists()


def test_a_callback_waits_until_its_time(client, agency_key):
    # given
    lead = DialerLeadFactory()
    callback_at = timezone.now() + timezone.timedelta(days=1)
    # when
    response = post_call(
        client,
        agency_key,
        lead,
        CallerFactory(approved_for=[lead.campaign]),
        disposition="call_back_later",
        callback_at=callback_at.isoformat(),
    )
    # then
    assert response.status_code == 201
    assert response.json()["waiting_reason"] == "callback"


# --- release ------------------------------------------------------------------------------------


def test_release_returns_the_lead_to_the_pool(client, agency_key):
    # given
    lead = DialerLeadFactory()
    caller = CallerFactory(approved_for=[lead.campaign])
    pull(client, agency_key, lead.campaign, caller)
    # when
    response = client.post(
        f"/api/v1/leads/{lead.pk}/release",
        {"caller": caller.username},
        content_type="application/json",
        **auth(agency_key),
    )
    # then
    assert response.status_code == 200
    assert response.json()["status"] == "eligible"


def test_release_of_another_callers_lease_is_a_409(client, agency_key):
    # given
    lead = DialerLeadFactory()
    pull(client, agency_key, lead.campaign, CallerFactory(approved_for=[lead.campaign]))
    # when
    response = client.post(
        f"/api/v1/leads/{lead.pk}/release",
        {"caller": CallerFactory(approved_for=[lead.campaign]).username},
        content_type="application/json",
        **auth(agency_key),
    )
    # then
    assert response.status_code == 409


def test_release_without_a_body_releases_whoever_holds_the_lease(client, agency_key):
    # given
    lead = DialerLeadFactory()
    pull(client, agency_key, lead.campaign, CallerFactory(approved_for=[lead.campaign]))
    # when
    response = client.post(f"/api/v1/leads/{lead.pk}/release", content_type="application/json", **auth(agency_key))
    # then
    assert response.status_code == 200
    assert response.json()["status"] == "eligible"


# --- schema and health --------------------------------------------------------------------------


def test_the_openapi_schema_is_served(client):
    # when
    response = client.get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    # then
    assert response.status_code == 200
    schema = response.json()
    assert {"/api/v1/campaigns/{campaign_id}/pull", "/api/v1/leads/{lead_id}/calls"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"


def test_health_answers_without_a_key(client):
    # when
    response = client.get("/api/v1/health")
    # then
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


# --- keys in the admin --------------------------------------------------------------------------


def test_the_admin_shows_a_new_key_once_and_stores_only_its_hash(client):
    # given
    admin_user = UserFactory(is_superuser=True)
    client.force_login(admin_user)
    # when
    response = client.post("/admin/campaigns/apikey/add/", {"name": "Dialer production", "customer": ""})
    # then
    assert response.status_code == 302
    api_key = ApiKey.objects.get()
    shown = [str(m) for m in get_messages(response.wsgi_request) if "copy it now" in str(m)]
    [message] = shown
    key = message.rsplit(" ", 1)[1]
    assert key.startswith(f"lok_{api_key.prefix}_")
    assert (api_key.name, api_key.created_by, api_key.customer) == ("Dialer production", admin_user, None)
    assert key in client.get("/admin/campaigns/apikey/").content.decode()  # the one showing
    assert key not in client.get("/admin/campaigns/apikey/").content.decode()
    assert key not in client.get(f"/admin/campaigns/apikey/{api_key.pk}/change/").content.decode()
    assert client.get("/api/v1/leads/1/dial-check", {"number": "x"}, **auth(key)).status_code == 404


def test_the_admin_revokes_keys(client):
    # given
    api_key, key = api_key_for()
    client.force_login(UserFactory(is_superuser=True))
    # when
    response = client.post("/admin/campaigns/apikey/", {"action": "revoke_selected", "_selected_action": [api_key.pk]})
    # then
    assert response.status_code == 302
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert client.get("/api/v1/leads/1/dial-check", {"number": "x"}, **auth(key)).status_code == 401

"""No agency detail reaches a customer: no internal note, no lift reason, no call note, no staff username.

Like the tenancy walker (``test_isolation.py``) this walks every portal URL from the URL conf with the ids
of customer A's own objects (every page, every value of every list filter, every CSV export), and every
answer A's own API key can get, over a scene where ops did everything they can do to A's leads with
distinctive words. Notes ops marked "shown to the customer", and what A's own users wrote, may appear;
both are checked to appear, so the walk is known to read the places a note would show.
"""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_filters.fields import DateRangeField

from campaigns.dialer.pool import leads_pull
from campaigns.models import (
    Account,
    Block,
    Campaign,
    ConsiderationStage,
    Contact,
    Disposition,
    Lead,
    LeadStatus,
    LostReason,
    Meeting,
    Opportunity,
    PhoneNumber,
)
from campaigns.selectors.explaining import OPS, blocks_stopping, explain
from campaigns.services import BlockTarget, block_create
from campaigns.services.callers import callers_approve
from campaigns.services.calls import call_record, lead_reopen, lead_unqualify, meeting_outcome_set
from campaigns.services.directory import default_dispositions
from campaigns.services.opportunities import opportunity_lost, opportunity_stage_set, opportunity_won
from campaigns.services.undisqualify import lead_undisqualify
from campaigns.services.undo_requests import undo_request_create, undo_request_decline
from campaigns.services.workflows import (
    accounts_disqualify,
    contacts_disqualify,
    customer_dnc_mark,
    phone_numbers_mark_dnc,
)
from suppressions.crm.models import CrmConnection, CrmEvent, CrmRule
from suppressions.crm.services import crm_connection_create, crm_rule_switch, crm_rule_templates_add
from suppressions.models import Entry, Upload
from suppressions.services import entries_remove
from tests.built_once import built_once
from tests.campaigns.api_factories import api_key_for
from tests.campaigns.factories import (
    AccountFactory,
    ContactFactory,
    ContactPhoneFactory,
    LeadFactory,
    PhoneNumberFactory,
    UserFactory,
)
from tests.portal.conftest import TENANT_A, TENANT_B, make_tenant, qualify, run_upload
from tests.portal.test_isolation import b_strings
from tests.portal.walking import content, portal_patterns, urls_of
from tests.suppressions.factories import csv_bytes

pytestmark = pytest.mark.django_db

# Agency staff, each named so that no page could show the name by chance.
STAFF = {
    "disqualifier": "staffer-quokka",
    "phone_dnc": "staffer-pangolin",
    "customer_dnc": "staffer-okapi",
    "unqualifier": "staffer-lemur",
    "lifter": "staffer-marmot",
    "caller": "caller-plover",
    "uploader": "staffer-wombat",
    "remover": "staffer-newt",
    "outcome": "staffer-ibex",
    "other_customers_caller": "caller-zeta-yak",
    "qualifier": "staffer-capybara",
    "follower": "staffer-narwhal",
    "crm_rule_changer": "staffer-tarsier",
    "undo_answerer": "staffer-pika",
}
# What ops wrote for each other.
INTERNAL = {
    "disqualify": "Harbor is a competitor of Northwind since the merger",
    "account": "internal account note axolotl",
    "campaign": "internal campaign note heron",
    "phone_dnc": "internal phone note kiwi",
    "platform_dnc": "internal platform note tamarin",
    "customer_dnc": "internal: J. Doe rang the okapi desk",
    "unqualify": "internal unqualify note lemur",
    "lifted_note": "internal lifted note dugong",
    "lift": "internal lift reason gecko",
    "reopen": "internal reopen reason civet",
    "call_notes": "internal call notes tapir",
    "other_customers_call_notes": "internal call notes of another customer ibis",
    "other_customers_block_note": "internal note of another customer gnu",
    "entry_removed": "internal remove reason newt",
    "lost_note": "internal lost note wapiti",
    "won_note": "internal won note quoll",
    "relost_note": "internal lost again note saiga",
}
# A note ops chose to show, and one the customer's own user wrote (the tenant's own mark): both may appear.
SHOWN = "We stopped calling the front desk at your request of 3 May"
CUSTOMERS_OWN = "asked Acme by email"

# The statuses a GET of each portal page may answer; every other page must answer 200.
POST_ONLY = {"account_dnc", "account_dnc_lift", "contact_dnc", "contact_dnc_lift", "logout", "upload_confirm"}


CALLERS = {"caller", "other_customers_caller"}
LIFTERS = {"lifter"}
QUALIFIERS = {"qualifier", "follower"}


def _permissions(role: str) -> list[str] | None:
    """Staff who are not callers are ops: they work every campaign (a caller only the ones approved for)."""
    if role in CALLERS:
        return None
    lifting = ["campaigns.lift_block", "campaigns.lift_platform_dnc", "campaigns.reopen_lead"]
    return ["campaigns.work_every_campaign", *(lifting if role in LIFTERS else [])]


def _lead(tenant, first: str, *, account: Account | None = None, number: str | None = None) -> Lead:
    contact = ContactFactory(account=account or tenant.account, first_name=first, last_name="Scene")
    if number:
        ContactPhoneFactory(contact=contact, phone=PhoneNumberFactory(e164=number))
    return LeadFactory(campaign=tenant.campaign, contact=contact)


def _with_dispositions(campaign: Campaign) -> None:
    Disposition.objects.bulk_create(default_dispositions(campaign))


def _contacts(lead: Lead):
    return Contact.objects.filter(pk=lead.contact_id)


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory):
    """The two tenants and the scene, built once for the module's three tests (each sees a fresh copy)."""

    def build(capture):
        a, b = make_tenant(capture, **TENANT_A), make_tenant(capture, **TENANT_B)
        return a, b, _scene(a, b, capture)

    with built_once(django_db_blocker, tmp_path_factory.mktemp("media"), build) as built:
        yield built


@pytest.fixture
def tenant_a(_built, db):
    return copy.deepcopy(_built[0])


@pytest.fixture
def tenant_b(_built, db):
    return copy.deepcopy(_built[1])


@pytest.fixture
def scene(_built, db):
    return copy.deepcopy(_built[2])


def _scene(tenant_a, tenant_b, capture) -> dict[str, Lead]:
    """Everything ops and callers do to customer A's leads, and a platform DNC made in customer B's campaign."""
    a = tenant_a
    _with_dispositions(a.campaign)
    _with_dispositions(tenant_b.campaign)
    staff = {
        role: UserFactory(
            username=username,
            is_staff=role not in CALLERS,
            permissions=_permissions(role),
        )
        for role, username in STAFF.items()
    }
    callers_approve(callers=[staff["caller"]], campaigns=[a.campaign], actor="tests")
    callers_approve(callers=[staff["other_customers_caller"]], campaigns=[tenant_b.campaign], actor="tests")
    lifter, caller = staff["lifter"], staff["caller"]
    leads: dict[str, Lead] = {}

    # Disqualify: a contact, a whole account, and a contact for one campaign only.
    leads["harbor"] = _lead(a, "Hal")
    contacts_disqualify(
        contacts=_contacts(leads["harbor"]),
        reason=Block.Reason.COMPETITOR,
        actor=staff["disqualifier"],
        note=INTERNAL["disqualify"],
    )
    leads["account"] = _lead(a, "Ivy", account=AccountFactory(customer=a.customer, name="Ibis Ltd", domain=""))
    accounts_disqualify(
        accounts=Account.objects.filter(pk=leads["account"].contact.account_id),
        reason=Block.Reason.EXISTING_CUSTOMER,
        actor=staff["disqualifier"],
        note=INTERNAL["account"],
    )
    leads["campaign"] = _lead(a, "Cal")
    contacts_disqualify(
        contacts=_contacts(leads["campaign"]),
        reason=Block.Reason.NOT_A_FIT,
        reach=Block.Reach.CAMPAIGN,
        campaign=a.campaign,
        actor=staff["disqualifier"],
        note=INTERNAL["campaign"],
    )
    # Mark Phone DNC: for this customer, and platform-wide.
    leads["phone_dnc"] = _lead(a, "Pia", number="+12024001001")
    phone_dnc = staff["phone_dnc"]
    phone_numbers_mark_dnc(
        phones=_phones(leads["phone_dnc"]),
        reach=Block.Reach.CUSTOMER,
        customer=a.customer,
        actor=phone_dnc,
        note=INTERNAL["phone_dnc"],
    )
    leads["platform_dnc"] = _lead(a, "Pla", number="+12024001002")
    phone_numbers_mark_dnc(phones=_phones(leads["platform_dnc"]), actor=phone_dnc, note=INTERNAL["platform_dnc"])
    # The customer's Do Not Call, recorded by ops on its word: the note stays internal unless shown.
    leads["customer_dnc"] = _lead(a, "Dee")
    customer_dnc_mark(
        contacts=_contacts(leads["customer_dnc"]), actor=staff["customer_dnc"], note=INTERNAL["customer_dnc"]
    )
    leads["shown"] = _lead(a, "Sue", number="+12024001003")
    customer_dnc_mark(contacts=_contacts(leads["shown"]), actor=staff["customer_dnc"], note=SHOWN, note_shown=True)
    # Unqualify; unqualify then reopen; disqualify then Undisqualify.
    leads["unqualified"] = _lead(a, "Una")
    unqualifier = staff["unqualifier"]
    lead_unqualify(
        lead=leads["unqualified"],
        reason=Block.Reason.NO_LONGER_INTERESTED,
        actor=unqualifier,
        note=INTERNAL["unqualify"],
    )
    leads["reopened"] = _lead(a, "Reo")
    lead_unqualify(lead=leads["reopened"], reason=Block.Reason.WRONG_NUMBER, actor=unqualifier, note="x")
    lead_reopen(lead=leads["reopened"], actor=lifter, reason=INTERNAL["reopen"])
    leads["lifted"] = _lead(a, "Lif")
    contacts_disqualify(
        contacts=_contacts(leads["lifted"]),
        reason=Block.Reason.OTHER,
        actor=staff["disqualifier"],
        note=INTERNAL["lifted_note"],
    )
    lead_undisqualify(lead=leads["lifted"], actor=lifter, reason=INTERNAL["lift"])
    # A caller: a lease, a call with notes that disqualifies, and a meeting whose outcome staff set.
    leads["called"] = _lead(a, "Nia", number="+12024001004")
    leads_pull(campaign=a.campaign, caller=caller, count=1)
    call_record(
        lead=leads["called"],
        caller=caller,
        disposition=Disposition.objects.get(campaign=a.campaign, code="not_interested"),
        number="+12024001004",
        notes=INTERNAL["call_notes"],
        actor=caller,
    )
    leads["meeting"] = _lead(a, "Mo", number="+12024001005")
    call_record(
        lead=leads["meeting"],
        caller=caller,
        disposition=Disposition.objects.get(campaign=a.campaign, code="meeting_booked"),
        number="+12024001005",
        notes=INTERNAL["call_notes"],
        callback_at=timezone.now() + timedelta(days=2),
        actor=caller,
    )
    meeting_outcome_set(
        meeting=Meeting.objects.get(lead=leads["meeting"]),
        outcome=Meeting.Outcome.NOT_QUALIFIED,
        actor=staff["outcome"],
    )
    # Ops upload a suppression list for A, and remove one of its entries with a reason.
    leads["uploaded"] = _lead(a, "Upa", number="+12024001006")
    staff_upload = run_upload(
        capture,
        customer=a.customer,
        user=staff["uploader"],
        content=csv_bytes([["phone"], ["+12024001006"], ["+12024001099"]]),
        name="from-the-agency.csv",
    )
    entries_remove(
        entries=Entry.objects.filter(upload=staff_upload, value="+12024001099"),
        actor=staff["remover"],
        reason=INTERNAL["entry_removed"],
    )
    # Customer B's caller records a Do not call on a number A's contact shares: platform-wide, from B's campaign.
    leads["shared"] = _lead(a, "Sha", number="+12024001007")
    ContactPhoneFactory(contact=tenant_b.lead.contact, phone=_phones(leads["shared"]).get())
    b_caller = staff["other_customers_caller"]
    call_record(
        lead=tenant_b.lead,
        caller=b_caller,
        disposition=Disposition.objects.get(campaign=tenant_b.campaign, code="do_not_call"),
        number="+12024001007",
        notes=INTERNAL["other_customers_call_notes"],
        actor=b_caller,
    )
    leads["shared_noted"] = _lead(a, "Shn", number="+12024001008")
    ContactPhoneFactory(contact=tenant_b.contact, phone=_phones(leads["shared_noted"]).get())
    block_create(
        target=BlockTarget(phone=_phones(leads["shared_noted"]).get()),
        source=Block.Source.DISPOSITION,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        actor=b_caller,
        evidence_text=f"Do not call, {tenant_b.campaign}, {tenant_b.contact}",
        note=INTERNAL["other_customers_block_note"],
    )
    # Qualify: one open then won (followed up with notes), one lost with a note by the approved caller, one
    # lost then lost again for another reason.
    leads["won"] = _lead(a, "Opal")
    won = qualify(leads["won"], actor=staff["qualifier"], project="Tower A")
    opportunity_stage_set(
        opportunity=won,
        consideration_stage=ConsiderationStage.objects.get(campaign=a.campaign, label="Decision"),
        actor=staff["follower"],
    )
    opportunity_won(opportunity=won, actor=staff["follower"], note=INTERNAL["won_note"])
    leads["lost"] = _lead(a, "Lou")
    qualify(leads["lost"], actor=caller, lost="Other", note=INTERNAL["lost_note"])
    leads["relost"] = _lead(a, "Rel")
    relost = qualify(leads["relost"], actor=staff["qualifier"], lost="Price")
    opportunity_lost(
        opportunity=relost,
        lost_reason=LostReason.objects.get(customer=a.customer, label="Other"),
        actor=staff["follower"],
        note=INTERNAL["relost_note"],
    )
    # Self-service: A's CRM connection (with a failed event), a rule ops changed, requests ops answered.
    connection = crm_connection_create(customer=a.customer, name="Acme HubSpot", kind="generic", actor=a.user)
    CrmEvent.objects.create(
        connection=connection,
        event_id="ev-bad",
        payload={},
        status=CrmEvent.Status.FAILED,
        error="Event 0 has no 'id'.",
    )
    (rule, _) = crm_rule_templates_add(customer=a.customer, actor=a.user)
    crm_rule_switch(rule=rule, is_active=False, actor=staff["crm_rule_changer"])
    asked = leads["harbor"]
    blocks, _ = blocks_stopping(asked)
    request = undo_request_create(lead=asked, block=blocks[0], reason="Not a competitor any more", actor=a.user)
    undo_request_decline(request=request, actor=staff["undo_answerer"], answer="They still are.")
    for lead in leads.values():
        lead.refresh_from_db()
    return leads


def _phones(lead: Lead):
    return PhoneNumber.objects.filter(contact_links__contact_id=lead.contact_id)


def _secrets(tenant_b) -> list[str]:
    return [*STAFF.values(), *INTERNAL.values(), *b_strings(tenant_b)]


def _leaks(body: str, secrets: list[str]) -> list[str]:
    lowered = body.lower()
    return [s for s in secrets if s.lower() in lowered]


def test_the_scene_holds_every_internal_word_where_ops_read_it(tenant_a, scene):
    # given: what ops read about A's leads
    ops_words = " ".join(r.message for lead in scene.values() for r in explain(lead, audience=OPS))

    # then: the notes and staff names of the active blocks are in the ops wording, so the walks below
    # would find them if the customer's wording repeated them
    for word in (
        "disqualify",
        "account",
        "campaign",
        "phone_dnc",
        "customer_dnc",
        "unqualify",
        "other_customers_block_note",
    ):
        assert INTERNAL[word] in ops_words, word
    for role in ("disqualifier", "phone_dnc", "customer_dnc", "unqualifier", "caller", "outcome"):
        assert STAFF[role] in ops_words, role
    assert scene["harbor"].status == scene["shared"].status == scene["shared_noted"].status == LeadStatus.DISQUALIFIED
    assert Block.objects.filter(lift_reason=INTERNAL["lift"]).exists()
    assert Upload.objects.filter(uploaded_by__username=STAFF["uploader"]).exists()
    opportunities = Opportunity.objects.filter(customer=tenant_a.customer)
    assert {o.qualified_by.username for o in opportunities} == {STAFF["qualifier"], STAFF["caller"]}
    assert set(opportunities.values_list("lost_note", flat=True)) >= {INTERNAL["lost_note"], INTERNAL["relost_note"]}
    notes = set(opportunities.values_list("events__note", flat=True))
    assert {INTERNAL["won_note"], INTERNAL["relost_note"]} <= notes


def _a_ids(tenant_a) -> dict:
    customer = tenant_a.customer
    return {
        "upload_id": lambda: list(Upload.objects.filter(customer=customer).values_list("pk", flat=True)),
        "entry_id": lambda: list(Entry.objects.active().filter(customer=customer).values_list("pk", flat=True)),
        "account_id": lambda: list(Account.objects.filter(customer=customer).values_list("pk", flat=True)),
        "contact_id": lambda: list(Contact.objects.filter(customer=customer).values_list("pk", flat=True)),
        "opportunity_id": lambda: list(Opportunity.objects.filter(customer=customer).values_list("pk", flat=True)),
        "uidb64": lambda: [urlsafe_base64_encode(force_bytes(tenant_a.user.pk))],
        "token": lambda: ["bogus-token-1234"],
        "connection_id": lambda: list(CrmConnection.objects.filter(customer=customer).values_list("pk", flat=True)),
        "rule_id": lambda: list(CrmRule.objects.filter(customer=customer).values_list("pk", flat=True)),
        # A few disqualified leads, and the blocks behind them (every pair is walked: a pair that does not
        # belong together is a page saying so).
        "lead_id": lambda: _asked_leads(customer),
        "block_id": lambda: sorted(
            {b.pk for lead in Lead.objects.filter(pk__in=_asked_leads(customer)) for b in blocks_stopping(lead)[0]}
        ),
    }


def _asked_leads(customer) -> list[int]:
    disqualified = Lead.objects.filter(customer=customer, status=LeadStatus.DISQUALIFIED).order_by("pk")
    return list(disqualified.values_list("pk", flat=True)[:3])


def _filter_queries(filterset) -> list[dict[str, object]]:
    """Return one query per value of every field of a list page's filter form; fail on a field it cannot fill."""
    today = timezone.localdate().isoformat()
    queries: list[dict[str, object]] = []
    for name, field in filterset.form.fields.items():
        if isinstance(field, DateRangeField):
            queries += [
                {f"{name}_after": today},
                {f"{name}_before": today},
                {f"{name}_after": today, f"{name}_before": today},
            ]
        elif isinstance(field, forms.DateField):
            queries.append({name: today})
        elif isinstance(field, forms.ModelChoiceField):
            queries += [{name: obj.pk} for obj in field.queryset]
        elif isinstance(field, forms.ChoiceField):
            queries += [{name: value} for value, _ in field.choices if value != ""]
        elif isinstance(field, forms.CharField):
            queries += [{name: term} for term in ("Scene", "Hal", "Harbor", "+1202400", "anvil", "staffer")]
        else:
            raise AssertionError(f"The walker cannot fill the filter field {name} ({type(field).__name__}): teach it.")
    return queries


def test_no_portal_page_filter_or_export_shows_an_internal_note_or_a_staff_name(client, tenant_a, tenant_b, scene):
    # given
    secrets = _secrets(tenant_b)
    client.force_login(tenant_a.user)
    pages: dict[str, str] = {}
    names = set()
    filtered: set[str] = set()

    # when: every URL with every id of A's objects
    for found in urls_of("portal", _a_ids(tenant_a)):
        names.add(found.name)
        client.force_login(tenant_a.user)
        response = client.get(found.url)
        body = content(response)

        # then
        assert not _leaks(body, secrets), f"GET {found.url} shows {_leaks(body, secrets)}"
        expected = 405 if found.name in POST_ONLY else 200
        assert response.status_code == expected, f"GET {found.url} answered {response.status_code}, not {expected}"
        pages[found.url] = body
        filterset = response.context.get("filter") if response.context else None
        if filterset is None:
            continue
        # and every value of every filter, on the list and on its CSV export
        targets = [found.name, *([f"{found.name}_csv"] if f"{found.name}_csv" in _names() else [])]
        for query in _filter_queries(filterset):
            for target in targets:
                filtered.add(target)
                url = reverse(f"portal:{target}")
                body = content(client.get(url, query))
                assert not _leaks(body, secrets), f"GET {url}?{query} shows {_leaks(body, secrets)}"
                pages[f"{url}?{query}"] = body

    # then: every export was walked with its filters, and what may show did show
    # An object's own export (an upload's rejected rows, a contact's dossier) has no filters to walk.
    exports = {
        name for name in names if name.endswith("_csv") and name not in ("upload_rejected_csv", "contact_dossier_csv")
    }
    assert exports and exports <= filtered, f"Exports walked without their filters: {exports - filtered}"
    every_page = "\n".join(pages.values())
    assert SHOWN in every_page
    assert CUSTOMERS_OWN in every_page
    assert "the agency" in every_page
    # the opportunities, their follow-up and the lost reasons were read (without who or their notes)
    assert "Qualified by the agency on" in every_page
    assert "Tower A" in every_page and "Lost: Other" in every_page and "Won" in every_page
    assert "Lost: Price" in every_page


def _names() -> set[str]:
    return {p.name for p in portal_patterns()}


def test_no_answer_to_the_customers_own_api_key_shows_an_internal_note_or_a_staff_name(
    client, tenant_a, tenant_b, scene
):
    # given
    secrets = _secrets(tenant_b)
    _, key = api_key_for(customer=tenant_a.customer)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    leads = list(Lead.objects.filter(customer=tenant_a.customer))
    ids = {
        "lead_id": lambda: [lead.pk for lead in leads] + [tenant_b.lead.pk],
        "campaign_id": lambda: [tenant_a.campaign.pk, tenant_b.campaign.pk],
    }
    numbers = sorted(
        {link.phone.e164 for lead in leads for link in lead.contact.phones.select_related("phone")} | {"+12025550100"}
    )
    body = {"caller": "walker", "count": 1, "number": "+12025550100", "disposition": "no_answer"}
    answers: list[str] = []

    # when: every route and method, the dial check with every number of A's contacts
    for found in urls_of("api", ids):
        for method in ("get", "post", "put", "patch", "delete"):
            queries = [{"number": n} for n in numbers] if found.name == "dial-check" and method == "get" else [None]
            for query in queries:
                if method == "get":
                    response = client.get(found.url, query, **auth)
                else:
                    response = getattr(client, method)(found.url, body, content_type="application/json", **auth)
                text = content(response)

                # then
                assert not _leaks(text, secrets), f"{method.upper()} {found.url} {query} shows {_leaks(text, secrets)}"
                answers.append(text)
    for path in ("/api/v1/no-such-route", "/api/v1/leads/1/no-such-action"):
        text = content(client.get(path, **auth))
        assert not _leaks(text, secrets)

    # then: the sentences a customer may read did show
    every_answer = "\n".join(answers)
    assert SHOWN in every_answer
    assert "is on the agency's Do-Not-Call list" in every_answer
    assert "marked by the agency" in every_answer

"""Tenant isolation: customer A's user never reaches or sees anything of customer B.

The walker discovers every URL pattern of the portal from the URL conf, so a page added later is covered
without anyone remembering to add it here. A new path parameter must be added to ``B_IDS`` (the walker
fails until it is), which is the moment to think about how that object is scoped.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from campaigns.models import Block, Lead, LeadStatus, Opportunity, UndoRequest
from campaigns.selectors.reports import ReportQuery, cell_of
from campaigns.services import BlockTarget, block_create
from campaigns.services.reporting import lead_facts_refresh
from campaigns.services.undo_requests import undo_request_create
from leadops.normalizing import format_phone
from suppressions.crm.models import CrmConnection, CrmEvent, CrmRule, CrmRuleChange
from suppressions.crm.services import crm_connection_create, crm_rule_templates_add
from suppressions.models import Entry
from tests.campaigns.factories import ContactFactory, ContactPhoneFactory, LeadFactory, PhoneNumberFactory, UserFactory
from tests.portal.conftest import ops_user, qualify
from tests.portal.walking import content, portal_patterns, urls_of

pytestmark = pytest.mark.django_db

# Path parameter → the ids of customer B's objects to try in it.
B_IDS = {
    "upload_id": lambda b: [b.upload.pk],
    "entry_id": lambda b: [b.entry.pk],
    "account_id": lambda b: [b.account.pk, b.marked_account.pk],
    "contact_id": lambda b: [b.contact.pk, b.marked_contact.pk, b.suppressed_lead.contact_id],
    "opportunity_id": lambda b: list(Opportunity.objects.filter(customer=b.customer).values_list("pk", flat=True)),
    # Password reset links: B's user with a token that is not valid (a valid token is the credential itself).
    "uidb64": lambda b: [urlsafe_base64_encode(force_bytes(b.user.pk))],
    "token": lambda b: ["bogus-token-1234"],
    # Self-service: B's CRM connection and rule, B's disqualified leads and the blocks behind them.
    "connection_id": lambda b: list(CrmConnection.objects.filter(customer=b.customer).values_list("pk", flat=True)),
    "rule_id": lambda b: list(CrmRule.objects.filter(customer=b.customer).values_list("pk", flat=True)),
    "lead_id": lambda b: [b.suppressed_lead.pk, b.marked_contact.leads.get().pk],
    "block_id": lambda b: list(
        Block.objects.active().filter(customer=b.customer).order_by("pk").values_list("pk", flat=True)[:3]
    ),
}
# Parameters that name no object of a customer: the page may answer (an "invalid link" page) but shows no B data.
NOT_OBJECT_IDS = {"uidb64", "token"}


def b_strings(b) -> list[str]:
    numbers = [s for s in b.strings if s.startswith("+")]
    return [*b.strings, *(format_phone(n) for n in numbers), b.user.email]


@pytest.fixture
def platform_dnc_from_b(tenant_a, tenant_b):
    """A number A's contact shares with B's contact, made Do-Not-Call platform-wide by a call in B's campaign."""
    shared = PhoneNumberFactory(e164="+12022009999")
    abe = ContactFactory(account=tenant_a.account, first_name="Abe", last_name="Shared")
    ContactPhoneFactory(contact=abe, phone=shared)
    lead = LeadFactory(campaign=tenant_a.campaign, contact=abe)
    ContactPhoneFactory(contact=tenant_b.contact, phone=shared)
    caller = UserFactory(username="zed-caller-globex")
    block_create(
        target=BlockTarget(phone=shared),
        source=Block.Source.DISPOSITION,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        actor=caller,
        evidence_text="Do not call, Zephyr Campaign, Quincy Zimmerwald",
        note="zeta secret note",
    )
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED
    return lead


# What B's opportunities are about: none of it may show to A.
B_OPPORTUNITY_WORDS = ["Zorbatron Tower"]


@pytest.fixture
def opportunities_of_b(tenant_b):
    """Two of B's leads qualified by ops: one open for B's project, one lost."""
    ops = ops_user("zed-ops-globex")
    qualify(tenant_b.lead, actor=ops, project=B_OPPORTUNITY_WORDS[0], stage="Decision")
    qualify(tenant_b.marked_contact.leads.get(), actor=ops, lost="Other", note="zeta lost note")
    assert Opportunity.objects.filter(customer=tenant_b.customer).count() == 2


@pytest.fixture
def self_service_of_b(tenant_b):
    """B's CRM connection (with a failed event), its standard rules, and a request B's user made."""
    connection = crm_connection_create(
        customer=tenant_b.customer, name="Zeta Salesforce", kind="generic", actor=tenant_b.user
    )
    CrmEvent.objects.create(
        connection=connection,
        event_id="zeta-event",
        payload={},
        status=CrmEvent.Status.FAILED,
        error="Zorbatron record has no id",
    )
    crm_rule_templates_add(customer=tenant_b.customer, actor=tenant_b.user)
    CrmRule.objects.filter(customer=tenant_b.customer, name="Open deals").update(name="Zeta open deals")
    lead = tenant_b.suppressed_lead
    lead.refresh_from_db()
    block = Block.objects.active().filter(customer=tenant_b.customer, source=Block.Source.SUPPRESSION).first()
    undo_request_create(lead=lead, block=block, reason="zeta reason to lift", actor=tenant_b.user)
    return connection


def _b_state(b) -> dict:
    return {
        "crm": sorted(CrmConnection.objects.filter(customer=b.customer).values_list("pk", "secret", "name")),
        "rules": sorted(CrmRule.objects.filter(customer=b.customer).values_list("pk", "name", "is_active", "value")),
        "rule_changes": CrmRuleChange.objects.filter(rule__customer=b.customer).count(),
        "undo_requests": sorted(UndoRequest.objects.filter(customer=b.customer).values_list("pk", "state")),
        "active_entries": sorted(Entry.objects.active().filter(customer=b.customer).values_list("pk", flat=True)),
        "active_blocks": sorted(Block.objects.active().filter(customer=b.customer).values_list("pk", flat=True)),
        "statuses": sorted(Lead.objects.filter(customer=b.customer).values_list("pk", "status")),
        "upload_removed": b.upload.__class__.objects.get(pk=b.upload.pk).removed_at,
        "opportunities": sorted(
            Opportunity.objects.filter(customer=b.customer).values_list("pk", "state", "consideration_stage_id")
        ),
    }


def test_every_portal_url_with_customer_b_ids_is_not_found_for_customer_a(
    client, tenant_a, tenant_b, platform_dnc_from_b, opportunities_of_b, self_service_of_b
):
    # given
    lead_facts_refresh(customer=tenant_b.customer, actor="tests")  # B's report has figures to leak
    before = _b_state(tenant_b)
    secrets = [
        *b_strings(tenant_b),
        "zed-caller-globex",
        "zed-ops-globex",
        "zeta lost note",
        *B_OPPORTUNITY_WORDS,
        "Zeta Salesforce",
        "Zeta open deals",
        "zeta reason to lift",
        self_service_of_b.secret,
    ]
    post_data = {
        "reason": "walker",
        "note": "walker",
        "entries": [tenant_b.entry.pk],
        # Nothing of B's but its ids: a form that echoes what was posted is not a leak.
        "username": "walker",
        "password": "wrong",
        "email": "walker@example.test",
        # A rule form, posted twice (a preview, a confirm) by the walk of each rule page.
        "name": "walker",
        "object_type": "company",
        "property": "lifecyclestage",
        "operator": "equals",
        "value": "customer",
        "effect": "account",
        "confirm": "1",
        "kind": "generic",
    }
    assert len(portal_patterns()) >= 20
    checked = 0

    b_ids = {name: (lambda ids=ids: ids(tenant_b)) for name, ids in B_IDS.items()}
    for found in urls_of("portal", b_ids):
        url, params = found.url, sorted(found.kwargs)
        for method in ("get", "post"):
            if found.name == "logout" and method == "post":
                continue  # signs A out; harmless and shows nothing
            # when
            client.force_login(tenant_a.user)
            response = getattr(client, method)(url, post_data if method == "post" else None)

            # then
            body = content(response)
            leaked = [s for s in secrets if s.lower() in body.lower()]
            assert not leaked, f"{method.upper()} {url} shows customer B's {leaked}"
            if params and not set(params) <= NOT_OBJECT_IDS:
                assert response.status_code == 404, f"{method.upper()} {url} answered {response.status_code}"
            else:
                assert response.status_code in (200, 302, 400, 405, 413), f"{method.upper()} {url}"
            checked += 1

    assert checked > 40
    assert _b_state(tenant_b) == before


def test_list_pages_ignore_customer_b_ids_in_their_filters(client, tenant_a, tenant_b, opportunities_of_b):
    # given
    client.force_login(tenant_a.user)
    secrets = [*b_strings(tenant_b), *B_OPPORTUNITY_WORDS]
    query = {
        "upload": tenant_b.upload.pk,
        "campaign": tenant_b.campaign.pk,
        "account": tenant_b.account.pk,
        "project": Opportunity.objects.filter(customer=tenant_b.customer).exclude(project=None).get().project_id,
        "stage": "Decision",
        "source": Block.Source.SUPPRESSION,
        # The lead report's pages: B's customer and campaign named, and a figure of B's report.
        "customer": tenant_b.customer.pk,
        "by": "campaign",
        "cell": cell_of(ReportQuery(customer_id=tenant_b.customer.pk, by=("campaign",)), "leads").to_param(),
    }
    lead_facts_refresh(customer=tenant_b.customer, actor="tests")

    for pattern in portal_patterns():
        if pattern.pattern.converters:
            continue
        # when
        response = client.get(reverse(f"portal:{pattern.name}"), query)

        # then
        body = content(response)
        assert not [s for s in secrets if s.lower() in body.lower()], pattern.name


def test_platform_dnc_caused_in_b_reads_only_as_the_agencys_list_for_a(client, tenant_a, tenant_b, platform_dnc_from_b):
    # given
    client.force_login(tenant_a.user)

    # when
    page = client.get(reverse("portal:disqualified"), {"q": "Abe"}).content.decode()

    # then
    assert "+1 202-200-9999 is on the agency&#x27;s Do-Not-Call list" in page
    assert "Zephyr" not in page and "zeta" not in page.lower() and "caller" not in page


def test_customer_user_cannot_reach_the_admin(client, tenant_a):
    # given
    client.force_login(tenant_a.user)

    # when
    response = client.get("/admin/")

    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_password_reset_mail_goes_only_to_customer_users(client, tenant_a):
    # given
    UserFactory(username="staffer", email="staffer@agency.test")

    # when
    client.post(reverse("portal:password_reset"), {"email": "staffer@agency.test"})
    client.post(reverse("portal:password_reset"), {"email": tenant_a.user.email})

    # then
    assert [m.to for m in mail.outbox] == [[tenant_a.user.email]]
    assert "/portal/password-reset/" in mail.outbox[0].body

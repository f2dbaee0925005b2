"""The customer's own CRM in the portal: connections (the secret shown once, rotated), rules from the
templates, each change previewed before it is saved and recorded, and named in the blocks' sentences."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Block, Lead, LeadStatus
from campaigns.selectors.explaining import CUSTOMER, explain
from suppressions.crm.models import CrmConnection, CrmRule, CrmRuleChange
from suppressions.crm.services import crm_events_process, crm_events_receive, crm_rule_switch
from suppressions.crm.services.signing import sign_leadops
from tests.campaigns.factories import AccountFactory, ContactFactory, LeadFactory, UserFactory
from tests.portal.conftest import ops_user

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    """The page's words: tags removed, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.content.decode()))


def _records(connection: CrmConnection, stages: dict[str, str]) -> None:
    """Sync one deal per domain with the given stage, and process it."""
    events = [
        {
            "id": f"deal-{domain}-{stage}-{time.monotonic_ns()}",
            "action": "upsert",
            "object_type": "deal",
            "external_id": domain,
            "domain": domain,
            "properties": {"dealstage": stage},
        }
        for domain, stage in stages.items()
    ]
    crm_events_receive(connection=connection, events=events)
    crm_events_process(connection=connection)


def _lead_at(tenant, domain: str, first: str) -> Lead:
    account = AccountFactory(customer=tenant.customer, name=f"{first} Co", domain=domain)
    return LeadFactory(campaign=tenant.campaign, contact=ContactFactory(account=account, first_name=first))


def _signed_post(client, connection: CrmConnection, secret: str):
    body = json.dumps(
        {"events": [{"id": f"e{time.monotonic_ns()}", "action": "delete", "object_type": "deal", "external_id": "x"}]}
    ).encode()
    stamp = str(int(time.time()))
    return client.generic(
        "POST",
        reverse("crm:events", args=[connection.pk]),
        body,
        content_type="application/json",
        HTTP_X_LEADOPS_TIMESTAMP=stamp,
        HTTP_X_LEADOPS_SIGNATURE=sign_leadops(secret=secret, timestamp=stamp, body=body),
    )


# --- Connections -----------------------------------------------------------------------------------------


def test_a_new_connection_shows_its_webhook_url_and_secret_once(portal_client, tenant_a):
    # when
    made = portal_client.post(reverse("portal:crm_connection_new"), {"name": "Acme HubSpot", "kind": "generic"})
    # then: the answer to the POST carries the secret, no later page does
    connection = CrmConnection.objects.get(customer=tenant_a.customer)
    assert made.status_code == 200
    assert connection.secret in made.content.decode()
    assert f"/api/v1/crm/{connection.pk}/events" in made.content.decode()
    assert made["Cache-Control"] == "no-store"
    for url in (reverse("portal:crm"), reverse("portal:crm_connection", args=[connection.pk])):
        assert connection.secret not in portal_client.get(url).content.decode(), url


def test_rotating_the_secret_refuses_the_old_one_at_once_through_the_real_webhook(client, portal_client, tenant_a):
    # given: a connection whose CRM signs with its secret
    portal_client.post(reverse("portal:crm_connection_new"), {"name": "Acme CRM", "kind": "generic"})
    connection = CrmConnection.objects.get(customer=tenant_a.customer)
    old = connection.secret
    assert _signed_post(client, connection, old).status_code == 202
    # when
    page = portal_client.post(reverse("portal:crm_connection_rotate", args=[connection.pk]))
    # then: the new secret is on that page only; the old one is refused, the new one accepted
    connection.refresh_from_db()
    assert connection.secret != old and connection.secret in page.content.decode()
    assert "The old secret stopped working" in _text(page)
    refused = _signed_post(client, connection, old)
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "bad_signature")
    assert _signed_post(client, connection, connection.secret).status_code == 202


def test_the_connection_page_says_its_health_and_failures_in_words(portal_client, tenant_a):
    # given: one good and one bad event
    portal_client.post(reverse("portal:crm_connection_new"), {"name": "Acme CRM", "kind": "generic"})
    connection = CrmConnection.objects.get(customer=tenant_a.customer)
    crm_events_receive(
        connection=connection,
        events=[
            {"id": "ok", "action": "upsert", "object_type": "company", "external_id": "1", "domain": "a.example"},
            {"id": "bad", "action": "upsert", "object_type": "contact", "external_id": "2", "phones": ["not a number"]},
        ],
    )
    crm_events_process(connection=connection)
    # when
    page = _text(portal_client.get(reverse("portal:crm_connection", args=[connection.pk])))
    # then
    assert "1 processed, 1 failed, 0 waiting" in page
    assert "The event bad received" in page and "could not be used:" in page


# --- Rules -----------------------------------------------------------------------------------------------


def test_a_standard_rule_is_previewed_then_saved_and_its_prediction_holds(
    portal_client, tenant_a, django_capture_on_commit_callbacks
):
    # given: two open deals (one lead leased to a caller now), a closed one
    connection = CrmConnection.objects.create(customer=tenant_a.customer, name="CRM")
    open_one, open_two = _lead_at(tenant_a, "open-one.example", "Olga"), _lead_at(tenant_a, "open-two.example", "Otto")
    closed = _lead_at(tenant_a, "closed.example", "Cleo")
    caller = UserFactory(username="caller-x")
    Lead.objects.filter(pk=open_two.pk).update(leased_to=caller, waiting_until=timezone.now() + timedelta(minutes=5))
    _records(
        connection,
        {
            "open-one.example": "appointmentscheduled",
            "open-two.example": "qualifiedtobuy",
            "closed.example": "closedlost",
        },
    )
    template = portal_client.get(reverse("portal:crm_rule_new"), {"template": "open-deals"})
    assert 'value="closedwon, closedlost"' in template.content.decode()
    data = {
        "name": "Open deals",
        "object_type": "deal",
        "property": "dealstage",
        "operator": "not_in",
        "value": "closedwon, closedlost",
        "effect": "account",
        "reason": "open_deal",
    }
    # when: previewed
    page = portal_client.post(reverse("portal:crm_rule_new"), data)
    preview = page.context["preview"]
    # then: what it would do, and nothing saved
    assert not CrmRule.objects.filter(customer=tenant_a.customer).exists()
    assert (preview.records_matching, preview.pool.leaving, preview.pool.leased_now) == (2, 2, 1)
    assert {lead.pk for lead in preview.pool.leaving_sample} == {open_one.pk, open_two.pk}
    assert "2 leads would leave your pools, 1 of them with a caller right now" in _text(page)
    # when: confirmed with the preview's digest
    with django_capture_on_commit_callbacks(execute=True):
        saved = portal_client.post(
            reverse("portal:crm_rule_new"),
            {**data, "previewed": page.context["form"]["previewed"].value(), "confirm": "1"},
        )
    # then: the prediction holds, and the change is recorded as the customer's user's
    assert saved.status_code == 302
    disqualified = set(
        Lead.objects.filter(customer=tenant_a.customer, status=LeadStatus.DISQUALIFIED).values_list("pk", flat=True)
    )
    assert {open_one.pk, open_two.pk} <= disqualified and closed.pk not in disqualified
    change = CrmRuleChange.objects.get(rule__customer=tenant_a.customer)
    assert (change.changed_by, change.before, change.after["value"]) == (tenant_a.user, None, "closedwon, closedlost")
    # and the sentence names the rule and who set it up, for the customer
    sentence = " ".join(r.message for r in explain(open_one, audience=CUSTOMER))
    assert f"rule 'Open deals', added by {tenant_a.user.username} on" in sentence


def test_a_confirm_without_the_previews_digest_saves_nothing_and_shows_the_preview(portal_client, tenant_a):
    # given
    data = {
        "name": "Customers",
        "object_type": "company",
        "property": "lifecyclestage",
        "operator": "equals",
        "value": "customer",
        "effect": "account",
        "reason": "existing_customer",
        "confirm": "1",
    }
    # when: confirmed straight away, or with a digest of other values
    first = portal_client.post(reverse("portal:crm_rule_new"), data)
    other = portal_client.post(reverse("portal:crm_rule_new"), {**data, "previewed": "0" * 32})
    # then
    assert not CrmRule.objects.exists()
    assert first.status_code == other.status_code == 200
    assert first.context["preview"] is not None


def test_the_portal_refuses_what_the_admin_refuses(portal_client, tenant_a):
    # given: "equals" needs a value (the model's own check, the admin's too)
    data = {
        "name": "Empty",
        "object_type": "company",
        "property": "lifecyclestage",
        "operator": "equals",
        "value": "",
        "effect": "account",
        "reason": "existing_customer",
        "confirm": "1",
    }
    # when
    page = portal_client.post(reverse("portal:crm_rule_new"), data)
    # then
    assert page.status_code == 400
    assert not CrmRule.objects.exists()
    assert page.context["preview"] is None


def test_switching_a_rule_off_previews_who_comes_back_and_then_they_do(
    portal_client, tenant_a, django_capture_on_commit_callbacks
):
    # given: a rule that blocks one lead; a second lead also stopped by the customer's own DNC mark
    connection = CrmConnection.objects.create(customer=tenant_a.customer, name="CRM")
    freed, kept = _lead_at(tenant_a, "freed.example", "Fay"), _lead_at(tenant_a, "kept.example", "Kit")
    _records(connection, {"freed.example": "presentation", "kept.example": "presentation"})
    with django_capture_on_commit_callbacks(execute=True):
        rule = CrmRule.objects.create(
            customer=tenant_a.customer,
            name="Open deals",
            object_type="deal",
            property="dealstage",
            operator="not_in",
            value="closedwon",
            reason=Block.Reason.OPEN_DEAL,
        )
        from suppressions.crm.services import crm_rule_evaluate

        crm_rule_evaluate(rule=rule)
    portal_client.post(reverse("portal:contact_dnc", args=[kept.contact_id]), {"note": ""})
    url = reverse("portal:crm_rule_switch", args=[rule.pk])
    # when
    page = portal_client.get(url)
    # then: one lead comes back (the other stays: its own mark still stops it)
    preview = page.context["preview"]
    assert (preview.pool.leaving, preview.pool.coming_back) == (0, 1)
    assert [lead.pk for lead in preview.pool.back_sample] == [freed.pk]
    assert not CrmRuleChange.objects.exists()
    # when: switched with the page's digest
    with django_capture_on_commit_callbacks(execute=True):
        done = portal_client.post(url, {"previewed": page.context["previewed"]})
    # then
    assert done.status_code == 302
    freed.refresh_from_db(), kept.refresh_from_db()
    assert (freed.status, kept.status) == (LeadStatus.ELIGIBLE, LeadStatus.DISQUALIFIED)
    change = CrmRuleChange.objects.get(rule=rule)
    assert (change.before["is_active"], change.after["is_active"], change.changed_by) == (True, False, tenant_a.user)


def test_a_rule_an_agency_person_changed_reads_the_agency_in_the_portal(
    portal_client, tenant_a, django_capture_on_commit_callbacks
):
    # given: ops change the customer's rule (switch it off and on again)
    connection = CrmConnection.objects.create(customer=tenant_a.customer, name="CRM")
    lead = _lead_at(tenant_a, "deal.example", "Dee")
    _records(connection, {"deal.example": "presentation"})
    staffer = ops_user("staffer-heron")
    with django_capture_on_commit_callbacks(execute=True):
        rule = CrmRule.objects.create(
            customer=tenant_a.customer,
            name="Deals",
            object_type="deal",
            property="dealstage",
            operator="is_set",
            reason=Block.Reason.OPEN_DEAL,
            is_active=False,
        )
        crm_rule_switch(rule=rule, is_active=True, actor=staffer)
    # when
    pages = [
        _text(portal_client.get(reverse("portal:disqualified"))),
        _text(portal_client.get(reverse("portal:crm_rule", args=[rule.pk]))),
    ]
    # then
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED
    assert "rule &#x27;Deals&#x27;, changed by the agency on" in pages[0]
    assert "changed by the agency" in pages[1]
    assert not any("staffer-heron" in page for page in pages)


def test_a_contact_rule_preview_matches_contacts_by_email_and_phone_as_the_evaluation_does(
    tenant_a, django_capture_on_commit_callbacks
):
    # given: CRM contacts carrying A's contact's email and A's other contact's number
    from suppressions.crm.services import crm_rule_create
    from suppressions.crm.services.preview import crm_rule_preview

    connection = CrmConnection.objects.create(customer=tenant_a.customer, name="CRM")
    crm_events_receive(
        connection=connection,
        events=[
            {
                "id": "c1",
                "action": "upsert",
                "object_type": "contact",
                "external_id": "1",
                "emails": ["ada@anvil-works.example"],
                "properties": {"status": "churned"},
            },
            {
                "id": "c2",
                "action": "upsert",
                "object_type": "contact",
                "external_id": "2",
                "phones": ["+1 202 200 1003"],
                "properties": {"status": "churned"},
            },
        ],
    )
    crm_events_process(connection=connection)
    other = ContactFactory(account=tenant_a.account, first_name="Pia")
    from tests.campaigns.factories import ContactPhoneFactory, PhoneNumberFactory

    ContactPhoneFactory(contact=other, phone=PhoneNumberFactory(e164="+12022001003"))
    other_lead = LeadFactory(campaign=tenant_a.campaign, contact=other)
    fields = {
        "name": "Churned",
        "object_type": "contact",
        "property": "status",
        "operator": "equals",
        "value": "churned",
        "effect": "contact",
        "reason": "other",
        "is_active": True,
    }
    # when
    preview = crm_rule_preview(customer=tenant_a.customer, fields=fields)
    with django_capture_on_commit_callbacks(execute=True):
        crm_rule_create(customer=tenant_a.customer, **fields, actor=tenant_a.user)
    # then
    assert {lead.pk for lead in preview.pool.leaving_sample} == {tenant_a.lead.pk, other_lead.pk}
    tenant_a.lead.refresh_from_db(), other_lead.refresh_from_db()
    assert tenant_a.lead.status == other_lead.status == LeadStatus.DISQUALIFIED
    # and once in force, the same preview finds nothing more to do
    assert crm_rule_preview(
        customer=tenant_a.customer, fields=fields, rule=CrmRule.objects.get(name="Churned")
    ).changes_nothing

"""Leads, contacts, numbers and emails added one at a time go through the same scrub as an import."""

import ast
from pathlib import Path

import pytest
from django.urls import reverse

from campaigns.dialer.pool import leads_pull
from campaigns.imports.models import FitRule
from campaigns.models import Block, Contact, ContactPhone, Lead, LeadStatus
from campaigns.services import contact_create, contact_email_add, contact_phone_add, lead_create
from tests.campaigns.api_factories import CallerFactory, DialerCampaignFactory
from tests.campaigns.factories import AccountFactory, ContactFactory, ContactPhoneFactory, LeadFactory
from tests.suppressions.factories import EntryFactory

pytestmark = pytest.mark.django_db


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def inline_management(*prefixes: str) -> dict[str, str]:
    data = {}
    for prefix in prefixes:
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
    return data


def test_a_lead_added_in_the_admin_whose_title_fails_a_fit_rule_is_disqualified_and_never_pulled(admin_client):
    # given: "title is none of Intern", and an intern with a clean number
    campaign = DialerCampaignFactory()
    FitRule.objects.create(campaign=campaign, field="title", operator="not_in", values="Intern")
    intern = ContactPhoneFactory(
        contact=ContactFactory(account=AccountFactory(customer=campaign.customer), title="Intern")
    ).contact
    # when
    response = admin_client.post(
        admin_url(Lead, "add"), {"campaign": campaign.pk, "contact": intern.pk, "priority": 0, "source": "admin"}
    )
    # then
    assert response.status_code == 302
    lead = Lead.objects.get(campaign=campaign, contact=intern)
    assert lead.status == LeadStatus.DISQUALIFIED
    assert Block.objects.get(lead=lead).source == Block.Source.FIT_RULE
    assert leads_pull(campaign=campaign, caller=CallerFactory(approved_for=[campaign]), count=10) == []


def test_a_contact_added_in_the_admin_is_matched_against_the_customers_suppressions(admin_client):
    # given
    account = AccountFactory()
    EntryFactory(customer=account.customer, kind="email", value="ada@example.com")
    # when
    response = admin_client.post(
        admin_url(Contact, "add"),
        {
            "account": account.pk,
            "first_name": "Ada",
            "last_name": "Byron",
            "title": "",
            "new_phone": "(202) 555-0143",
            "new_phone_kind": ContactPhone.Kind.MOBILE,
            "new_email": "Ada@Example.com",
            **inline_management("phones", "emails", "leads"),
        },
    )
    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    contact = Contact.objects.get(last_name="Byron")
    assert Block.objects.active().filter(contact=contact, source=Block.Source.SUPPRESSION).count() == 1
    campaign = DialerCampaignFactory(customer=account.customer)
    assert lead_create(campaign=campaign, contact=contact).status == LeadStatus.DISQUALIFIED


def test_a_number_added_to_a_contact_in_the_admin_is_matched_against_the_customers_suppressions(admin_client):
    # given: an Eligible lead, and the customer's list names a number the contact does not have yet
    lead = LeadFactory()
    assert lead.status == LeadStatus.ELIGIBLE
    EntryFactory(customer=lead.customer, kind="phone", value="+12025550199")
    contact = lead.contact
    # when
    response = admin_client.post(
        admin_url(Contact, "change", contact.pk),
        {
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "title": contact.title,
            "new_phone": "202 555 0199",
            "new_phone_kind": ContactPhone.Kind.MOBILE,
            **inline_management("phones", "emails", "leads"),
        },
    )
    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED


def test_a_title_changed_in_the_admin_is_judged_by_the_fit_rules(admin_client):
    # given
    lead = LeadFactory()
    FitRule.objects.create(campaign=lead.campaign, field="title", operator="not_in", values="Intern")
    contact = lead.contact
    # when
    response = admin_client.post(
        admin_url(Contact, "change", contact.pk),
        {
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "title": "Intern",
            "new_phone": "",
            "new_phone_kind": ContactPhone.Kind.DIRECT,
            **inline_management("phones", "emails", "leads"),
        },
    )
    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED


def test_an_email_added_to_a_contact_is_matched_against_the_customers_suppressions():
    # given
    lead = LeadFactory()
    EntryFactory(customer=lead.customer, kind="email", value="pat@new-employer.example")
    # when
    contact_email_add(contact=lead.contact, raw="Pat@New-Employer.example")
    # then
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED


def test_a_contact_created_at_a_suppressed_website_gets_its_leads_disqualified():
    # given: the customer suppressed the account's whole domain
    account = AccountFactory(domain="cyberdyne.example")
    EntryFactory(customer=account.customer, kind="domain", value="cyberdyne.example")
    campaign = DialerCampaignFactory(customer=account.customer)
    # when
    contact = contact_create(account=account, first_name="Ned", phones=[("202-555-0150", ContactPhone.Kind.DIRECT)])
    lead = lead_create(campaign=campaign, contact=contact)
    # then
    assert lead.status == LeadStatus.DISQUALIFIED
    assert Block.objects.active().filter(account=account, source=Block.Source.SUPPRESSION).count() == 1


def test_a_number_added_by_the_service_is_scrubbed_for_every_campaign_of_the_contact():
    # given: the contact is in two campaigns; one of them does not want interns
    lead = LeadFactory(contact__title="Intern")
    other = LeadFactory(contact=lead.contact, campaign__customer=lead.customer)
    FitRule.objects.create(campaign=other.campaign, field="title", operator="not_in", values="Intern")
    # when
    contact_phone_add(contact=lead.contact, raw="202-555-0177")
    # then
    lead.refresh_from_db()
    other.refresh_from_db()
    assert (lead.status, other.status) == (LeadStatus.ELIGIBLE, LeadStatus.DISQUALIFIED)


@pytest.mark.parametrize("module", ["campaigns/services/directory.py", "campaigns/services/scrubbing.py"])
def test_the_core_services_that_scrub_import_no_layer_above_the_core(module):
    # given
    tree = ast.parse(Path(module).read_text())
    # when
    imported = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)] + [
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    ]
    # then
    assert not [name for name in imported if name.startswith(("campaigns.imports", "suppressions"))]

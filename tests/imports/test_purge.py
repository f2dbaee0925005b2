"""Junk: a contact added by hand is judged as an import's row is, and a purge deletes junk without history,
never anything with compliance history, logging who, when and how many."""

import pytest
from django.db import DatabaseError

from campaigns.imports.models import ContactJunk, LeadImport, LeadImportIssue, PurgeLog
from campaigns.imports.services.purging import junk_purge, junk_purge_preview
from campaigns.models import Block, Contact, ContactPhone, Lead, LeadStatus
from campaigns.services import BlockTarget, block_create, blocks_lift, contact_create, contact_phone_add, lead_create
from campaigns.services.calls import call_record
from tests.campaigns.api_factories import CallerFactory, DialerCampaignFactory, disposition
from tests.campaigns.factories import AccountFactory, UserFactory
from tests.imports.test_adding import admin_url, inline_management
from tests.statements import statements_of

pytestmark = pytest.mark.django_db


def junk_contact(account, name="Testing!£##") -> Contact:
    return contact_create(account=account, first_name=name)


def test_a_contact_added_in_the_admin_with_a_junk_name_and_no_number_is_judged_junk(admin_client):
    # given
    account = AccountFactory()
    # when
    response = admin_client.post(
        admin_url(Contact, "add"),
        {
            "account": account.pk,
            "first_name": "Testing!£##",
            "last_name": "",
            "title": "",
            "new_phone": "",
            "new_phone_kind": ContactPhone.Kind.MOBILE,
            "new_email": "",
            **inline_management("phones", "emails", "leads"),
        },
    )
    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    judged = ContactJunk.objects.get(contact__first_name="Testing!£##")
    assert "name_test_value" in judged.rules and "no_possible_number" in judged.rules


def test_a_good_contact_is_not_judged_and_a_junk_one_that_gains_a_number_is_cleared():
    # given
    account = AccountFactory()
    good = contact_create(account=account, first_name="John", last_name="Doe", emails=["johndoe@gmail.com"])
    bad = junk_contact(account)
    assert not ContactJunk.objects.filter(contact=good).exists()
    assert ContactJunk.objects.filter(contact=bad).exists()
    # when
    contact_phone_add(contact=bad, raw="(202) 555-0143", kind=ContactPhone.Kind.MOBILE)
    # then
    assert not ContactJunk.objects.filter(contact=bad).exists()


def junk_row(lead_import: LeadImport, line: int) -> LeadImportIssue:
    return LeadImportIssue.objects.create(
        lead_import=lead_import, line_number=line, kind="junk", rules="name_no_letters", message="Junk", cells=["?"]
    )


def test_the_purge_deletes_junk_rows_and_junk_contacts_without_history_and_keeps_the_rest():
    # given
    campaign = DialerCampaignFactory()
    account = AccountFactory(customer=campaign.customer)
    lead_import = LeadImport.objects.create(campaign=campaign, original_name="list.csv", file="x.csv")
    junk_row(lead_import, 2), junk_row(lead_import, 3)
    warning = LeadImportIssue.objects.create(
        lead_import=lead_import, line_number=4, kind="warning", rules="", message="Email dropped", cells=[]
    )
    plain = junk_contact(account)
    lead_create(campaign=campaign, contact=plain)
    blocked = junk_contact(account, name="asdf")
    block = block_create(
        target=BlockTarget(contact=blocked), source="ops_disqualify", reason="junk", reach="customer", actor="tests"
    )[0]
    blocks_lift(blocks=Block.objects.filter(pk=block.pk), actor="tests", reason="Reviewed")
    called = junk_contact(account, name="xxx")
    called_lead = lead_create(campaign=campaign, contact=called)
    contact_phone_add(contact=called, raw="(202) 555-0177", kind="mobile")
    caller = CallerFactory(approved_for=[campaign])
    call_record(
        lead=called_lead,
        caller=caller,
        disposition=disposition(campaign, "no_answer"),
        number="+12025550177",
        actor=caller,
    )
    ContactJunk.objects.create(contact=called, rules="name_test_value")  # judged junk before its number came
    good = contact_create(account=account, first_name="John", last_name="Doe", emails=["johndoe@gmail.com"])
    ops = UserFactory()
    # when
    preview = junk_purge_preview()
    log = junk_purge(actor=ops)
    # then
    assert (preview.junk_rows, preview.contacts, preview.leads) == (2, 1, 1)
    assert (log.junk_rows, log.contacts, log.leads, log.actor) == (2, 1, 1, ops)
    assert not Contact.objects.filter(pk=plain.pk).exists()
    assert set(Contact.objects.values_list("pk", flat=True)) == {blocked.pk, called.pk, good.pk}
    assert list(LeadImportIssue.objects.all()) == [warning]
    assert Block.objects.filter(pk=block.pk).exists()
    # and a repeat finds nothing
    assert junk_purge_preview().nothing
    assert junk_purge(actor=ops).contacts == 0 and PurgeLog.objects.count() == 2


def test_the_purge_costs_the_same_statements_for_one_junk_contact_as_for_thirty():
    # given
    campaign = DialerCampaignFactory()

    def scene(n: int) -> None:
        account = AccountFactory(customer=campaign.customer)
        for _ in range(n):
            lead_create(campaign=campaign, contact=junk_contact(account))

    # when
    scene(1)
    one = statements_of(lambda: junk_purge(actor="tests"))
    scene(30)
    thirty = statements_of(lambda: junk_purge(actor="tests"))
    # then
    assert one == thirty
    assert PurgeLog.objects.order_by("id").last().contacts == 30 and not Lead.objects.exists()


def test_a_failed_purge_deletes_nothing():
    # given
    from tests.statements import database_refuses

    account = AccountFactory()
    contact = junk_contact(account)
    # when
    with pytest.raises(DatabaseError), database_refuses('INSERT INTO "imports_purgelog"'):
        junk_purge(actor="tests")
    # then
    assert Contact.objects.filter(pk=contact.pk).exists() and not PurgeLog.objects.exists()


def test_a_junk_contacts_leads_are_out_of_the_pool():
    # given
    campaign = DialerCampaignFactory()
    # when
    lead = lead_create(campaign=campaign, contact=junk_contact(AccountFactory(customer=campaign.customer)))
    # then
    assert lead.status == LeadStatus.DISQUALIFIED

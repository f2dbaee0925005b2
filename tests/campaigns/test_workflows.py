"""The ops workflows' services: Disqualify, Mark Phone DNC, Customer Do Not Call, Undisqualify of contacts
and accounts. Each records blocks set-based, recomputes the leads they reach, and is harmless to repeat."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Account, Block, Contact, Lead, LeadStatus, PhoneNumber
from campaigns.selectors import explain
from campaigns.selectors.impact import blocks_behind
from campaigns.services import lead_create
from campaigns.services.workflows import (
    accounts_disqualify,
    blocks_undisqualify,
    contacts_disqualify,
    customer_dnc_mark,
    phone_numbers_mark_dnc,
)
from leadops.errors import LeadopsError
from tests.campaigns.factories import ContactFactory, CustomerFactory, LeadFactory, UserFactory
from tests.campaigns.workflow_scenes import statuses, switchboard_scene

pytestmark = pytest.mark.django_db

D, E = LeadStatus.DISQUALIFIED, LeadStatus.ELIGIBLE


def test_disqualify_contact_takes_every_lead_of_the_contact_out_of_the_pool_for_the_customer(ops_user):
    # given
    scene = switchboard_scene()
    # when
    made = contacts_disqualify(
        contacts=Contact.objects.filter(pk=scene.tom.contact_id), reason=Block.Reason.COMPETITOR, actor=ops_user
    )
    # then
    assert made.created == 1
    assert made.leads_changed == 2
    assert statuses(scene.tom, scene.tom_other, scene.maria) == [D, D, E]
    block = made.blocks[0]
    assert (block.source, block.reach, block.customer, block.actor) == (
        Block.Source.OPS_DISQUALIFY,
        Block.Reach.CUSTOMER,
        scene.campaign.customer,
        ops_user,
    )
    assert "with Disqualify" in explain(scene.tom)[0].message


def test_disqualify_contact_for_one_campaign_leaves_its_other_campaigns_alone(ops_user):
    # given
    scene = switchboard_scene()
    # when
    contacts_disqualify(
        contacts=Contact.objects.filter(pk=scene.tom.contact_id),
        reason=Block.Reason.NOT_A_FIT,
        reach=Block.Reach.CAMPAIGN,
        campaign=scene.campaign,
        actor=ops_user,
    )
    # then
    assert statuses(scene.tom, scene.tom_other) == [D, E]


def test_disqualify_twice_changes_nothing_the_second_time(ops_user):
    # given
    scene = switchboard_scene()
    contacts = Contact.objects.filter(pk__in=[scene.tom.contact_id, scene.grace.contact_id])
    contacts_disqualify(contacts=contacts, reason=Block.Reason.DUPLICATE, actor=ops_user)
    # when
    again = contacts_disqualify(contacts=contacts, reason=Block.Reason.DUPLICATE, actor=ops_user)
    # then
    assert (again.created, again.leads_changed, len(again.blocks)) == (0, 0, 2)
    assert Block.objects.filter(source=Block.Source.OPS_DISQUALIFY).count() == 2


def test_disqualify_refuses_contacts_of_two_customers(ops_user):
    # given
    scene = switchboard_scene()
    contacts = Contact.objects.filter(pk__in=[scene.tom.contact_id, scene.zoe.contact_id])
    # when / then
    with pytest.raises(LeadopsError, match="one customer"):
        contacts_disqualify(contacts=contacts, reason=Block.Reason.OTHER, actor=ops_user)
    assert not Block.objects.exists()


def test_disqualify_refuses_a_reason_not_in_the_list(ops_user):
    # given
    scene = switchboard_scene()
    # when / then
    with pytest.raises(LeadopsError, match="Choose one of"):
        contacts_disqualify(
            contacts=Contact.objects.filter(pk=scene.tom.contact_id), reason=Block.Reason.SUPPRESSED, actor=ops_user
        )


def test_disqualify_for_a_campaign_of_another_customer_is_refused(ops_user):
    # given
    scene = switchboard_scene()
    # when / then
    with pytest.raises(LeadopsError, match="not this customer's"):
        contacts_disqualify(
            contacts=Contact.objects.filter(pk=scene.tom.contact_id),
            reason=Block.Reason.OTHER,
            reach=Block.Reach.CAMPAIGN,
            campaign=scene.zoe.campaign,
            actor=ops_user,
        )


def test_disqualify_account_stops_its_contacts_and_leads_imported_later(ops_user):
    # given
    scene = switchboard_scene()
    # when
    made = accounts_disqualify(
        accounts=Account.objects.filter(pk=scene.account.pk), reason=Block.Reason.EXISTING_CUSTOMER, actor=ops_user
    )
    later = lead_create(campaign=scene.campaign, contact=LeadFactory(campaign=scene.campaign).contact)
    newcomer = ContactFactory(account=scene.account)
    newcomer_lead = lead_create(campaign=scene.campaign, contact=newcomer)
    # then
    assert made.leads_changed == 4
    assert statuses(scene.maria, scene.tom, scene.grace, scene.tom_other, scene.zoe) == [D, D, D, D, E]
    assert newcomer_lead.status == D
    assert later.status == E


def test_disqualifying_many_contacts_is_a_few_statements(ops_user, django_assert_max_num_queries):
    # given
    scene = switchboard_scene()
    for n in range(60):
        LeadFactory(campaign=scene.campaign, contact=ContactFactory(account=scene.account, first_name=f"P{n}"))
    contacts = Contact.objects.filter(account=scene.account)
    # when
    with django_assert_max_num_queries(12):
        made = contacts_disqualify(contacts=contacts, reason=Block.Reason.OTHER, actor=ops_user)
    # then
    assert made.created == 63
    assert not Lead.objects.filter(contact__account=scene.account).exclude(status=D).exists()


def test_shared_switchboard_dnc_keeps_contact_with_clean_mobile_eligible(ops_user):
    # given
    scene = switchboard_scene()
    # when
    made = phone_numbers_mark_dnc(phones=PhoneNumber.objects.filter(pk=scene.board.pk), actor=ops_user)
    # then
    assert made.created == 1
    assert statuses(scene.maria, scene.tom, scene.grace, scene.tom_other) == [E, D, D, D]
    assert explain(scene.maria) == []
    assert "+1 202-555-0143 is on the platform Do-Not-Call list" in explain(scene.tom)[0].message
    assert "with Mark Phone DNC" in explain(scene.tom)[0].message


def test_phone_dnc_is_platform_wide_by_default(ops_user):
    # given
    scene = switchboard_scene()
    # when
    phone_numbers_mark_dnc(phones=PhoneNumber.objects.filter(pk=scene.board.pk), actor=ops_user)
    # then
    assert statuses(scene.zoe) == [D]
    assert Block.objects.get().is_platform_dnc


def test_phone_dnc_for_one_customer_leaves_other_customers_dialling_it(ops_user):
    # given
    scene = switchboard_scene()
    # when
    phone_numbers_mark_dnc(
        phones=PhoneNumber.objects.filter(pk=scene.board.pk),
        reach=Block.Reach.CUSTOMER,
        customer=scene.campaign.customer,
        actor=ops_user,
    )
    # then
    assert statuses(scene.tom, scene.zoe) == [D, E]


def test_phone_dnc_twice_changes_nothing(ops_user):
    # given
    scene = switchboard_scene()
    phones = PhoneNumber.objects.filter(pk=scene.board.pk)
    phone_numbers_mark_dnc(phones=phones, actor=ops_user)
    # when
    again = phone_numbers_mark_dnc(phones=phones, actor=ops_user)
    # then
    assert (again.created, again.leads_changed) == (0, 0)
    assert Block.objects.count() == 1


def test_customer_dnc_records_the_customers_own_instruction(ops_user):
    # given
    scene = switchboard_scene()
    # when
    made = customer_dnc_mark(
        accounts=Account.objects.filter(pk=scene.account.pk), actor=ops_user, note="Email from the customer"
    )
    # then
    block = made.blocks[0]
    assert (block.source, block.reason, block.reach, block.target) == (
        Block.Source.CUSTOMER_DNC,
        Block.Reason.DO_NOT_CALL,
        Block.Reach.CUSTOMER,
        Block.Target.ACCOUNT,
    )
    assert statuses(scene.maria, scene.zoe) == [D, E]
    assert "own Do Not Call instruction" in explain(scene.maria)[0].message


def test_customer_dnc_by_a_customers_own_user_reaches_only_that_customer():
    # given a contact of one customer and the portal user of another
    scene = switchboard_scene()
    stranger = UserFactory(customer=CustomerFactory(), is_staff=False)
    # when the stranger marks the contact Do Not Call
    with pytest.raises(LeadopsError) as refused:
        customer_dnc_mark(contacts=Contact.objects.filter(pk=scene.tom.contact_id), actor=stranger)
    # then nothing is recorded and the lead stays in the pool
    assert refused.value.field == "selection"
    assert not Block.objects.filter(source=Block.Source.CUSTOMER_DNC).exists()
    assert statuses(scene.tom) == [E]


def test_customer_dnc_by_the_customers_own_user_is_recorded_as_theirs():
    # given the portal user of the contact's own customer
    scene = switchboard_scene()
    contact = Contact.objects.get(pk=scene.tom.contact_id)
    own = UserFactory(customer=contact.customer, is_staff=False)
    # when they mark the contact Do Not Call, twice
    first = customer_dnc_mark(contacts=Contact.objects.filter(pk=contact.pk), actor=own, note="asked")
    again = customer_dnc_mark(contacts=Contact.objects.filter(pk=contact.pk), actor=own, note="asked")
    # then one block is theirs and the repeat changes nothing
    assert (first.created, again.created) == (1, 0)
    assert (first.blocks[0].actor, first.blocks[0].note) == (own, "asked")
    assert statuses(scene.tom) == [D]


def test_customer_dnc_needs_contacts_or_accounts(ops_user):
    with pytest.raises(LeadopsError):
        customer_dnc_mark(actor=ops_user)


def test_undisqualify_contact_lifts_its_blocks_but_an_ops_user_keeps_the_platform_dnc(ops_user):
    # given
    scene = switchboard_scene()
    phone_numbers_mark_dnc(phones=PhoneNumber.objects.filter(pk=scene.board.pk), actor=ops_user)
    contacts = Contact.objects.filter(pk=scene.tom.contact_id)
    contacts_disqualify(contacts=contacts, reason=Block.Reason.OTHER, actor=ops_user)
    # when
    result = blocks_undisqualify(blocks=blocks_behind(contacts=contacts), actor=ops_user, reason="Spoke to them")
    # then
    assert [b.source for b in result.lifted] == [Block.Source.OPS_DISQUALIFY]
    assert [k.block.source for k in result.kept] == [Block.Source.OPS_PHONE_DNC]
    assert "Ops lead" in result.kept[0].why
    assert statuses(scene.tom) == [D]


def test_undisqualify_contact_as_ops_lead_lifts_the_platform_dnc_for_everyone_sharing_it(ops_user, ops_lead):
    # given
    scene = switchboard_scene()
    phone_numbers_mark_dnc(phones=PhoneNumber.objects.filter(pk=scene.board.pk), actor=ops_user)
    contacts = Contact.objects.filter(pk=scene.tom.contact_id)
    # when
    result = blocks_undisqualify(blocks=blocks_behind(contacts=contacts), actor=ops_lead, reason="Withdrew it")
    # then
    assert len(result.lifted) == 1 and not result.kept
    assert statuses(scene.tom, scene.grace, scene.zoe) == [E, E, E]
    lifted = Block.objects.get()
    assert (lifted.lifted_by, lifted.lift_reason) == (ops_lead, "Withdrew it")


def test_undisqualify_needs_a_reason(ops_user):
    with pytest.raises(LeadopsError, match="Say why"):
        blocks_undisqualify(blocks=Block.objects.all(), actor=ops_user, reason="  ")


def test_undisqualify_twice_lifts_nothing_the_second_time(ops_lead):
    # given
    scene = switchboard_scene()
    accounts = Account.objects.filter(pk=scene.account.pk)
    accounts_disqualify(accounts=accounts, reason=Block.Reason.OTHER, actor=ops_lead)
    blocks_undisqualify(blocks=blocks_behind(accounts=accounts), actor=ops_lead, reason="Mistake")
    # when
    again = blocks_undisqualify(blocks=blocks_behind(accounts=accounts), actor=ops_lead, reason="Mistake")
    # then
    assert (again.lifted, again.kept) == ([], [])
    assert statuses(scene.maria, scene.tom) == [E, E]


# What a write just made is named by the ids its statement returned: the embedded SQLite keeps a timestamp in
# the text form of whoever wrote it, so "the blocks stamped now" silently missed the new blocks of a CRM rule.
_BY_TIMESTAMP = re.compile(r'WHERE .*"(created_at|lifted_at)" = (\'|%s)')


def test_disqualify_recomputes_the_blocks_it_inserted_by_their_ids_not_their_timestamp(ops_user):
    # given
    scene = switchboard_scene()
    contacts = Contact.objects.filter(pk__in=[scene.tom.contact_id, scene.grace.contact_id])
    # when
    with CaptureQueriesContext(connection) as queries:
        made = contacts_disqualify(contacts=contacts, reason=Block.Reason.COMPETITOR, actor=ops_user)
    # then
    assert (made.created, made.leads_changed) == (2, 3)
    assert statuses(scene.tom, scene.grace, scene.tom_other, scene.maria) == [D, D, D, E]
    assert not [query["sql"] for query in queries if _BY_TIMESTAMP.search(query["sql"])]


def test_lifting_recomputes_the_blocks_it_lifted_by_their_ids_not_their_timestamp(ops_user):
    # given
    scene = switchboard_scene()
    accounts = Account.objects.filter(pk=scene.account.pk)
    accounts_disqualify(accounts=accounts, reason=Block.Reason.OTHER, actor=ops_user)
    # when
    with CaptureQueriesContext(connection) as queries:
        result = blocks_undisqualify(blocks=blocks_behind(accounts=accounts), actor=ops_user, reason="Mistake")
    # then
    assert len(result.lifted) == 1
    assert statuses(scene.maria, scene.tom, scene.grace, scene.tom_other) == [E, E, E, E]
    assert not [query["sql"] for query in queries if _BY_TIMESTAMP.search(query["sql"])]

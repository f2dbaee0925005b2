"""What the confirmation pages say will change is what changes, and saying it writes nothing."""

import pytest
from django.utils import timezone

from campaigns.models import (
    Account,
    Block,
    Contact,
    ContactPhone,
    Lead,
    LeadStatus,
    PhoneNumber,
)
from campaigns.selectors.impact import (
    accounts_disqualify_impact,
    blocks_behind,
    contacts_disqualify_impact,
    phone_dnc_impact,
)
from campaigns.services import BlockTarget, block_create
from campaigns.services.workflows import accounts_disqualify, phone_numbers_mark_dnc
from tests.campaigns.factories import AccountFactory, ContactPhoneFactory, LeadFactory
from tests.campaigns.workflow_scenes import disqualified_ids, switchboard_scene

pytestmark = pytest.mark.django_db


def test_phone_dnc_impact_names_exactly_the_leads_that_then_leave_the_pool(ops_user):
    # given: Maria keeps her mobile; Grace's other number is wrong for her; Tom's second lead is waiting
    scene = switchboard_scene()
    wrong = ContactPhoneFactory(contact=scene.grace.contact).phone
    block_create(
        target=BlockTarget(contact=scene.grace.contact, phone=wrong),
        source=Block.Source.DISPOSITION,
        reason=Block.Reason.WRONG_NUMBER,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    Lead.objects.filter(pk=scene.tom_other.pk).update(
        status=LeadStatus.WAITING, waiting_until=timezone.now() + timezone.timedelta(hours=2)
    )
    phones = PhoneNumber.objects.filter(pk=scene.board.pk)
    before = disqualified_ids(scene.leads)
    # when
    impact = phone_dnc_impact(phones=phones)
    phone_numbers_mark_dnc(phones=phones, actor=ops_user)
    # then
    became = disqualified_ids(scene.leads) - before
    assert {lead.pk for lead in impact.leads} == became
    assert became == {scene.tom.pk, scene.grace.pk, scene.tom_other.pk, scene.zoe.pk}
    assert impact.leaving == 4
    assert {(c.campaign, c.eligible, c.waiting) for c in impact.campaigns} == {
        ("Clinic outreach", 2, 0),
        ("Pharmacy partners", 0, 1),
        ("Solar", 1, 0),
    }


def test_phone_dnc_impact_lists_every_contact_sharing_the_number_across_accounts():
    # given
    scene = switchboard_scene()
    # when
    impact = phone_dnc_impact(phones=PhoneNumber.objects.filter(pk=scene.board.pk))
    # then
    number = impact.numbers[0]
    assert (number.contacts_total, number.accounts_total, number.customers_total) == (4, 2, 2)
    by_name = {s.contact.first_name: s for s in number.contacts}
    assert by_name["Maria"].stays_reachable and by_name["Maria"].other_numbers == 1
    assert by_name["Tom"].leads_leaving == 2
    assert not by_name["Zoe"].stays_reachable


def test_phone_dnc_impact_for_one_customer_counts_only_its_leads():
    # given
    scene = switchboard_scene()
    # when
    impact = phone_dnc_impact(
        phones=PhoneNumber.objects.filter(pk=scene.board.pk),
        reach=Block.Reach.CUSTOMER,
        customer=scene.campaign.customer,
    )
    # then
    assert {lead.pk for lead in impact.leads} == {scene.tom.pk, scene.grace.pk, scene.tom_other.pk}


def test_phone_dnc_impact_writes_nothing():
    # given
    scene = switchboard_scene()
    # when
    phone_dnc_impact(phones=PhoneNumber.objects.filter(pk=scene.board.pk))
    # then
    assert not Block.objects.exists()
    assert not Lead.objects.filter(status=LeadStatus.DISQUALIFIED).exists()


def test_phone_dnc_impact_of_a_number_already_dnc_is_nothing():
    # given
    scene = switchboard_scene()
    phones = PhoneNumber.objects.filter(pk=scene.board.pk)
    phone_numbers_mark_dnc(phones=phones, actor="tests")
    # when
    impact = phone_dnc_impact(phones=phones)
    # then
    assert impact.leaving == 0
    assert impact.numbers[0].already_dnc


def shared_switchboard(n: int) -> PhoneNumber:
    """Return a number shared by ``n`` contacts, each with one lead, made in a few bulk statements."""
    first = LeadFactory()
    board = first.contact.phones.get().phone
    account = AccountFactory(customer=first.customer)
    contacts = Contact.objects.bulk_create(
        Contact(customer=first.customer, account=account, first_name=f"P{i}", last_name="Shared") for i in range(n)
    )
    ContactPhone.objects.bulk_create(ContactPhone(contact=c, phone=board) for c in contacts)
    Lead.objects.bulk_create(
        Lead(customer=first.customer, campaign=first.campaign, contact=c, status=LeadStatus.ELIGIBLE) for c in contacts
    )
    return board


@pytest.mark.parametrize("sharers", [5, 300])
def test_phone_dnc_impact_costs_the_same_queries_however_many_share_the_number(sharers, django_assert_max_num_queries):
    # given
    board = shared_switchboard(sharers)
    # when
    with django_assert_max_num_queries(7):
        impact = phone_dnc_impact(phones=PhoneNumber.objects.filter(pk=board.pk))
    # then
    assert impact.leaving == sharers + 1
    assert impact.numbers[0].contacts_total == sharers + 1


def test_phone_dnc_impact_of_a_switchboard_shared_by_5000_contacts_is_a_few_statements(
    django_assert_max_num_queries,
):
    # given
    board = shared_switchboard(5000)
    # when: set-based whatever the sharers (its time is a benchmark's to measure, not a test's)
    with django_assert_max_num_queries(7):
        impact = phone_dnc_impact(phones=PhoneNumber.objects.filter(pk=board.pk))
    # then
    assert impact.leaving == 5001
    assert len(impact.leads) == 100 and impact.leads_not_shown == 4901


def test_disqualify_impact_counts_the_leads_in_the_pool_per_campaign():
    # given
    scene = switchboard_scene()
    Lead.objects.filter(pk=scene.grace.pk).update(status=LeadStatus.DISQUALIFIED)
    # when
    contacts = contacts_disqualify_impact(contacts=Contact.objects.filter(account=scene.account))
    one_campaign = accounts_disqualify_impact(
        accounts=Account.objects.filter(pk=scene.account.pk), reach=Block.Reach.CAMPAIGN, campaign=scene.campaign
    )
    # then
    assert {(c.campaign, c.leaving) for c in contacts.campaigns} == {("Clinic outreach", 2), ("Pharmacy partners", 1)}
    assert [(c.campaign, c.leaving) for c in one_campaign.campaigns] == [("Clinic outreach", 2)]


def test_disqualify_impact_matches_what_disqualifying_does(ops_user):
    # given
    scene = switchboard_scene()
    accounts = Account.objects.filter(pk=scene.account.pk)
    before = disqualified_ids(scene.leads)
    # when
    impact = accounts_disqualify_impact(accounts=accounts)
    accounts_disqualify(accounts=accounts, reason=Block.Reason.OTHER, actor=ops_user)
    # then
    assert impact.leaving == len(disqualified_ids(scene.leads) - before) == 4


def block_on(target: BlockTarget, reach: str, **scope) -> Block:
    block, _ = block_create(
        target=target, source=Block.Source.OPS_DISQUALIFY, reason=Block.Reason.OTHER, reach=reach, actor="t", **scope
    )
    return block


def test_blocks_behind_a_contact_are_its_own_its_leads_its_accounts_and_its_numbers():
    # given
    scene = switchboard_scene()
    made = {
        block_on(BlockTarget(contact=scene.tom.contact), Block.Reach.CUSTOMER),
        block_on(BlockTarget(lead=scene.tom), Block.Reach.CAMPAIGN, campaign=scene.campaign),
        block_on(BlockTarget(account=scene.account), Block.Reach.CUSTOMER),
        block_on(BlockTarget(phone=scene.board), Block.Reach.PLATFORM),
        block_on(BlockTarget(contact=scene.tom.contact, phone=scene.board), Block.Reach.CUSTOMER),
    }
    not_toms = block_on(BlockTarget(contact=scene.grace.contact), Block.Reach.CUSTOMER)
    # when
    behind = set(blocks_behind(contacts=Contact.objects.filter(pk=scene.tom.contact_id)))
    # then
    assert behind == made
    assert not_toms not in behind

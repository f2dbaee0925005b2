"""Every status rule: each source, each reach, shared numbers, lifting, waiting expiry."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Block, ContactPhone, Lead, LeadStatus
from campaigns.services import (
    BlockTarget,
    block_create,
    blocks_lift,
    lead_statuses_recompute,
    leads_wake_waiting,
)
from tests.campaigns.factories import (
    CampaignFactory,
    ContactFactory,
    ContactPhoneFactory,
    LeadFactory,
    PhoneNumberFactory,
)

pytestmark = pytest.mark.django_db


def status_of(lead: Lead) -> str:
    lead.refresh_from_db(fields=["status"])
    return lead.status


def recompute(lead: Lead) -> None:
    lead_statuses_recompute(leads=Lead.objects.filter(pk=lead.pk))


def test_lead_with_a_clean_number_is_eligible():
    # given
    lead = LeadFactory()
    # when
    recompute(lead)
    # then
    assert status_of(lead) == LeadStatus.ELIGIBLE


def test_lead_whose_contact_has_no_number_is_disqualified():
    # given
    lead = LeadFactory(with_phone=False)
    # when
    recompute(lead)
    # then
    assert status_of(lead) == LeadStatus.DISQUALIFIED


@pytest.mark.parametrize("source", [s for s, _ in Block.Source.choices])
def test_every_source_disqualifies_a_contact(source):
    # given
    lead = LeadFactory()
    # when
    block_create(
        target=BlockTarget(contact=lead.contact),
        source=source,
        reason=Block.Reason.OTHER,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    # then
    assert status_of(lead) == LeadStatus.DISQUALIFIED


def test_lead_block_disqualifies_only_that_lead():
    # given
    lead = LeadFactory()
    same_contact_other_campaign = LeadFactory(contact=lead.contact, campaign=CampaignFactory(customer=lead.customer))
    # when
    block_create(
        target=BlockTarget(lead=lead),
        source=Block.Source.DISPOSITION,
        reason=Block.Reason.NOT_INTERESTED,
        reach=Block.Reach.CAMPAIGN,
        campaign=lead.campaign,
        actor="tests",
    )
    # then
    assert status_of(lead) == LeadStatus.DISQUALIFIED
    assert status_of(same_contact_other_campaign) == LeadStatus.ELIGIBLE


def test_account_block_disqualifies_every_contact_of_the_account():
    # given
    lead = LeadFactory()
    colleague = LeadFactory(campaign=lead.campaign, contact=ContactFactory(account=lead.contact.account))
    # when
    block_create(
        target=BlockTarget(account=lead.contact.account),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.EXISTING_CUSTOMER,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    # then
    assert status_of(lead) == LeadStatus.DISQUALIFIED
    assert status_of(colleague) == LeadStatus.DISQUALIFIED


def test_campaign_reach_block_leaves_the_contacts_other_campaigns_alone():
    # given
    lead = LeadFactory()
    other = LeadFactory(contact=lead.contact, campaign=CampaignFactory(customer=lead.customer))
    # when
    block_create(
        target=BlockTarget(contact=lead.contact),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.NOT_A_FIT,
        reach=Block.Reach.CAMPAIGN,
        campaign=lead.campaign,
        actor="tests",
    )
    # then
    assert status_of(lead) == LeadStatus.DISQUALIFIED
    assert status_of(other) == LeadStatus.ELIGIBLE


def test_customer_reach_block_on_a_number_leaves_other_customers_contacts_alone():
    # given: one switchboard number shared by contacts of two customers
    switchboard = PhoneNumberFactory()
    ours = LeadFactory(with_phone=False)
    theirs = LeadFactory(with_phone=False)
    ContactPhoneFactory(contact=ours.contact, phone=switchboard)
    ContactPhoneFactory(contact=theirs.contact, phone=switchboard)
    # when
    block_create(
        target=BlockTarget(phone=switchboard),
        source=Block.Source.SUPPRESSION,
        reason=Block.Reason.SUPPRESSED,
        reach=Block.Reach.CUSTOMER,
        customer=ours.customer,
        actor="tests",
    )
    # then
    assert status_of(ours) == LeadStatus.DISQUALIFIED
    assert status_of(theirs) == LeadStatus.ELIGIBLE


def test_platform_dnc_on_a_shared_number_disqualifies_every_contact_with_no_other_number():
    # given
    switchboard = PhoneNumberFactory()
    leads = [LeadFactory(with_phone=False) for _ in range(3)]
    for lead in leads:
        ContactPhoneFactory(contact=lead.contact, phone=switchboard, kind=ContactPhone.Kind.OFFICE)
    # when
    block_create(
        target=BlockTarget(phone=switchboard),
        source=Block.Source.OPS_PHONE_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        actor="tests",
    )
    # then
    assert {status_of(lead) for lead in leads} == {LeadStatus.DISQUALIFIED}


def test_shared_switchboard_dnc_keeps_contact_with_clean_mobile_eligible():
    # given
    switchboard = PhoneNumberFactory()
    lead = LeadFactory(with_phone=False)
    ContactPhoneFactory(contact=lead.contact, phone=switchboard, kind=ContactPhone.Kind.OFFICE)
    ContactPhoneFactory(contact=lead.contact, kind=ContactPhone.Kind.MOBILE)
    # when
    block_create(
        target=BlockTarget(phone=switchboard),
        source=Block.Source.OPS_PHONE_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        actor="tests",
    )
    # then
    assert status_of(lead) == LeadStatus.ELIGIBLE


def test_wrong_number_blocks_the_number_for_that_contact_only():
    # given
    shared = PhoneNumberFactory()
    wrong = LeadFactory(with_phone=False)
    right = LeadFactory(with_phone=False, campaign=wrong.campaign)
    ContactPhoneFactory(contact=wrong.contact, phone=shared)
    ContactPhoneFactory(contact=right.contact, phone=shared)
    # when
    block_create(
        target=BlockTarget(contact=wrong.contact, phone=shared),
        source=Block.Source.DISPOSITION,
        reason=Block.Reason.WRONG_NUMBER,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    # then
    assert status_of(wrong) == LeadStatus.DISQUALIFIED
    assert status_of(right) == LeadStatus.ELIGIBLE


def test_lifting_the_only_block_returns_the_lead_to_the_pool():
    # given
    lead = LeadFactory()
    block, _ = block_create(
        target=BlockTarget(contact=lead.contact),
        source=Block.Source.CUSTOMER_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    # when
    lifted = blocks_lift(blocks=Block.objects.filter(pk=block.pk), actor="tests", reason="customer withdrew it")
    # then
    assert lifted == 1
    assert status_of(lead) == LeadStatus.ELIGIBLE


def test_lifting_one_of_two_blocks_keeps_the_lead_disqualified():
    # given
    lead = LeadFactory()
    first, _ = block_create(
        target=BlockTarget(contact=lead.contact),
        source=Block.Source.CUSTOMER_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    block_create(
        target=BlockTarget(account=lead.contact.account),
        source=Block.Source.CRM_RULE,
        reason=Block.Reason.EXISTING_CUSTOMER,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    # when
    blocks_lift(blocks=Block.objects.filter(pk=first.pk), actor="tests", reason="mistake")
    # then
    assert status_of(lead) == LeadStatus.DISQUALIFIED


def test_lead_waits_while_waiting_until_is_in_the_future():
    # given
    lead = LeadFactory(waiting_until=timezone.now() + timedelta(hours=2), waiting_reason="cooldown")
    # when
    recompute(lead)
    # then
    assert status_of(lead) == LeadStatus.WAITING


def test_disqualification_wins_over_waiting():
    # given
    lead = LeadFactory(waiting_until=timezone.now() + timedelta(hours=2), waiting_reason="cooldown")
    # when
    block_create(
        target=BlockTarget(lead=lead),
        source=Block.Source.DISPOSITION,
        reason=Block.Reason.NOT_INTERESTED,
        reach=Block.Reach.CAMPAIGN,
        campaign=lead.campaign,
        actor="tests",
    )
    # then
    assert status_of(lead) == LeadStatus.DISQUALIFIED


def test_waking_returns_leads_whose_wait_ran_out_and_releases_their_lease(ops_user):
    # given
    lead = LeadFactory(waiting_until=timezone.now() + timedelta(minutes=5), waiting_reason="leased", leased_to=ops_user)
    recompute(lead)
    assert status_of(lead) == LeadStatus.WAITING
    # when
    woken = leads_wake_waiting(now=timezone.now() + timedelta(minutes=6))
    # then
    lead.refresh_from_db()
    assert woken == 1
    assert lead.status == LeadStatus.ELIGIBLE
    assert lead.leased_to is None


def test_recompute_changes_nothing_the_second_time():
    # given
    lead = LeadFactory(with_phone=False)
    assert lead_statuses_recompute(leads=Lead.objects.filter(pk=lead.pk)) == 1
    # when
    changed = lead_statuses_recompute(leads=Lead.objects.filter(pk=lead.pk))
    # then
    assert changed == 0


def test_creating_the_same_block_twice_returns_the_first(ops_user):
    # given
    lead = LeadFactory()
    target = BlockTarget(contact=lead.contact)
    kwargs = dict(
        target=target,
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.OTHER,
        reach=Block.Reach.CUSTOMER,
        actor=ops_user,
    )
    first, created = block_create(**kwargs)
    # when
    second, created_again = block_create(**kwargs)
    # then
    assert created and not created_again
    assert first.pk == second.pk
    assert Block.objects.count() == 1


def test_dnc_on_a_number_shared_by_5000_contacts_recomputes_in_bounded_queries(django_assert_max_num_queries):
    # given
    campaign = CampaignFactory()
    switchboard = PhoneNumberFactory()
    account = ContactFactory(account__customer=campaign.customer).account
    from campaigns.models import Contact

    contacts = Contact.objects.bulk_create(
        Contact(customer=campaign.customer, account=account, last_name=f"C{i}") for i in range(5000)
    )
    ContactPhone.objects.bulk_create(ContactPhone(contact=c, phone=switchboard) for c in contacts)
    Lead.objects.bulk_create(Lead(customer=campaign.customer, campaign=campaign, contact=c) for c in contacts)
    # when
    with django_assert_max_num_queries(8):
        block_create(
            target=BlockTarget(phone=switchboard),
            source=Block.Source.OPS_PHONE_DNC,
            reason=Block.Reason.DO_NOT_CALL,
            reach=Block.Reach.PLATFORM,
            actor="tests",
        )
    # then
    assert Lead.objects.filter(campaign=campaign, status=LeadStatus.DISQUALIFIED).count() == 5000

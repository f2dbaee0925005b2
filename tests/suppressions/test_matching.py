import pytest
from django.contrib.contenttypes.models import ContentType

from campaigns.models import Block, LeadStatus
from campaigns.selectors import can_dial, explain
from campaigns.services import blocks_lift
from suppressions.models import Entry
from suppressions.selectors import active_suppression_exists
from suppressions.services import MATCH_JOB, customer_rematch, entries_remove, upload_match
from tests.campaigns.factories import (
    AccountFactory,
    CampaignFactory,
    ContactEmailFactory,
    ContactFactory,
    ContactPhoneFactory,
    LeadFactory,
    PhoneNumberFactory,
)
from tests.suppressions.factories import EntryFactory

pytestmark = pytest.mark.django_db


def _lead(customer, *, phone=None, email=None, website=""):
    campaign = CampaignFactory(customer=customer)
    account = AccountFactory(customer=customer, domain=website)
    contact = ContactFactory(account=account)
    if phone:
        ContactPhoneFactory(contact=contact, phone=PhoneNumberFactory(e164=phone))
    if email:
        ContactEmailFactory(contact=contact, email=email, domain=email.split("@")[1])
    return LeadFactory(campaign=campaign, contact=contact)


def _status(lead):
    lead.refresh_from_db()
    return lead.status


def _suppression_blocks(**filters):
    return Block.objects.filter(source=Block.Source.SUPPRESSION, **filters)


def test_phone_entry_blocks_every_contact_sharing_the_number_for_that_customer_only(customer):
    # given
    switchboard = "+12025550143"
    first, second = _lead(customer, phone=switchboard), _lead(customer, phone=switchboard)
    other_customer_lead = _lead(CampaignFactory().customer, phone=switchboard)
    entry = EntryFactory(customer=customer, kind=Entry.Kind.PHONE, value=switchboard)

    # when
    result = upload_match(upload=entry.upload)

    # then
    assert result.blocks_created == 2
    blocks = _suppression_blocks(target=Block.Target.CONTACT)
    assert set(blocks.values_list("contact_id", flat=True)) == {first.contact_id, second.contact_id}
    block = blocks.first()
    assert (block.reach, block.reason, block.customer_id, block.actor_job, block.actor_id) == (
        Block.Reach.CUSTOMER,
        Block.Reason.SUPPRESSED,
        customer.pk,
        MATCH_JOB,
        None,
    )
    assert block.evidence == entry
    assert block.evidence_text == f"upload list.csv, line 2: {switchboard}"
    assert (_status(first), _status(second), _status(other_customer_lead)) == (
        LeadStatus.DISQUALIFIED,
        LeadStatus.DISQUALIFIED,
        LeadStatus.ELIGIBLE,
    )


def test_email_entry_blocks_the_contact_with_that_address(customer):
    # given
    lead = _lead(customer, email="pat@acme.com")
    colleague = _lead(customer, email="sam@acme.com")
    entry = EntryFactory(customer=customer, kind=Entry.Kind.EMAIL, value="pat@acme.com")

    # when
    upload_match(upload=entry.upload)

    # then
    assert (_status(lead), _status(colleague)) == (LeadStatus.DISQUALIFIED, LeadStatus.ELIGIBLE)


def test_domain_entry_blocks_contacts_at_the_domain_and_its_subdomains_but_not_lookalikes(customer):
    # given
    at_domain = _lead(customer, email="pat@acme.com")
    at_subdomain = _lead(customer, email="sam@eu.sales.acme.com")
    lookalike = _lead(customer, email="kim@notacme.com")
    entry = EntryFactory(customer=customer, kind=Entry.Kind.DOMAIN, value="acme.com")

    # when
    upload_match(upload=entry.upload)

    # then
    assert [_status(lead) for lead in (at_domain, at_subdomain, lookalike)] == [
        LeadStatus.DISQUALIFIED,
        LeadStatus.DISQUALIFIED,
        LeadStatus.ELIGIBLE,
    ]


def test_domain_entry_blocks_accounts_whose_website_is_the_domain_or_a_subdomain(customer):
    # given
    at_domain = _lead(customer, website="acme.com")
    at_subdomain = _lead(customer, website="shop.acme.com")
    lookalike = _lead(customer, website="acme.com.evil.example")
    entry = EntryFactory(customer=customer, kind=Entry.Kind.DOMAIN, value="acme.com")

    # when
    upload_match(upload=entry.upload)

    # then
    blocks = _suppression_blocks(target=Block.Target.ACCOUNT)
    assert set(blocks.values_list("account_id", flat=True)) == {
        at_domain.contact.account_id,
        at_subdomain.contact.account_id,
    }
    assert _status(lookalike) == LeadStatus.ELIGIBLE
    assert _status(at_subdomain) == LeadStatus.DISQUALIFIED


def test_rematch_twice_leaves_the_same_blocks(customer):
    # given
    _lead(customer, phone="+12025550143", email="pat@acme.com", website="acme.com")
    for kind, value in [("phone", "+12025550143"), ("email", "pat@acme.com"), ("domain", "acme.com")]:
        EntryFactory(customer=customer, kind=kind, value=value)
    customer_rematch(customer=customer)
    before = sorted(_suppression_blocks().values_list("pk", "target", "contact_id", "account_id", "evidence_id"))

    # when
    again = customer_rematch(customer=customer, batch_size=1)

    # then
    assert again.blocks_created == 0
    assert len(before) == 4
    assert (
        sorted(_suppression_blocks().values_list("pk", "target", "contact_id", "account_id", "evidence_id")) == before
    )


def test_block_lifted_by_hand_is_not_recreated_by_the_rematch(customer, ops_user):
    # given
    lead = _lead(customer, phone="+12025550143")
    entry = EntryFactory(customer=customer, kind=Entry.Kind.PHONE, value="+12025550143")
    upload_match(upload=entry.upload)
    blocks_lift(blocks=_suppression_blocks(), actor=ops_user, reason="Customer confirmed: call them")

    # when
    result = customer_rematch(customer=customer)

    # then
    assert result.blocks_created == 0
    assert _suppression_blocks().count() == 1
    assert _status(lead) == LeadStatus.ELIGIBLE
    assert can_dial(lead, "+12025550143").allowed


def test_removing_an_entry_lifts_its_blocks_and_keeps_the_entry(customer, ops_user):
    # given
    lead = _lead(customer, phone="+12025550143")
    entry = EntryFactory(customer=customer, kind=Entry.Kind.PHONE, value="+12025550143")
    upload_match(upload=entry.upload)

    # when
    removed = entries_remove(entries=Entry.objects.filter(pk=entry.pk), actor=ops_user, reason="Added by mistake")

    # then
    assert removed == 1
    entry.refresh_from_db()
    assert (entry.is_active, entry.removed_by, entry.remove_reason) == (False, ops_user, "Added by mistake")
    block = _suppression_blocks().get()
    assert block.lifted_by == ops_user
    assert _status(lead) == LeadStatus.ELIGIBLE
    assert entries_remove(entries=Entry.objects.filter(pk=entry.pk), actor=ops_user, reason="again") == 0


def test_committed_entry_stops_dialling_before_any_match_runs(customer):
    # given
    lead = _lead(customer, phone="+12025550143", email="pat@eu.acme.com")
    EntryFactory(customer=customer, kind=Entry.Kind.DOMAIN, value="acme.com")

    # when
    check = can_dial(lead, "(202) 555-0143")

    # then
    assert not check.allowed
    assert [reason.code for reason in check.reasons] == ["suppression_entry"]
    assert "Acme Corp's suppression list (upload list.csv, line 2" in check.reasons[0].message
    assert [reason.code for reason in explain(lead)] == ["suppression_entry"]


def test_pull_condition_excludes_leads_matched_only_live(customer):
    # given
    by_phone = _lead(customer, phone="+12025550143")
    by_email = _lead(customer, email="pat@acme.com")
    by_subdomain = _lead(customer, email="sam@x.acme.com")
    by_website = _lead(customer, website="shop.acme.com")
    clean = _lead(customer, email="kim@other.example", website="other.example")
    EntryFactory(customer=customer, kind=Entry.Kind.PHONE, value="+12025550143")
    EntryFactory(customer=customer, kind=Entry.Kind.EMAIL, value="pat@acme.com")
    EntryFactory(customer=customer, kind=Entry.Kind.DOMAIN, value="acme.com")

    # when
    from campaigns.models import Lead

    suppressed = set(Lead.objects.filter(active_suppression_exists()).values_list("pk", flat=True))
    free = set(Lead.objects.filter(~active_suppression_exists()).values_list("pk", flat=True))

    # then
    assert suppressed == {by_phone.pk, by_email.pk, by_subdomain.pk, by_website.pk}
    assert free == {clean.pk}


def test_live_check_respects_an_exception_ops_made(customer, ops_user):
    # given
    lead = _lead(customer, phone="+12025550143")
    entry = EntryFactory(customer=customer, kind=Entry.Kind.PHONE, value="+12025550143")
    upload_match(upload=entry.upload)
    blocks_lift(blocks=_suppression_blocks(contact=lead.contact), actor=ops_user, reason="Exception")

    # when
    from campaigns.models import Lead

    pullable = Lead.objects.filter(~active_suppression_exists(), pk=lead.pk).exists()

    # then
    assert pullable
    assert _suppression_blocks(evidence_type=ContentType.objects.get_for_model(Entry)).count() == 1


def test_removing_an_upload_lifts_every_block_its_entries_made(customer, ops_user):
    # given
    from suppressions.services import upload_remove

    lead = _lead(customer, phone="+12025550143", email="pat@acme.com")
    entry = EntryFactory(customer=customer, kind=Entry.Kind.PHONE, value="+12025550143")
    EntryFactory(customer=customer, kind=Entry.Kind.EMAIL, value="pat@acme.com", upload=entry.upload)
    upload_match(upload=entry.upload)

    # when
    removed = upload_remove(upload=entry.upload, actor=ops_user, reason="Wrong customer's file")

    # then
    assert removed == 2
    assert not _suppression_blocks(lifted_at__isnull=True).exists()
    assert _status(lead) == LeadStatus.ELIGIBLE
    entry.upload.refresh_from_db()
    assert entry.upload.removed_by == ops_user


def test_new_contacts_are_matched_against_existing_entries(customer):
    # given
    from suppressions.services import contacts_match

    EntryFactory(customer=customer, kind=Entry.Kind.DOMAIN, value="acme.com")
    lead = _lead(customer, email="new@hq.acme.com", website="acme.com")

    # when
    result = contacts_match(customer=customer, contact_ids=[lead.contact_id])

    # then
    assert result.blocks_created == 2  # the contact (email domain) and its account (website)
    assert _status(lead) == LeadStatus.DISQUALIFIED


def test_live_check_of_one_lead_is_one_query(customer, django_assert_max_num_queries):
    # given
    from suppressions.selectors import live_suppression_reasons

    lead = _lead(customer, phone="+12025550143", email="pat@acme.com")

    # when / then
    with django_assert_max_num_queries(1):
        assert live_suppression_reasons(lead=lead, phone_e164="+12025550143") == []


def test_sweeper_requeues_uploads_left_queued(customer, django_capture_on_commit_callbacks):
    # given
    from datetime import timedelta

    from django.utils import timezone

    from suppressions.models import Upload
    from suppressions.services import uploads_sweep
    from tests.suppressions.factories import UploadFactory

    stuck = UploadFactory(customer=customer, status=Upload.Status.QUEUED)
    Upload.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(hours=1))
    UploadFactory(customer=customer, status=Upload.Status.QUEUED)  # just queued: left alone

    # when
    swept = uploads_sweep()

    # then
    assert swept == 1
    stuck.refresh_from_db()
    assert stuck.status == Upload.Status.DONE
    assert Entry.objects.filter(upload=stuck).count() == 1

"""Blocks that end by themselves: in force until ``ends_at``, honoured at read time by the dial check and the pull
without waiting for a job; the expiry job lifts them (by expiry, recorded like any lift) and recomputes the
statuses; Undisqualify still lifts one early; the sentences give the end. Judged at moments the tests give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from campaigns.dialer.pool import leads_pull
from campaigns.models import Block, Contact, Lead, LeadStatus
from campaigns.selectors import calling
from campaigns.selectors.explaining import can_dial, explain
from campaigns.services import BlockTarget, block_create
from campaigns.services.blocks import EXPIRY_JOB, blocks_expire
from campaigns.services.calls import call_record
from campaigns.services.workflows import blocks_undisqualify, contacts_disqualify, customer_dnc_mark
from leadops.errors import LeadopsError
from tests.campaigns.api_factories import CallerFactory, DialerLeadFactory
from tests.campaigns.factories import UserFactory

pytestmark = pytest.mark.django_db


def number_of(lead: Lead) -> str:
    return lead.contact.phones.get().phone.e164


def _disqualify_for(lead: Lead, days: int, **kwargs) -> Block:
    # The end falls at the hour of the suite's calling clock (16:00 UTC, inside the window of the factories'
    # numbers): a dial check or a pull judged just after it is then judged by its blocks, not by the hour the
    # suite runs at (after 21:00 in Washington every number of theirs would be outside the window).
    made = contacts_disqualify(
        contacts=Contact.objects.filter(pk=lead.contact_id),
        reason=Block.Reason.NOT_INTERESTED,
        actor="tests",
        ends_at=calling.calling_now() + timedelta(days=days),
        **kwargs,
    )
    return made.blocks[0]


def _first_calling_hour_after(moment: datetime) -> datetime:
    """The first 16:00 UTC after ``moment`` (the suite's calling hour): within two days of it."""
    day = (moment + timedelta(days=1)).astimezone(UTC).replace(hour=16, minute=0, second=0, microsecond=0)
    return day - timedelta(days=1) if day - timedelta(days=1) > moment else day


def test_a_disqualification_for_90_days_stops_the_lead_until_its_end_and_says_until_when():
    # given
    lead = DialerLeadFactory()
    block = _disqualify_for(lead, 90)
    lead.refresh_from_db()
    end = timezone.localtime(block.ends_at)
    # then: in force now
    assert lead.status == LeadStatus.DISQUALIFIED
    (reason,) = can_dial(lead, number_of(lead)).reasons
    assert f"is disqualified for {lead.customer} (Not interested) until {end.day} {end:%b %Y}: marked " in (
        reason.message
    )
    # and from its end on, no reader counts it, without any job having run
    later = block.ends_at + timedelta(seconds=1)
    assert can_dial(lead, number_of(lead), now=later).allowed
    assert explain(lead, now=later) == []
    assert Block.objects.get(pk=block.pk).lifted_at is None


def test_the_pull_honours_an_end_at_read_time():
    # given: a stale stored status (Eligible) and a block that ended a minute ago, not yet lifted
    lead = DialerLeadFactory(campaign__status="active")
    caller = CallerFactory(approved_for=[lead.campaign])
    block = _disqualify_for(lead, 1)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED
    Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.ELIGIBLE)  # as the expiry job's recompute would make it
    # when: pulled before its end, the lead is re-checked and held back; after its end, it is handed out
    assert leads_pull(campaign=lead.campaign, caller=caller, count=1) == []
    Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.ELIGIBLE)
    pulled = leads_pull(campaign=lead.campaign, caller=caller, count=1, now=block.ends_at + timedelta(minutes=1))
    # then
    assert [p.pk for p in pulled] == [lead.pk]


def test_the_expiry_job_lifts_ended_blocks_by_expiry_and_returns_their_leads_to_the_pool():
    # given: one block ended, one still to end
    ended_lead, running_lead = DialerLeadFactory(), DialerLeadFactory()
    ended = _disqualify_for(ended_lead, 30)
    running = _disqualify_for(running_lead, 60)
    moment = ended.ends_at + timedelta(hours=1)
    # when
    lifted = blocks_expire(now=moment)
    # then
    assert lifted == 1
    ended.refresh_from_db()
    running.refresh_from_db()
    assert (ended.lifted_at, ended.lifted_by_job) == (moment, EXPIRY_JOB)
    assert ended.lift_reason == "Lifted by expiry: the end it was made with has passed."
    assert running.lifted_at is None
    ended_lead.refresh_from_db()
    running_lead.refresh_from_db()
    assert (ended_lead.status, running_lead.status) == (LeadStatus.ELIGIBLE, LeadStatus.DISQUALIFIED)
    # and a repeat finds nothing left to lift
    assert blocks_expire(now=moment) == 0


def test_undisqualify_still_lifts_a_block_with_an_end_early():
    lead = DialerLeadFactory()
    block = _disqualify_for(lead, 90)
    ops = UserFactory(permissions=["campaigns.lift_block", "campaigns.work_every_campaign"])
    result = blocks_undisqualify(blocks=Block.objects.filter(pk=block.pk), actor=ops, reason="They called back.")
    block.refresh_from_db()
    lead.refresh_from_db()
    assert block.lifted_by == ops and block.lift_reason == "They called back."
    assert lead.status == LeadStatus.ELIGIBLE
    assert result is not None


def test_a_block_without_an_end_replaces_one_with_an_end_and_a_shorter_one_leaves_it_as_it_is():
    lead = DialerLeadFactory()
    first = _disqualify_for(lead, 30)
    # a shorter end changes nothing
    assert _disqualify_for(lead, 10).pk == first.pk
    # no end: the lasting block replaces the one that ends, which is lifted saying so
    made = contacts_disqualify(
        contacts=Contact.objects.filter(pk=lead.contact_id), reason=Block.Reason.NOT_INTERESTED, actor="tests"
    )
    first.refresh_from_db()
    (lasting,) = made.blocks
    assert lasting.pk != first.pk and lasting.ends_at is None
    assert first.lift_reason == "Replaced by a block without an end."
    assert explain(lead, now=first.ends_at + timedelta(days=1))  # still disqualified after the first one's end


def test_a_block_made_after_an_ended_one_that_was_not_yet_lifted_is_recorded():
    # given: a block that ended (no job ran), then the same disqualification again
    lead = DialerLeadFactory()
    first, _ = block_create(
        target=BlockTarget(lead=lead),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.OTHER,
        reach=Block.Reach.CAMPAIGN,
        campaign=lead.campaign,
        actor="tests",
        ends_at=timezone.now() + timedelta(days=1),
    )
    Block.objects.filter(pk=first.pk).update(ends_at=timezone.now() - timedelta(minutes=1))
    # when
    second, created = block_create(
        target=BlockTarget(lead=lead),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.OTHER,
        reach=Block.Reach.CAMPAIGN,
        campaign=lead.campaign,
        actor="tests",
    )
    # then: the ended one is lifted by expiry, and the new one stands
    first.refresh_from_db()
    assert created and second.pk != first.pk
    assert first.lifted_by_job == EXPIRY_JOB
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED


def test_an_end_in_the_past_is_refused():
    lead = DialerLeadFactory()
    with pytest.raises(LeadopsError, match="A block's end must be in the future"):
        customer_dnc_mark(
            contacts=Contact.objects.filter(pk=lead.contact_id),
            actor="tests",
            ends_at=timezone.now() - timedelta(days=1),
        )
    assert not Block.objects.exists()


def test_the_not_now_disposition_takes_the_lead_out_of_the_pool_for_its_days():
    # given
    lead = DialerLeadFactory()
    caller = CallerFactory(approved_for=[lead.campaign])
    now = timezone.now()
    # when
    call_record(lead=lead, caller=caller, disposition="not_now_30", number=number_of(lead), actor=caller, now=now)
    # then
    block = Block.objects.get(lead=lead, source=Block.Source.DISPOSITION)
    assert block.ends_at == now + timedelta(days=30)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED
    message = explain(lead)[0].message
    assert "after a 'Not now \u2014 try again in 30 days' call disposition" in message
    # The person asked to be called later, and is told of as such: never as "Not interested".
    assert block.reason == Block.Reason.CALL_LATER
    assert "(Asked to be called later) until" in message and "Not interested" not in message
    end = timezone.localtime(block.ends_at)
    assert f"until {end.day} {end:%b %Y}" in message
    # and thirty days on, it may be called again (asked at a calling hour: the window is not what this tests)
    assert can_dial(lead, number_of(lead), now=_first_calling_hour_after(block.ends_at)).allowed


def test_the_customer_reads_the_end_of_a_platform_block_too():
    from campaigns.selectors.explaining import CUSTOMER

    lead = DialerLeadFactory()
    block_create(
        target=BlockTarget(phone=lead.contact.phones.get().phone),
        source=Block.Source.OPS_PHONE_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        actor="tests",
        ends_at=datetime(2027, 3, 3, 12, 0, tzinfo=timezone.get_current_timezone()),
    )
    (reason,) = explain(lead, audience=CUSTOMER)
    assert "until 3 Mar 2027" in reason.message

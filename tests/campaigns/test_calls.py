"""Every disposition effect, the cool-down and the attempt cap, idempotent replays, meeting outcomes, and
unqualifying and reopening a lead."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from campaigns.dialer.pool import leads_pull
from campaigns.models import Block, Call, Lead, LeadStatus, Meeting
from campaigns.selectors import can_dial
from campaigns.services.calls import call_record, lead_reopen, lead_unqualify, meeting_outcome_set
from campaigns.services.undisqualify import lead_undisqualify
from leadops.errors import LeadopsError
from tests.campaigns.api_factories import CallerFactory, DialerCampaignFactory, DialerLeadFactory, disposition
from tests.campaigns.factories import ContactPhoneFactory, LeadFactory, UserFactory, staff_groups_create

pytestmark = pytest.mark.django_db


def number_of(lead: Lead) -> str:
    return lead.contact.phones.order_by("id").first().phone.e164


def record(lead: Lead, code: str, *, caller=None, **kwargs) -> Call:
    caller = caller or CallerFactory(approved_for=[lead.campaign])
    kwargs.setdefault("number", number_of(lead))
    call, _ = call_record(
        lead=lead, caller=caller, disposition=disposition(lead.campaign, code), actor=caller, **kwargs
    )
    lead.refresh_from_db()
    return call


def active_blocks(**filters):
    return Block.objects.active().filter(**filters)


def test_no_answer_counts_an_attempt_and_cools_the_lead_down():
    # given
    lead = DialerLeadFactory()
    # when
    call = record(lead, "no_answer")
    # then
    assert lead.attempts == 1
    assert lead.status == LeadStatus.WAITING
    assert lead.waiting_reason == Lead.WaitingReason.COOLDOWN
    assert lead.waiting_until == call.created_at + timedelta(hours=lead.campaign.cooldown_hours)
    assert lead.last_attempt_at == call.created_at


def test_connect_cools_down_without_counting_an_attempt():
    # given
    lead = DialerLeadFactory()
    # when
    record(lead, "gatekeeper")
    # then
    assert lead.attempts == 0
    assert (lead.status, lead.waiting_reason) == (LeadStatus.WAITING, Lead.WaitingReason.COOLDOWN)


def test_campaign_without_a_cool_down_returns_the_lead_to_the_pool_at_once():
    # given
    lead = DialerLeadFactory(campaign=DialerCampaignFactory(cooldown_hours=0))
    # when
    record(lead, "busy")
    # then
    assert lead.status == LeadStatus.ELIGIBLE
    assert lead.waiting_until is None


def test_reaching_the_attempt_cap_without_a_connect_makes_the_lead_unreachable():
    # given
    lead = DialerLeadFactory(campaign=DialerCampaignFactory(attempt_cap=3))
    record(lead, "no_answer")
    record(lead, "busy")
    assert lead.status == LeadStatus.WAITING
    # when
    call = record(lead, "left_voicemail")
    # then
    block = active_blocks(target=Block.Target.LEAD, lead=lead).get()
    assert (block.source, block.reason, block.reach) == (
        Block.Source.UNREACHABLE,
        Block.Reason.UNREACHABLE,
        Block.Reach.CAMPAIGN,
    )
    assert block.campaign == lead.campaign
    assert block.evidence == call
    assert lead.status == LeadStatus.DISQUALIFIED


def test_callback_waits_until_the_callback_time():
    # given
    lead = DialerLeadFactory()
    callback_at = timezone.now() + timedelta(days=2)
    # when
    call = record(lead, "call_back_later", callback_at=callback_at)
    # then
    assert call.callback_at == callback_at
    assert (lead.status, lead.waiting_reason, lead.waiting_until) == (
        LeadStatus.WAITING,
        Lead.WaitingReason.CALLBACK,
        callback_at,
    )


@pytest.mark.parametrize("callback_at", [None, timezone.now() - timedelta(minutes=1)])
def test_callback_without_a_future_time_is_refused_and_records_nothing(callback_at):
    # given
    lead = DialerLeadFactory()
    # when
    with pytest.raises(LeadopsError) as refused:
        record(lead, "call_back_later", callback_at=callback_at)
    # then
    assert refused.value.field == "callback_at"
    assert not Call.objects.exists()


def test_not_interested_disqualifies_the_lead_in_its_campaign_only():
    # given
    lead = DialerLeadFactory()
    same_contact_elsewhere = DialerLeadFactory(
        contact=lead.contact, campaign=DialerCampaignFactory(customer=lead.customer)
    )
    # when
    call = record(lead, "not_interested")
    # then
    block = active_blocks().get()
    assert (block.target, block.source, block.reason, block.reach, block.evidence) == (
        Block.Target.LEAD,
        Block.Source.DISPOSITION,
        Block.Reason.NOT_INTERESTED,
        Block.Reach.CAMPAIGN,
        call,
    )
    assert lead.status == LeadStatus.DISQUALIFIED
    same_contact_elsewhere.refresh_from_db()
    assert same_contact_elsewhere.status == LeadStatus.ELIGIBLE


def test_do_not_call_blocks_the_number_everywhere_and_the_contact_for_the_customer():
    # given
    lead = DialerLeadFactory()
    number = number_of(lead)
    other_customers_lead = LeadFactory()
    ContactPhoneFactory(contact=other_customers_lead.contact, phone=lead.contact.phones.get().phone)
    # when
    record(lead, "do_not_call")
    # then
    on_number = active_blocks(target=Block.Target.PHONE).get()
    on_contact = active_blocks(target=Block.Target.CONTACT).get()
    assert (on_number.reach, on_number.reason, on_number.source) == (
        Block.Reach.PLATFORM,
        Block.Reason.DO_NOT_CALL,
        Block.Source.DISPOSITION,
    )
    assert (on_contact.reach, on_contact.customer, on_contact.reason) == (
        Block.Reach.CUSTOMER,
        lead.customer,
        Block.Reason.DO_NOT_CALL,
    )
    assert lead.status == LeadStatus.DISQUALIFIED
    check = can_dial(other_customers_lead, number)
    assert not check.allowed
    assert check.reasons[0].code == "platform_dnc"


def test_wrong_number_blocks_only_that_contacts_use_of_the_number():
    # given
    lead = DialerLeadFactory()
    wrong = lead.contact.phones.get().phone
    colleague = DialerLeadFactory(campaign=lead.campaign)
    ContactPhoneFactory(contact=colleague.contact, phone=wrong)
    # when
    record(lead, "wrong_number", number=wrong.e164)
    # then
    block = active_blocks().get()
    assert (block.target, block.contact, block.phone, block.reach) == (
        Block.Target.CONTACT_PHONE,
        lead.contact,
        wrong,
        Block.Reach.CUSTOMER,
    )
    assert lead.status == LeadStatus.DISQUALIFIED  # its only number
    assert can_dial(colleague, wrong.e164).allowed


def test_wrong_number_keeps_a_contact_with_another_clean_number_reachable():
    # given
    lead = DialerLeadFactory(campaign=DialerCampaignFactory(cooldown_hours=0))
    wrong = lead.contact.phones.get().phone
    ContactPhoneFactory(contact=lead.contact)
    # when
    record(lead, "wrong_number", number=wrong.e164)
    # then
    assert lead.status == LeadStatus.ELIGIBLE


def test_invalid_number_blocks_the_number_for_everyone():
    # given
    lead = DialerLeadFactory()
    number = lead.contact.phones.get().phone
    # when
    record(lead, "invalid_number", number=number.e164)
    # then
    block = active_blocks().get()
    assert (block.target, block.phone, block.reach, block.reason) == (
        Block.Target.PHONE,
        number,
        Block.Reach.PLATFORM,
        Block.Reason.INVALID_NUMBER,
    )
    assert lead.status == LeadStatus.DISQUALIFIED


def test_meeting_booked_creates_a_meeting_and_waits_for_the_outcome():
    # given
    lead = DialerLeadFactory()
    meeting_at = timezone.now() + timedelta(days=3)
    # when
    call = record(lead, "meeting_booked", callback_at=meeting_at)
    # then
    meeting = Meeting.objects.get(lead=lead)
    assert (meeting.booked_by_call, meeting.scheduled_for, meeting.outcome) == (
        call,
        meeting_at,
        Meeting.Outcome.PENDING,
    )
    assert (lead.status, lead.waiting_reason) == (LeadStatus.WAITING, Lead.WaitingReason.MEETING)


def test_replaying_an_idempotency_key_returns_the_first_call_and_changes_nothing():
    # given
    lead = DialerLeadFactory()
    caller = CallerFactory(approved_for=[lead.campaign])
    first = record(lead, "no_answer", caller=caller, idempotency_key="k-1")
    # when
    again, created = call_record(
        lead=lead,
        caller=caller,
        disposition=disposition(lead.campaign, "no_answer"),
        number=number_of(lead),
        idempotency_key="k-1",
        actor=caller,
    )
    # then
    lead.refresh_from_db()
    assert (again, created) == (first, False)
    assert Call.objects.count() == 1
    assert lead.attempts == 1


def test_the_same_key_of_another_caller_is_another_call():
    # given
    lead = DialerLeadFactory()
    record(lead, "no_answer", idempotency_key="k-1")
    # when
    record(lead, "no_answer", idempotency_key="k-1")
    # then
    assert Call.objects.count() == 2


def test_an_idempotency_key_reused_for_another_lead_is_refused():
    # given
    lead = DialerLeadFactory()
    caller = CallerFactory(approved_for=[lead.campaign])
    record(lead, "no_answer", caller=caller, idempotency_key="k-1")
    other = DialerLeadFactory(campaign=lead.campaign)
    # when
    with pytest.raises(LeadopsError) as refused:
        record(other, "no_answer", caller=caller, idempotency_key="k-1")
    # then
    assert (refused.value.code, refused.value.field) == ("conflict", "idempotency_key")


def test_recording_a_call_ends_the_lease():
    # given
    lead = DialerLeadFactory()
    caller = CallerFactory(approved_for=[lead.campaign])
    leads_pull(campaign=lead.campaign, caller=caller, count=1)
    # when
    record(lead, "no_answer", caller=caller)
    # then
    assert lead.leased_to is None
    assert lead.waiting_reason == Lead.WaitingReason.COOLDOWN


def test_a_call_on_an_expired_lease_is_recorded():
    # given
    lead = DialerLeadFactory()
    caller = CallerFactory(approved_for=[lead.campaign])
    leads_pull(campaign=lead.campaign, caller=caller, count=1, now=timezone.now() - timedelta(hours=1))
    # when
    call = record(lead, "gatekeeper", caller=caller)
    # then
    assert call.pk is not None
    assert lead.leased_to is None
    assert lead.waiting_reason == Lead.WaitingReason.COOLDOWN


def test_a_number_that_is_not_the_contacts_is_refused():
    # given
    lead = DialerLeadFactory()
    # when
    with pytest.raises(LeadopsError) as refused:
        record(lead, "no_answer", number="+12025550143")
    # then
    assert refused.value.field == "number"


def test_an_unreadable_number_is_refused():
    # given
    lead = DialerLeadFactory()
    # when
    with pytest.raises(LeadopsError) as refused:
        record(lead, "no_answer", number="123")
    # then
    assert (refused.value.field, refused.value.code) == ("number", "invalid_number")


def test_the_number_may_be_written_in_national_format():
    # given
    lead = DialerLeadFactory()
    e164 = number_of(lead)
    national = f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"
    # when
    call = record(lead, "no_answer", number=national)
    # then
    assert call.phone.e164 == e164


def test_a_disposition_of_another_campaign_is_refused():
    # given
    lead = DialerLeadFactory()
    caller = CallerFactory(approved_for=[lead.campaign])
    elsewhere = disposition(DialerCampaignFactory(customer=lead.customer), "no_answer")
    # when
    with pytest.raises(LeadopsError) as refused:
        call_record(lead=lead, caller=caller, disposition=elsewhere, number=number_of(lead), actor=caller)
    # then
    assert refused.value.field == "disposition"


# --- meeting outcomes ---------------------------------------------------------------------------


def booked(lead: Lead) -> Meeting:
    record(lead, "meeting_booked")
    return Meeting.objects.get(lead=lead)


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [(Meeting.Outcome.QUALIFIED, Block.Reason.QUALIFIED), (Meeting.Outcome.NOT_QUALIFIED, Block.Reason.NOT_QUALIFIED)],
)
def test_a_qualifying_outcome_ends_outreach_for_the_campaign(ops_user, outcome, reason):
    # given
    lead = DialerLeadFactory()
    meeting = booked(lead)
    # when
    meeting_outcome_set(meeting=meeting, outcome=outcome, actor=ops_user)
    # then
    lead.refresh_from_db()
    block = active_blocks().get()
    assert (block.target, block.source, block.reason, block.reach, block.campaign, block.evidence) == (
        Block.Target.LEAD,
        Block.Source.MEETING_OUTCOME,
        reason,
        Block.Reach.CAMPAIGN,
        lead.campaign,
        meeting,
    )
    assert lead.status == LeadStatus.DISQUALIFIED
    meeting.refresh_from_db()
    assert (meeting.outcome, meeting.outcome_set_by) == (outcome, ops_user)


def test_a_no_show_returns_the_lead_to_the_pool(ops_user):
    # given
    lead = DialerLeadFactory()
    meeting = booked(lead)
    # when
    meeting_outcome_set(meeting=meeting, outcome=Meeting.Outcome.NO_SHOW, actor=ops_user)
    # then
    lead.refresh_from_db()
    assert (lead.status, lead.waiting_reason, lead.waiting_until) == (LeadStatus.ELIGIBLE, "", None)
    assert not active_blocks().exists()


def test_setting_the_same_outcome_again_changes_nothing(ops_user):
    # given
    lead = DialerLeadFactory()
    meeting = booked(lead)
    meeting_outcome_set(meeting=meeting, outcome=Meeting.Outcome.QUALIFIED, actor=ops_user)
    # when
    meeting_outcome_set(meeting=meeting, outcome=Meeting.Outcome.QUALIFIED, actor="tests")
    # then
    assert Block.objects.count() == 1
    meeting.refresh_from_db()
    assert meeting.outcome_set_by == ops_user


def test_changing_the_outcome_lifts_the_previous_outcomes_block(ops_user):
    # given
    lead = DialerLeadFactory()
    meeting = booked(lead)
    meeting_outcome_set(meeting=meeting, outcome=Meeting.Outcome.QUALIFIED, actor=ops_user)
    # when
    meeting_outcome_set(meeting=meeting, outcome=Meeting.Outcome.NO_SHOW, actor=ops_user)
    # then
    lead.refresh_from_db()
    assert lead.status == LeadStatus.ELIGIBLE
    assert Block.objects.get().lift_reason == "Meeting outcome changed to No-show."


# --- unqualify and reopen -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "reason",
    [
        Block.Reason.INVALID_NUMBER,
        Block.Reason.UNREACHABLE,
        Block.Reason.WRONG_NUMBER,
        Block.Reason.NO_LONGER_INTERESTED,
    ],
)
def test_unqualify_takes_the_lead_out_of_its_campaigns_pool_with_the_reason(ops_user, reason):
    # given
    lead = DialerLeadFactory()
    # when
    block = lead_unqualify(lead=lead, reason=reason, actor=ops_user, note="checked by hand")
    # then
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED
    assert (block.target, block.source, block.reason, block.reach, block.actor) == (
        Block.Target.LEAD,
        Block.Source.OPS_DISQUALIFY,
        reason,
        Block.Reach.CAMPAIGN,
        ops_user,
    )


def test_unqualify_refuses_a_reason_not_on_the_list(ops_user):
    # given
    lead = DialerLeadFactory()
    # when
    with pytest.raises(LeadopsError) as refused:
        lead_unqualify(lead=lead, reason=Block.Reason.COMPETITOR, actor=ops_user)
    # then
    assert refused.value.field == "reason"


def test_unqualify_twice_with_the_same_reason_returns_the_first_block(ops_user):
    # given
    lead = DialerLeadFactory()
    first = lead_unqualify(lead=lead, reason=Block.Reason.WRONG_NUMBER, actor=ops_user)
    # when
    again = lead_unqualify(lead=lead, reason=Block.Reason.WRONG_NUMBER, actor=ops_user)
    # then
    assert again == first
    assert Block.objects.count() == 1


def test_unqualify_with_another_reason_is_refused_until_reopened(ops_user):
    # given
    lead = DialerLeadFactory()
    lead_unqualify(lead=lead, reason=Block.Reason.WRONG_NUMBER, actor=ops_user)
    # when
    with pytest.raises(LeadopsError) as refused:
        lead_unqualify(lead=lead, reason=Block.Reason.UNREACHABLE, actor=ops_user)
    # then
    assert refused.value.code == "conflict"


def test_reopen_lifts_the_unqualification_and_returns_the_lead_to_the_pool(ops_user):
    # given
    lead = DialerLeadFactory()
    block = lead_unqualify(lead=lead, reason=Block.Reason.NO_LONGER_INTERESTED, actor=ops_user)
    # when
    lifted = lead_reopen(lead=lead, actor=ops_user, reason="Asked us to call again")
    # then
    lead.refresh_from_db()
    block.refresh_from_db()
    assert lifted == 1
    assert lead.status == LeadStatus.ELIGIBLE
    assert (block.lifted_by, block.lift_reason) == (ops_user, "Asked us to call again")


def test_reopen_twice_changes_nothing(ops_user):
    # given
    lead = DialerLeadFactory()
    lead_unqualify(lead=lead, reason=Block.Reason.INVALID_NUMBER, actor=ops_user)
    lead_reopen(lead=lead, actor=ops_user, reason="Fixed the number")
    # when
    lifted = lead_reopen(lead=lead, actor=ops_user, reason="Fixed the number")
    # then
    assert lifted == 0


def test_reopen_after_the_attempt_cap_starts_counting_again(ops_user):
    # given
    lead = DialerLeadFactory(campaign=DialerCampaignFactory(attempt_cap=1, cooldown_hours=0))
    record(lead, "no_answer")
    assert lead.status == LeadStatus.DISQUALIFIED
    # when
    lead_reopen(lead=lead, actor=ops_user, reason="New number found")
    # then
    lead.refresh_from_db()
    assert (lead.status, lead.attempts) == (LeadStatus.ELIGIBLE, 0)


def test_reopen_leaves_a_do_not_call_in_place(ops_user):
    # given
    lead = DialerLeadFactory()
    record(lead, "do_not_call")
    # when
    lifted = lead_reopen(lead=lead, actor=ops_user, reason="Try again")
    # then
    lead.refresh_from_db()
    assert lifted == 0
    assert lead.status == LeadStatus.DISQUALIFIED


def test_reopen_needs_the_permission_to_reopen_leads():
    # given: a user who may lift blocks but not reopen leads
    lead = DialerLeadFactory()
    lead_unqualify(lead=lead, reason=Block.Reason.INVALID_NUMBER, actor="tests")
    lifter = UserFactory(permissions=["campaigns.lift_block"])
    # when
    with pytest.raises(LeadopsError) as refused:
        lead_reopen(lead=lead, actor=lifter, reason="Please")
    # then
    assert refused.value.code == "permission_denied"
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED


def test_an_approved_caller_reopens_a_lead_but_cannot_undisqualify_one():
    # given: a caller of the "Callers" group, approved for the campaign; one lead unqualified, one Do Not Call
    unqualified = DialerLeadFactory()
    lead_unqualify(lead=unqualified, reason=Block.Reason.INVALID_NUMBER, actor="tests")
    do_not_call = DialerLeadFactory(campaign=unqualified.campaign)
    record(do_not_call, "do_not_call")
    staff_groups_create()
    caller = CallerFactory(approved_for=[unqualified.campaign], is_staff=True)
    caller.groups.add(Group.objects.get(name="Callers"))
    # when
    lifted = lead_reopen(lead=unqualified, actor=caller, reason="Called us back")
    undisqualified = lead_undisqualify(lead=do_not_call, actor=caller, reason="Please")
    # then
    unqualified.refresh_from_db()
    do_not_call.refresh_from_db()
    assert lifted == 1
    assert unqualified.status == LeadStatus.ELIGIBLE
    assert (undisqualified.lifted, do_not_call.status) == ([], LeadStatus.DISQUALIFIED)
    assert {kept.why for kept in undisqualified.kept} == {
        "You do not have the permission to lift blocks (ask an Ops user)."
    }

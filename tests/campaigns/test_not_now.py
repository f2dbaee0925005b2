"""Not now, not again: the dial check and the pull answer "not now" for a number outside its calling window or over
a frequency cap, with the sentence and ``next_allowed_at``; the lead stays Eligible. Judged at a controlled
clock (``calling_clock``, ``tests/conftest.py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from campaigns.dialer.pool import leads_pull_dialable
from campaigns.models import Call, Campaign, Lead, LeadStatus
from campaigns.selectors.explaining import can_dial
from campaigns.services.calling import calling_policy_save
from leadops.errors import LeadopsError
from tests.campaigns.api_factories import CallerFactory, DialerCampaignFactory, api_key_for, pool_create
from tests.campaigns.factories import (
    ContactFactory,
    ContactPhoneFactory,
    CustomerFactory,
    LeadFactory,
    PhoneNumberFactory,
    UserFactory,
)

# The jurisdiction table as seeded: Florida's window and cap.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("jurisdictions")]

NEW_YORK = ZoneInfo("America/New_York")


def auth(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def lead_with(number: str, campaign: Campaign | None = None, **kwargs) -> Lead:
    campaign = campaign or DialerCampaignFactory()
    contact = ContactFactory(account__customer=campaign.customer, customer=campaign.customer)
    ContactPhoneFactory(contact=contact, phone=PhoneNumberFactory(e164=number))
    return LeadFactory(campaign=campaign, contact=contact, with_phone=False, **kwargs)


def test_the_dial_check_says_not_now_before_8_am_in_florida(client, calling_clock):
    # given: 7:42 am in Miami
    lead = lead_with("+13055550123")
    calling_clock.at(datetime(2026, 3, 4, 7, 42, tzinfo=NEW_YORK))
    _, key = api_key_for()
    # when
    response = client.get(f"/api/v1/leads/{lead.pk}/dial-check", {"number": "+13055550123"}, **auth(key))
    # then
    body = response.json()
    assert response.status_code == 200
    assert body["allowed"] is False
    assert body["next_allowed_at"] == "2026-03-04T13:00:00Z"
    (reason,) = body["reasons"]
    assert reason == {
        "code": "calling_window",
        "message": "It is 7:42 am in Florida (America/New_York) for +1 305-555-0123; Florida allows calls "
        "8 am\u20138 pm; the next allowed time is 8:00 am, in 18 minutes.",
        "block_id": None,
        "next_allowed_at": "2026-03-04T13:00:00Z",
        "rule": "us-fl",
    }
    # and time is not a block: the lead stays Eligible
    lead.refresh_from_db()
    assert lead.status == LeadStatus.ELIGIBLE


def test_a_not_now_costs_the_dial_check_no_statement_more_than_a_yes(client, calling_clock, django_assert_num_queries):
    # given: a process that answered once (and holds the jurisdiction table in memory)
    lead = lead_with("+13055550123")
    calling_clock.at(datetime(2026, 3, 4, 7, 42, tzinfo=NEW_YORK))
    _, key = api_key_for()
    check = f"/api/v1/leads/{lead.pk}/dial-check"
    client.get(check, {"number": "+13055550123"}, **auth(key))
    # when / then: the key, then the lead and its check in one, then the verdict kept (as for a yes)
    with django_assert_num_queries(3):
        assert client.get(check, {"number": "+13055550123"}, **auth(key)).json()["allowed"] is False


def test_a_changed_policy_is_read_by_the_next_dial_check(client, calling_clock):
    # given: noon in Washington, allowed; then the campaign stops calling at 11 am
    lead = lead_with("+12025550123")
    calling_clock.at(datetime(2026, 3, 4, 12, 0, tzinfo=NEW_YORK))
    assert can_dial(lead, "+12025550123").allowed
    hours = {day: ["08:00", "11:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    calling_policy_save(campaign=lead.campaign, hours=hours, actor="tests")
    # when
    check = can_dial(lead, "+12025550123")
    # then
    assert not check.allowed
    assert "the campaign calls 8 am\u201311 am on Wednesdays" in check.reasons[0].message
    assert check.next_allowed_at == datetime(2026, 3, 5, 8, 0, tzinfo=NEW_YORK)


def test_a_blocked_number_outside_its_window_names_both_and_no_next_time(calling_clock):
    from campaigns.models import Block
    from campaigns.services import BlockTarget, block_create

    lead = lead_with("+13055550123")
    calling_clock.at(datetime(2026, 3, 4, 7, 42, tzinfo=NEW_YORK))
    block_create(
        target=BlockTarget(phone=lead.contact.phones.get().phone),
        source=Block.Source.OPS_PHONE_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        actor="tests",
    )
    check = can_dial(lead, "+13055550123")
    assert [r.code for r in check.reasons] == ["platform_dnc", "calling_window"]
    assert check.next_allowed_at is None


# --- the pull ----------------------------------------------------------------------------------------


def test_the_pull_passes_over_leads_none_of_whose_numbers_may_be_called_now_and_they_stay_eligible(calling_clock):
    # given: 7 am in Honolulu is noon in Washington; pool order: Honolulu first (priority), then two DC leads
    campaign = DialerCampaignFactory()
    honolulu = lead_with("+18085550123", campaign, priority=9)
    dc = [lead_with(f"+1202555{1000 + i}", campaign, priority=5 - i) for i in range(2)]
    caller = CallerFactory(approved_for=[campaign])
    calling_clock.at(datetime(2026, 3, 4, 12, 0, tzinfo=NEW_YORK))
    # when
    pulled = leads_pull_dialable(campaign=campaign, caller=caller, count=2)
    # then: the two DC leads, in pool order; Honolulu is back in the pool as it was
    assert [lead.pk for lead, _ in pulled] == [dc[0].pk, dc[1].pk]
    honolulu.refresh_from_db()
    assert (honolulu.status, honolulu.leased_to_id, honolulu.waiting_reason) == (LeadStatus.ELIGIBLE, None, "")
    assert all(check.dialable for _, checks in pulled for check in checks)


def test_a_pulled_number_that_may_not_be_called_now_says_so_and_why(client, calling_clock):
    # given: a contact with a Washington number and a Honolulu one, at noon in Washington (7 am in Honolulu)
    campaign = DialerCampaignFactory()
    lead = lead_with("+12025550199", campaign)
    ContactPhoneFactory(contact=lead.contact, phone=PhoneNumberFactory(e164="+18085550199"))
    caller = CallerFactory(approved_for=[campaign])
    calling_clock.at(datetime(2026, 3, 4, 12, 0, tzinfo=NEW_YORK))
    _, key = api_key_for()
    # when
    response = client.post(
        f"/api/v1/campaigns/{campaign.pk}/pull",
        {"caller": caller.username, "count": 1},
        content_type="application/json",
        **auth(key),
    )
    # then
    numbers = {n["number"]: n for n in response.json()["leads"][0]["numbers"]}
    assert numbers["+12025550199"]["dialable"] is True and numbers["+12025550199"]["reason"] is None
    honolulu = numbers["+18085550199"]
    assert honolulu["dialable"] is False
    assert honolulu["reason"]["code"] == "calling_window"
    assert honolulu["reason"]["next_allowed_at"] == "2026-03-04T18:00:00Z"
    assert honolulu["reason"]["message"].startswith("It is 7:00 am in Hawaii (Pacific/Honolulu)")


def test_a_pool_whose_every_lead_is_not_now_hands_out_nothing_and_leases_nothing(calling_clock):
    campaign = DialerCampaignFactory()
    pool_create(campaign=campaign, size=5)  # +1202… numbers
    caller = CallerFactory(approved_for=[campaign])
    calling_clock.at(datetime(2026, 3, 4, 22, 0, tzinfo=NEW_YORK))
    assert leads_pull_dialable(campaign=campaign, caller=caller, count=3) == []
    assert not Lead.objects.filter(campaign=campaign).exclude(status=LeadStatus.ELIGIBLE).exists()


def test_a_pull_that_looks_its_whole_depth_leaves_no_lead_leased_that_it_did_not_hand_out(calling_clock):
    # given: more leads that may be called only later than the pull looks at (its rounds, of 2 each)
    from campaigns.dialer.pool import PULL_MAX_ROUNDS

    campaign = DialerCampaignFactory()
    pool_create(campaign=campaign, size=2 * PULL_MAX_ROUNDS + 5)  # +1202… numbers
    caller = CallerFactory(approved_for=[campaign])
    calling_clock.at(datetime(2026, 3, 4, 22, 0, tzinfo=NEW_YORK))
    passed_over: list = []
    # when
    pulled = leads_pull_dialable(campaign=campaign, caller=caller, count=2, passed_over=passed_over)
    # then: nothing handed out, every lead it looked at judged and given back, none left leased to the caller
    assert pulled == []
    assert len(passed_over) == 2 * PULL_MAX_ROUNDS
    assert not Lead.objects.filter(campaign=campaign, leased_to__isnull=False).exists()
    assert not Lead.objects.filter(campaign=campaign).exclude(status=LeadStatus.ELIGIBLE).exists()


def test_an_empty_pull_of_a_pool_that_may_be_called_only_later_says_so_and_when(client, calling_clock):
    # given: a pool of Washington numbers and one Los Angeles lead at 10 pm in Washington (7 pm in Los Angeles),
    # the campaign calling 9 am to 5 pm
    campaign = DialerCampaignFactory()
    pool_create(campaign=campaign, size=3)  # +1202… numbers
    lead_with("+13105550123", campaign, priority=9)
    calling_policy_save(campaign=campaign, hours=_every_day("09:00", "17:00"), actor="tests")
    caller = CallerFactory(approved_for=[campaign])
    calling_clock.at(datetime(2026, 3, 4, 22, 0, tzinfo=NEW_YORK))
    _, key = api_key_for()
    # when
    response = client.post(
        f"/api/v1/campaigns/{campaign.pk}/pull",
        {"caller": caller.username, "count": 5},
        content_type="application/json",
        **auth(key),
    )
    # then: nothing handed out, and why: all four may be called tomorrow, Washington's first, at 9 am there
    body = response.json()
    assert response.status_code == 200 and body["leads"] == []
    (reason,) = body["reasons"]
    assert reason["code"] == "none_callable_now"
    assert reason["next_allowed_at"] == "2026-03-05T14:00:00Z"
    assert reason["message"].startswith(
        f"No lead of {campaign.name} may be called now: the 4 leads at the head of its pool may be called only later "
        "(each number outside its calling window or at a frequency cap); they stay Eligible, in their places. The "
        "first may be called in 11 hours. Lead"
    )
    assert ": It is 10:00 pm in " in reason["message"] and "(America/New_York) for +1 202-" in reason["message"]
    assert not Lead.objects.filter(campaign=campaign).exclude(status=LeadStatus.ELIGIBLE).exists()
    # and a pull that hands out a lead, or of a dry pool, gives no reason
    calling_clock.at(datetime(2026, 3, 4, 12, 30, tzinfo=NEW_YORK))  # 9:30 am in Los Angeles
    pulled = client.post(
        f"/api/v1/campaigns/{campaign.pk}/pull",
        {"caller": caller.username, "count": 5},
        content_type="application/json",
        **auth(key),
    ).json()
    assert len(pulled["leads"]) == 4 and pulled["reasons"] == []
    dry = client.post(
        f"/api/v1/campaigns/{campaign.pk}/pull",
        {"caller": caller.username, "count": 5},
        content_type="application/json",
        **auth(key),
    ).json()
    assert dry == {"leads": [], "reasons": []}


# --- frequency caps ------------------------------------------------------------------------------------


def _calls(lead: Lead, *, at: list[datetime], number: str | None = None) -> None:
    from campaigns.models import Disposition

    phone = lead.contact.phones.select_related("phone").get(phone__e164=number).phone if number else None
    caller = CallerFactory()
    disposition = Disposition.objects.get(campaign=lead.campaign, code="no_answer")
    Call.objects.bulk_create(
        Call(lead=lead, caller=caller, phone=phone, disposition=disposition, created_at=moment) for moment in at
    )


def test_florida_caps_a_number_at_3_calls_in_24_hours_whoever_calls_it(calling_clock):
    # given: one Miami number, two customers' leads; three calls in the last 24 hours, two by the other customer
    now = datetime(2026, 3, 4, 12, 0, tzinfo=NEW_YORK)
    calling_clock.at(now)
    ours = lead_with("+13055550123")
    theirs = lead_with("+13055550123")
    _calls(theirs, at=[now - timedelta(hours=23), now - timedelta(hours=2)], number="+13055550123")
    _calls(ours, at=[now - timedelta(hours=1)], number="+13055550123")
    # when
    check = can_dial(ours, "+13055550123")
    # then
    (reason,) = check.reasons
    assert (reason.code, reason.rule, reason.count) == ("frequency_cap", "us-fl", 3)
    assert reason.message == (
        "3 calls in the last 24 hours by every customer to +1 305-555-0123; Florida allows 3 calls to one number "
        "in 24 hours; it may be called again in 1 hour."
    )
    assert check.next_allowed_at == now + timedelta(hours=1)
    # and an hour later the oldest call is more than 24 hours old
    calling_clock.at(now + timedelta(hours=1, minutes=1))
    assert can_dial(ours, "+13055550123").allowed


def test_the_campaign_caps_count_the_customer_s_campaigns_and_not_another_customer_s(calling_clock):
    now = datetime(2026, 3, 4, 12, 0, tzinfo=NEW_YORK)
    calling_clock.at(now)
    customer = CustomerFactory()
    spring, autumn = (DialerCampaignFactory(customer=customer) for _ in range(2))
    lead = lead_with("+12025550123", spring)
    sibling = LeadFactory(campaign=autumn, contact=lead.contact, with_phone=False)
    stranger = lead_with("+12025550123")
    calling_policy_save(campaign=spring, hours=_every_day(), number_cap=2, contact_cap=5, actor="tests")
    _calls(stranger, at=[now - timedelta(hours=3)] * 4, number="+12025550123")
    _calls(sibling, at=[now - timedelta(hours=5)], number="+12025550123")
    assert can_dial(lead, "+12025550123").allowed  # one call of the customer's, and the stranger's do not count
    # when: a second call of the customer's, in the other campaign
    _calls(sibling, at=[now - timedelta(hours=4)], number="+12025550123")
    check = can_dial(lead, "+12025550123")
    # then
    (reason,) = check.reasons
    assert (reason.code, reason.rule, reason.count) == ("frequency_cap", "number_cap", 2)
    assert check.next_allowed_at == now + timedelta(hours=19)
    # and Autumn, without caps of its own, may call it (the DC number is under no jurisdiction's cap)
    assert can_dial(sibling, "+12025550123").allowed


def test_a_contact_cap_counts_calls_to_every_number_of_the_contact(calling_clock):
    now = datetime(2026, 3, 4, 12, 0, tzinfo=NEW_YORK)
    calling_clock.at(now)
    lead = lead_with("+12025550123")
    ContactPhoneFactory(contact=lead.contact, phone=PhoneNumberFactory(e164="+12025550124"))
    calling_policy_save(campaign=lead.campaign, hours=_every_day(), contact_cap=2, account_cap=9, actor="tests")
    _calls(lead, at=[now - timedelta(hours=2)], number="+12025550123")
    _calls(lead, at=[now - timedelta(hours=1)], number="+12025550124")
    reasons = can_dial(lead, "+12025550124").reasons
    assert [(r.code, r.rule, r.count) for r in reasons] == [("frequency_cap", "contact_cap", 2)]


def _every_day(start: str = "08:00", end: str = "21:00") -> dict[str, list[str]]:
    return {day: [start, end] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


# --- the policy's writes -------------------------------------------------------------------------------


def test_only_a_business_campaign_waives_the_consumer_rules_and_the_waiver_is_recorded(calling_clock):
    consumer = DialerCampaignFactory()
    with pytest.raises(LeadopsError, match="only a business campaign may waive"):
        calling_policy_save(
            campaign=consumer, hours=_every_day(), consumer_rules_waived=True, waiver_note="B2B", actor=UserFactory()
        )
    business = DialerCampaignFactory(audience=Campaign.Audience.BUSINESS)
    with pytest.raises(LeadopsError, match="Say why"):
        calling_policy_save(campaign=business, hours=_every_day(), consumer_rules_waived=True, actor=UserFactory())
    ops = UserFactory(username="olivia")
    policy = calling_policy_save(
        campaign=business,
        hours=_every_day(),
        consumer_rules_waived=True,
        waiver_note="Calls clinics' front desks.",
        actor=ops,
    )
    assert (policy.waived_by, policy.waived_at is not None) == (ops, True)
    # and the dial check then follows only the campaign's hours in Florida: 8:30 pm is allowed
    lead = lead_with("+13055550123", business)
    calling_clock.at(datetime(2026, 3, 4, 20, 30, tzinfo=NEW_YORK))
    assert can_dial(lead, "+13055550123").allowed


def test_bad_hours_are_refused_naming_the_day():
    with pytest.raises(LeadopsError, match="wed: the calls must start before they stop") as refused:
        calling_policy_save(campaign=DialerCampaignFactory(), hours={"wed": ["17:00", "09:00"]}, actor="tests")
    assert refused.value.field == "hours"


def test_the_calling_clock_is_pinned_for_tests_to_a_moment_inside_the_default_window(calling_clock):
    # The suite's other tests call +1 202… numbers at whatever hour it runs: the clock they read is 16:00 UTC today.
    assert (calling_clock().hour == 16 and calling_clock().tzinfo == UTC) or calling_clock().utcoffset() == timedelta(0)
    assert calling_clock().date() == timezone.now().date()

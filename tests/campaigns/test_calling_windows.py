"""Calling windows: the local time of the number called, every zone it may be in, the jurisdiction table's state
rules and holidays, the campaign's weekday hours, DST changes; judged at a moment the test gives (a controlled
clock), never the hour the suite runs at."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.models import WEEKDAYS
from campaigns.selectors import calling
from campaigns.selectors.calling import DEFAULT_POLICY, Policy, Rule, next_open, number_place, window_check

NEW_YORK = ZoneInfo("America/New_York")
DC = "+12025550123"
MIAMI = "+13055550123"
BIRMINGHAM_AL = "+12055550123"
IDAHO = "+12085550123"  # America/Boise or America/Los_Angeles
HONOLULU = "+18085550123"
LONDON = "+442079460000"
UNPLACEABLE = "+15555550100"  # a US number of no area: phonenumbers knows no zone for it


@pytest.fixture
def rules(jurisdictions) -> tuple[Rule, ...]:
    """The jurisdiction table as its data migration seeds it."""
    return calling.rules_for(calling.rules_version())


def at(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone).astimezone(UTC)


def test_before_8_am_in_florida_the_answer_is_not_now_with_the_sentence_and_the_next_allowed_time(rules):
    # given: 7:42 am in Miami, a Wednesday
    now = at(NEW_YORK, 2026, 3, 4, 7, 42)
    # when
    verdict = window_check(MIAMI, policy=DEFAULT_POLICY, rules=rules, now=now)
    # then
    assert not verdict.allowed
    assert verdict.code == "calling_window"
    assert verdict.message == (
        "It is 7:42 am in Florida (America/New_York) for +1 305-555-0123; Florida allows calls 8 am\u20138 pm; "
        "the next allowed time is 8:00 am, in 18 minutes."
    )
    assert verdict.next_allowed_at == at(NEW_YORK, 2026, 3, 4, 8, 0)
    assert verdict.rule == "us-fl"


def test_florida_closes_at_8_pm_where_the_federal_window_runs_to_9(rules):
    # given: 8:30 pm in Miami and in Washington
    now = at(NEW_YORK, 2026, 3, 4, 20, 30)
    # when
    miami, dc = (window_check(n, policy=DEFAULT_POLICY, rules=rules, now=now) for n in (MIAMI, DC))
    # then
    assert not miami.allowed
    assert miami.next_allowed_at == at(NEW_YORK, 2026, 3, 5, 8, 0)
    assert "the next allowed time is 8:00 am tomorrow, in 11 hours 30 minutes" in miami.message
    assert dc.allowed


def test_9_pm_is_outside_the_federal_window_and_8_59_pm_inside(rules):
    assert window_check(DC, policy=DEFAULT_POLICY, rules=rules, now=at(NEW_YORK, 2026, 3, 4, 20, 59)).allowed
    late = window_check(DC, policy=DEFAULT_POLICY, rules=rules, now=at(NEW_YORK, 2026, 3, 4, 21, 0))
    assert not late.allowed
    assert "the United States allows calls 8 am\u20139 pm" in late.message


def test_a_number_that_may_be_in_two_zones_waits_for_the_later_one(rules):
    # given: 8:30 am in Boise is 7:30 am in Los Angeles (winter)
    now = at(ZoneInfo("America/Boise"), 2026, 1, 14, 8, 30)
    # when
    verdict = window_check(IDAHO, policy=DEFAULT_POLICY, rules=rules, now=now)
    # then: not now, until 8 am in Los Angeles
    assert number_place(IDAHO)[0] == ("America/Boise", "America/Los_Angeles")
    assert not verdict.allowed
    assert "(America/Los_Angeles, one of the 2 zones the number may be in)" in verdict.message
    assert verdict.next_allowed_at == at(ZoneInfo("America/Los_Angeles"), 2026, 1, 14, 8, 0)
    # and at the other end: 8:30 pm in Los Angeles is 9:30 pm in Boise
    evening = window_check(
        IDAHO, policy=DEFAULT_POLICY, rules=rules, now=at(ZoneInfo("America/Los_Angeles"), 2026, 1, 14, 20, 30)
    )
    assert not evening.allowed
    assert "America/Boise" in evening.message


def test_a_number_that_cannot_be_placed_is_never_allowed_and_says_why(rules):
    # given: noon everywhere in the US
    now = at(NEW_YORK, 2026, 3, 4, 12, 0)
    # when
    verdict = window_check(UNPLACEABLE, policy=DEFAULT_POLICY, rules=rules, now=now)
    # then
    assert not verdict.allowed
    assert verdict.rule == "unplaceable"
    assert verdict.next_allowed_at is None
    assert "cannot tell where +1 555-555-0100 is" in verdict.message


def test_a_toll_free_number_waits_for_the_hour_inside_the_window_in_all_of_its_zones(rules):
    # given: noon in New York; a toll-free number may be anywhere from Guam to Newfoundland
    verdict = window_check("+18005550123", policy=DEFAULT_POLICY, rules=rules, now=at(NEW_YORK, 2026, 3, 4, 12, 0))
    # then: 7 am in Adak; the one hour that suits every zone is 22:00 UTC (noon in Adak, 8 am in Guam)
    assert not verdict.allowed
    assert verdict.message.startswith("It is 7:00 am in the United States (America/Adak, one of the 42 zones")
    assert verdict.next_allowed_at == datetime(2026, 3, 4, 22, 0, tzinfo=UTC)


def test_windows_that_never_meet_name_no_next_allowed_time(rules):
    # given: a campaign calling 9 am to 10 am, and a Russian mobile number that may be in 16 zones
    policy = Policy(hours=tuple((time(9), time(10)) for _ in WEEKDAYS))
    verdict = window_check("+79161234567", policy=policy, rules=rules, now=datetime(2026, 3, 4, 12, 0, tzinfo=UTC))
    # then
    assert not verdict.allowed
    assert verdict.next_allowed_at is None
    assert "no time in the next 8 days is inside the window in every zone it may be in" in verdict.message


def test_a_state_holiday_and_a_closed_sunday_keep_alabama_closed_until_monday(rules):
    # given: noon on Saturday 4 July 2026 in Birmingham, Alabama (Independence Day), then Sunday
    chicago = ZoneInfo("America/Chicago")
    now = at(chicago, 2026, 7, 4, 12, 0)
    # when
    verdict = window_check(BIRMINGHAM_AL, policy=DEFAULT_POLICY, rules=rules, now=now)
    # then
    assert not verdict.allowed
    assert "Alabama allows no calls on Independence Day" in verdict.message
    assert verdict.next_allowed_at == at(chicago, 2026, 7, 6, 8, 0)
    assert "8:00 am on Mon 6 Jul" in verdict.message
    # and a Washington number is called that Saturday (no holiday rule there)
    assert window_check(DC, policy=DEFAULT_POLICY, rules=rules, now=now).allowed


def test_the_campaigns_weekday_hours_apply_in_the_number_s_local_time(rules):
    # given: a campaign calling 9:00 to 17:00 on weekdays only
    hours = {day: ["09:00", "17:00"] for day in WEEKDAYS[:5]}
    policy = Policy(hours=calling.parse_hours(hours))
    # when: Saturday noon in London; Friday 5:15 pm in London
    saturday = window_check(LONDON, policy=policy, rules=rules, now=datetime(2026, 3, 7, 12, 0, tzinfo=UTC))
    friday = window_check(LONDON, policy=policy, rules=rules, now=datetime(2026, 3, 6, 17, 15, tzinfo=UTC))
    # then
    assert "the campaign calls no one on Saturdays" in saturday.message
    assert saturday.next_allowed_at == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    assert "the campaign calls 9 am\u20135 pm on Fridays" in friday.message
    assert saturday.rule == friday.rule == "campaign_hours"
    # and Friday 4:59 pm is inside
    assert window_check(LONDON, policy=policy, rules=rules, now=datetime(2026, 3, 6, 16, 59, tzinfo=UTC)).allowed


def test_the_window_follows_the_spring_dst_change(rules):
    # given: 12:30 UTC is 7:30 am EST on Saturday 7 March 2026 and 8:30 am EDT on Sunday 8 March (spring forward)
    before = window_check(DC, policy=DEFAULT_POLICY, rules=rules, now=datetime(2026, 3, 7, 12, 30, tzinfo=UTC))
    after = window_check(DC, policy=DEFAULT_POLICY, rules=rules, now=datetime(2026, 3, 8, 12, 30, tzinfo=UTC))
    # then
    assert not before.allowed
    assert after.allowed
    # and at 7 am EDT on the day of the change, 8 am EDT is one hour later (12:00 UTC), not 13:00
    early = window_check(DC, policy=DEFAULT_POLICY, rules=rules, now=datetime(2026, 3, 8, 11, 0, tzinfo=UTC))
    assert early.next_allowed_at == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)


def test_the_window_follows_the_autumn_dst_change(rules):
    # given: Sunday 1 November 2026, clocks go back at 2 am; 12:30 UTC is 7:30 am EST
    verdict = window_check(DC, policy=DEFAULT_POLICY, rules=rules, now=datetime(2026, 11, 1, 12, 30, tzinfo=UTC))
    # then
    assert not verdict.allowed
    assert verdict.next_allowed_at == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)
    # and 1:30 am UTC on Monday is 8:30 pm EST, inside (it was 9:30 pm EDT the week before)
    assert window_check(DC, policy=DEFAULT_POLICY, rules=rules, now=datetime(2026, 11, 3, 1, 30, tzinfo=UTC)).allowed
    assert not window_check(
        DC, policy=DEFAULT_POLICY, rules=rules, now=datetime(2026, 10, 27, 1, 30, tzinfo=UTC)
    ).allowed


def test_a_business_campaign_that_waived_the_consumer_rules_follows_only_its_own_hours(rules):
    # given: 8:30 pm in Miami
    now = at(NEW_YORK, 2026, 3, 4, 20, 30)
    waived = Policy(hours=DEFAULT_POLICY.hours, consumer_rules_waived=True)
    # when / then: Florida's consumer rule no longer applies; the campaign's 8 am to 9 pm still does
    assert window_check(MIAMI, policy=waived, rules=rules, now=now).allowed
    assert not window_check(MIAMI, policy=waived, rules=rules, now=at(NEW_YORK, 2026, 3, 4, 21, 5)).allowed


def test_the_hours_a_policy_is_written_with_are_refused_with_the_day_and_the_reason():
    with pytest.raises(ValueError, match="tue: the calls must start before they stop"):
        calling.parse_hours({"tue": ["18:00", "09:00"]})
    with pytest.raises(ValueError, match=r"fri: write \["):
        calling.parse_hours({"fri": "9 to 5"})
    with pytest.raises(ValueError, match="fri: \\['9', '5'\\] is not two times written HH:MM"):
        calling.parse_hours({"fri": ["9", "5"]})
    with pytest.raises(ValueError, match="funday: not a weekday"):
        calling.parse_hours({"funday": ["09:00", "17:00"]})
    assert calling.parse_hours({"mon": ["09:00", "17:00"]})[0] == (time(9), time(17))
    assert calling.parse_hours({"mon": ["09:00", "17:00"]})[6] is None


# --- The property: no number is ever allowed at a local time outside its window --------------------------

NUMBERS = [DC, MIAMI, BIRMINGHAM_AL, IDAHO, HONOLULU, LONDON, UNPLACEABLE, "+79161234567", "+61291234567"]
moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)).map(
    lambda m: m.replace(second=0, microsecond=0)
)
day_hours = st.one_of(
    st.none(),
    st.tuples(st.integers(0, 22), st.integers(1, 23))
    .filter(lambda h: h[0] < h[1])
    .map(lambda h: (time(h[0]), time(h[1]))),
)
policies = st.builds(
    lambda hours, waived: Policy(hours=tuple(hours), consumer_rules_waived=waived),
    st.lists(day_hours, min_size=7, max_size=7),
    st.booleans(),
)


def _inside_everywhere(e164: str, moment: datetime, policy: Policy, rules) -> bool:
    """The window in the design's words, written apart from the code: every zone the number may be in is inside
    the campaign's hours of that local weekday and inside every jurisdiction that applies, not on one of its
    holidays or closed days."""
    zones, region, _ = number_place(e164)
    if not zones:
        return False
    applying = [
        r
        for r in rules
        if r.country == region
        and (not r.prefixes or any(e164.startswith(p) for p in r.prefixes))
        and not (r.consumer_only and policy.consumer_rules_waived)
    ]
    for zone in zones:
        local = moment.astimezone(ZoneInfo(zone))
        hours = policy.hours[local.weekday()]
        if hours is None or not hours[0] <= local.time() < hours[1]:
            return False
        for rule in applying:
            if local.date() in rule.holidays or local.weekday() in rule.closed_weekdays:
                return False
            if not rule.opens_at <= local.time() < rule.closes_at:
                return False
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=st.sampled_from(NUMBERS), moment=moments, policy=policies)
def test_no_number_is_ever_allowed_at_a_local_time_outside_its_window(rules, number, moment, policy):
    # when
    verdict = window_check(number, policy=policy, rules=rules, now=moment)
    # then: "allowed" only inside the window, and the window is never refused
    assert verdict.allowed == _inside_everywhere(number, moment, policy, rules)
    # and the next allowed time it names is inside the window, after now, and no earlier minute is
    if not verdict.allowed and verdict.next_allowed_at is not None:
        upcoming = verdict.next_allowed_at
        assert upcoming > moment
        assert _inside_everywhere(number, upcoming, policy, rules)
        assert not _inside_everywhere(number, upcoming - timedelta(minutes=1), policy, rules) or (
            upcoming - timedelta(minutes=1) <= moment
        )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=st.sampled_from(NUMBERS), moment=moments, policy=policies)
def test_next_open_is_never_earlier_than_the_first_minute_inside(rules, number, moment, policy):
    zones, region, _ = number_place(number)
    applying = calling.applicable_rules(number, region, rules, policy)
    upcoming = next_open(moment, zones, policy, applying)
    if upcoming is None:
        return
    # every whole minute between now and the next allowed time is outside the window, in some zone
    probe = moment + timedelta(minutes=1)
    while probe < upcoming and probe < moment + timedelta(hours=36):
        assert not _inside_everywhere(number, probe, policy, rules), probe
        probe += timedelta(minutes=17)


# --- Where a number is: the NANP prefix path gives phonenumbers' own answer ---------------------------------


def _phonenumbers_zones(e164: str) -> tuple[tuple[str, ...], str | None]:
    """The zones and region phonenumbers gives for ``e164`` itself, asked directly (no prefix, no cache)."""
    import phonenumbers
    from phonenumbers import timezone as phone_timezones

    parsed = phonenumbers.parse(e164, None)
    zones = tuple(z for z in phone_timezones.time_zones_for_number(parsed) if z != calling.UNKNOWN_ZONE)
    return zones, phonenumbers.region_code_for_number(parsed)


def _nanp_cases() -> list[str]:
    """Numbers under every entry of phonenumbers' time-zone table for +1 (ending low, high and in between),
    and under every area code, each seeded so that a failure repeats."""
    import random

    from phonenumbers.tzdata import TIMEZONE_DATA

    chooser = random.Random(17)
    cases = []
    for key in sorted(k for k in TIMEZONE_DATA if k.startswith("1") and len(k) >= 2):
        national = key[1:]
        if national[0] in "01":
            continue
        rest = 10 - len(national)
        cases += [f"+1{national}{'0' * rest}", f"+1{national}{'9' * rest}"]
        cases.append(f"+1{national}{''.join(chooser.choice('0123456789') for _ in range(rest))}")
    for area_code in range(200, 1000):
        for _ in range(6):
            cases.append(f"+1{area_code}{chooser.randrange(10_000_000):07d}")
    return cases


def test_the_zones_of_a_nanp_number_by_its_deciding_prefix_are_phonenumbers_own_for_every_area():
    # given: numbers under every time-zone entry and area code of +1 (including ones no zone or region knows)
    cases = _nanp_cases()
    assert len(cases) > 10_000
    # when / then: the prefix path answers each exactly as phonenumbers does for the number itself
    wrong = [(e164, calling.number_zones(e164), _phonenumbers_zones(e164)) for e164 in cases]
    wrong = [case for case in wrong if case[1] != case[2]]
    assert wrong == []
    # and it was the prefix path that answered: the numbers fell under far fewer prefixes than there were numbers
    assert 0 < len(calling._nanp_zones) < len(set(cases))


@settings(max_examples=500, deadline=None)
@given(national=st.from_regex(r"[2-9][0-9]{9}", fullmatch=True))
def test_any_ten_digit_nanp_number_gets_phonenumbers_own_zones_and_region(national):
    assert calling.number_zones(f"+1{national}") == _phonenumbers_zones(f"+1{national}")


def test_numbers_outside_the_nanp_are_asked_of_phonenumbers():
    for e164 in (LONDON, "+79161234567", "+61291234567", "+4930123456", "+12025550123"[:11]):
        assert calling.number_zones(e164) == calling.number_zones_from_phonenumbers(e164)


def test_the_remembered_prefixes_stay_bounded_and_the_answers_right(monkeypatch):
    # given: room for three prefixes
    monkeypatch.setattr(calling, "NANP_ZONES_KEPT", 3)
    monkeypatch.setattr(calling, "_nanp_zones", {})
    numbers = [f"+1{area_code}5550123" for area_code in (202, 305, 208, 808, 212, 415, 617, 312)]
    # when / then
    for e164 in numbers:
        assert calling.number_zones(e164) == _phonenumbers_zones(e164)
        assert 1 <= len(calling._nanp_zones) <= 3

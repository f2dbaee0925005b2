"""As of a past moment, the calling window and the caps as the dial check judged them then: "might have been
dialled" never said of a moment the dial check said "not now" (``can_dial_at``, ``docs/compliance.md``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from campaigns.selectors.explaining import can_dial
from tests.campaigns.api_factories import api_key_for
from tests.campaigns.test_not_now import NEW_YORK, _calls, auth, lead_with

# The jurisdiction table as seeded: Florida's window and cap.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("jurisdictions")]

MIAMI = "+13055550123"


def test_as_of_7_42_am_in_florida_the_number_might_not_have_been_dialled_and_the_sentence_reads_as_it_did_then():
    # given: a Miami number, asked about at 7:42 am its time on a past Wednesday
    lead = lead_with(MIAMI)
    at = datetime(2026, 3, 4, 7, 42, tzinfo=NEW_YORK)
    # when
    check = can_dial(lead, MIAMI, at=at)
    # then
    assert check.allowed is False
    (reason,) = check.reasons
    assert (reason.code, reason.rule, reason.next_allowed_at) == (
        "calling_window",
        "us-fl",
        datetime(2026, 3, 4, 13, 0, tzinfo=UTC),
    )
    assert reason.message == (
        "It is 7:42 am in Florida (America/New_York) for +1 305-555-0123; Florida allows calls 8 am\u20138 pm; the "
        "next allowed time is 8:00 am, in 18 minutes."
    )
    # and at 8:00 that morning it might have been
    assert can_dial(lead, MIAMI, at=datetime(2026, 3, 4, 8, 0, tzinfo=NEW_YORK)).allowed


def test_as_of_a_past_moment_floridas_cap_counts_the_calls_of_the_24_hours_before_it_and_none_after():
    # given: three calls to the number, the last at 11:00; a fourth the next day
    lead = lead_with(MIAMI)
    noon = datetime(2026, 3, 4, 12, 0, tzinfo=NEW_YORK)
    _calls(lead, at=[noon - timedelta(hours=h) for h in (20, 9, 1)] + [noon + timedelta(days=1)], number=MIAMI)
    # when: as of noon
    check = can_dial(lead, MIAMI, at=noon)
    # then
    (reason,) = check.reasons
    assert (reason.code, reason.rule, reason.count) == ("frequency_cap", "us-fl", 3)
    assert reason.next_allowed_at == noon + timedelta(hours=4)  # when the call at 4 pm the day before is 24 hours old
    assert "3 calls in the last 24 hours by every customer to +1 305-555-0123" in reason.message
    # and before the third call only two counted; four hours later the oldest no longer did
    assert can_dial(lead, MIAMI, at=noon - timedelta(hours=2)).allowed
    assert can_dial(lead, MIAMI, at=noon + timedelta(hours=4, minutes=1)).allowed


def test_as_of_every_moment_the_window_and_caps_answer_as_the_live_check_did_at_that_moment():
    # given: calls on the evening and morning before, Miami's window closing and opening in between
    lead = lead_with(MIAMI)
    first = datetime(2026, 3, 3, 17, 0, tzinfo=NEW_YORK)
    calls = [first - timedelta(hours=3), first - timedelta(hours=1), first + timedelta(minutes=5)]
    _calls(lead, at=calls, number=MIAMI)
    # then: at every moment of the next day and a half (after every call), the as-of answer is the live one
    moments = [first + timedelta(minutes=10 + 37 * i) for i in range(60)]
    seen = set()
    for moment in moments:
        live = can_dial(lead, MIAMI, now=moment)
        as_of = can_dial(lead, MIAMI, at=moment)
        assert [(r.code, r.message, r.next_allowed_at) for r in as_of.reasons] == [
            (r.code, r.message, r.next_allowed_at) for r in live.reasons
        ], moment
        assert as_of.allowed == live.allowed
        seen |= {r.code for r in live.reasons} | ({"allowed"} if live.allowed else set())
    # and the moments saw every kind of answer
    assert seen == {"calling_window", "frequency_cap", "allowed"}


def test_the_command_and_the_dialers_audit_say_not_now_as_of_a_moment_outside_the_window(client):
    lead = lead_with(MIAMI)
    at = "2026-03-04T07:42:00-05:00"
    # the command
    out = StringIO()
    call_command("explain_lead", str(lead.pk), "--number", MIAMI, "--at", at, stdout=out)
    assert "+13055550123 might not have been dialled.\n- It is 7:42 am in Florida (America/New_York)" in out.getvalue()
    # the dialer's audit: as of then, in the key's scope
    _, key = api_key_for()
    response = client.get(f"/api/v1/leads/{lead.pk}/dial-check", {"number": MIAMI, "at": at}, **auth(key))
    body = response.json()
    assert response.status_code == 200
    assert body["allowed"] is False
    assert [r["code"] for r in body["reasons"]] == ["calling_window"]
    assert body["next_allowed_at"] == "2026-03-04T13:00:00Z"

"""Without a broker, the web server runs Celery beat's schedule itself (``leadops.embedded_beat``): waiting leads
wake and ended blocks are lifted in the embedded default too."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from celery.schedules import crontab
from django.utils import timezone

import campaigns.tasks  # noqa: F401  (registers the schedule's tasks, as ``start`` has every app's registered)
import leadops.outbox.tasks  # noqa: F401
import suppressions.crm.tasks
import suppressions.tasks  # noqa: F401
from campaigns.models import Block, Lead, LeadStatus
from campaigns.services import BlockTarget, block_create
from leadops import embedded_beat
from leadops.celery import app
from leadops.embedded_beat import EmbeddedBeat

T0 = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


class _Ran:
    def __init__(self) -> None:
        self.names: list[str] = []


def _beat(schedule: dict, ran: _Ran) -> EmbeddedBeat:
    beat = EmbeddedBeat(app, schedule=schedule)
    beat._run = lambda name, entry: ran.names.append(name)  # the timing alone, here
    return beat


def test_each_interval_job_runs_at_start_then_each_time_its_interval_has_passed():
    ran = _Ran()
    beat = _beat(
        {
            "every-minute": {"task": "x", "schedule": timedelta(minutes=1)},
            "every-five": {"task": "y", "schedule": timedelta(minutes=5)},
        },
        ran,
    )
    for minute in range(11):
        beat.tick(T0 + timedelta(minutes=minute, seconds=1))
    assert ran.names.count("every-minute") == 11
    assert ran.names.count("every-five") == 3  # at 0, 5 and 10
    # and a tick before the interval has passed runs nothing
    assert beat.tick(T0 + timedelta(minutes=10, seconds=30)) == []


def test_a_nightly_job_does_not_run_when_the_server_starts():
    ran = _Ran()
    beat = _beat({"nightly": {"task": "z", "schedule": crontab(hour=2, minute=30)}}, ran)
    assert beat.tick(timezone.now()) == []
    assert ran.names == []


@pytest.mark.django_db
def test_a_job_that_fails_is_logged_and_the_others_still_run(caplog):
    beat = EmbeddedBeat(
        app,
        schedule={
            "broken": {"task": "leadops.tests.no-such-task", "schedule": timedelta(minutes=1)},
            "wake": {"task": "campaigns.tasks.leads_wake_waiting", "schedule": timedelta(minutes=1)},
        },
    )
    with caplog.at_level(logging.ERROR, logger="leadops.embedded_beat"):
        ran = beat.tick(timezone.now())
    assert ran == ["broken", "wake"]
    assert "The scheduled job broken (leadops.tests.no-such-task) failed" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_the_real_schedule_wakes_a_lead_whose_wait_is_over_and_lifts_a_block_that_has_ended(caplog):
    from tests.campaigns.factories import LeadFactory

    # given: a lead whose cool-down ended a minute ago, and another disqualified until a minute ago
    now = timezone.now()
    cooled = LeadFactory()
    Lead.objects.filter(pk=cooled.pk).update(
        status=LeadStatus.WAITING, waiting_reason=Lead.WaitingReason.COOLDOWN, waiting_until=now - timedelta(minutes=1)
    )
    ended = LeadFactory()
    block, _ = block_create(
        target=BlockTarget(contact=ended.contact),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.NOT_INTERESTED,
        reach=Block.Reach.CUSTOMER,
        customer=ended.customer,
        actor="tests",
        ends_at=now - timedelta(minutes=1),
        now=now - timedelta(days=2),
    )
    # when: the server's first tick
    with caplog.at_level(logging.ERROR, logger="leadops.embedded_beat"):
        ran = EmbeddedBeat(app).tick(timezone.now())
    # then
    assert {"wake-waiting-leads", "expire-blocks"} <= set(ran)
    assert "failed" not in caplog.text  # every job of the schedule runs in-process
    assert Lead.objects.get(pk=cooled.pk).status == LeadStatus.ELIGIBLE
    block.refresh_from_db()
    assert block.lifted_at is not None and block.lifted_by_job == "block expiry"
    assert Lead.objects.get(pk=ended.pk).status == LeadStatus.ELIGIBLE


def test_it_runs_in_runserver_when_tasks_are_eager_and_nowhere_else_unless_asked(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    monkeypatch.delenv("LEADOPS_EMBEDDED_BEAT", raising=False)
    monkeypatch.setattr("sys.argv", ["manage.py", "runserver"])
    assert embedded_beat.wanted()
    monkeypatch.setattr("sys.argv", ["gunicorn", "leadops.wsgi:application"])
    assert not embedded_beat.wanted()
    monkeypatch.setenv("LEADOPS_EMBEDDED_BEAT", "1")
    assert embedded_beat.wanted()
    # and never with a broker: a real beat sends the schedule
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr("sys.argv", ["manage.py", "runserver"])
    assert not embedded_beat.wanted()

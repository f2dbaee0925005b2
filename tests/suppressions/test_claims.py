"""One reader at a time per upload (a claim), and a dead reader noticed by its silent heartbeat.

The real thing (a worker SIGKILLed mid-read, a new worker taking over) is in ``test_worker.py``; these hold
the rules on both backends.
"""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from suppressions.models import Entry, RejectedRow, Upload
from suppressions.services import upload_create, upload_process, upload_read, uploads_sweep
from suppressions.services.pipeline import claim_token, upload_claim
from suppressions.services.sweeping import uploads_stuck
from tests.suppressions.factories import csv_bytes

pytestmark = pytest.mark.django_db


def _queued(customer, rows=(("2025550143",), ("not a number",))) -> Upload:
    content = csv_bytes([["phone"], *[list(row) for row in rows]])
    return upload_create(
        customer=customer,
        file=ContentFile(content, name="dnc.csv"),
        original_name="dnc.csv",
        uploaded_by=None,
        enqueue=False,
    )


def _claimed_by_a_reader(upload: Upload, *, beat_ago: timedelta, status=Upload.Status.READING) -> str:
    """Leave ``upload`` as a reader on another machine leaves it: claimed, its last beat ``beat_ago``."""
    token = "elsewhere:4242:0123456789abcdef"
    Upload.objects.filter(pk=upload.pk).update(
        status=status, claimed_by=token, heartbeat_at=timezone.now() - beat_ago, started_at=timezone.now() - beat_ago
    )
    return token


def test_a_second_reader_cannot_claim_an_upload_a_live_reader_holds(customer):
    # given
    upload = _queued(customer)
    first, second = claim_token(), claim_token()

    # when
    taken = [upload_claim(upload_id=upload.pk, token=first), upload_claim(upload_id=upload.pk, token=second)]

    # then
    assert taken == [True, False]
    upload.refresh_from_db()
    assert (upload.claimed_by, upload.claims) == (first, 1)


def test_a_claim_whose_heartbeat_went_stale_is_taken_over(customer, settings):
    # given: a reader elsewhere that stopped beating longer ago than the stale age
    upload = _queued(customer)
    _claimed_by_a_reader(upload, beat_ago=timedelta(seconds=settings.SUPPRESSIONS_HEARTBEAT_STALE_SECONDS + 1))

    # when
    token = claim_token()
    taken = upload_claim(upload_id=upload.pk, token=token)

    # then
    assert taken
    assert Upload.objects.get(pk=upload.pk).claimed_by == token


def test_processing_an_upload_a_live_reader_holds_does_nothing(customer):
    # given: a reader elsewhere, beating
    upload = _queued(customer)
    token = _claimed_by_a_reader(upload, beat_ago=timedelta(seconds=2))

    # when: a second delivery of its task
    result = upload_process(upload_id=upload.pk)

    # then
    assert result.status == Upload.Status.READING
    assert result.claimed_by == token
    assert not Entry.objects.exists()


def test_a_reader_whose_claim_was_taken_over_commits_nothing(customer):
    # given: reader A claimed the upload, went silent, and reader B took it over
    upload = _queued(customer)
    a = claim_token()
    assert upload_claim(upload_id=upload.pk, token=a)
    Upload.objects.filter(pk=upload.pk).update(claimed_by="elsewhere:1:b")

    # when: A comes back to life and reads
    result = upload_read(upload_id=upload.pk, claim=a)

    # then: its work is not committed; the upload is left to B
    assert result.status == Upload.Status.QUEUED
    assert not Entry.objects.exists()
    assert not RejectedRow.objects.exists()


def test_the_sweeper_reruns_an_upload_whose_reader_stopped_beating_and_leaves_a_live_one_alone(
    customer, settings, django_capture_on_commit_callbacks
):
    # given: two uploads being read, one by a reader silent for a minute, one by a reader beating
    stale = timedelta(seconds=settings.SUPPRESSIONS_HEARTBEAT_STALE_SECONDS + 15)
    dead = _queued(customer)
    _claimed_by_a_reader(dead, beat_ago=stale)
    alive = _queued(customer, rows=(("2025550144",),))
    alive_token = _claimed_by_a_reader(alive, beat_ago=timedelta(seconds=3))

    # when: the sweep (every minute) enqueues the dead one again (eager here: the task runs at once)
    assert list(uploads_stuck().values_list("pk", flat=True)) == [dead.pk]
    swept = uploads_sweep()

    # then: it is read exactly once by its new reader; the live one is untouched
    assert swept == 1
    dead.refresh_from_db()
    assert dead.status == Upload.Status.DONE, dead.error
    assert (dead.accepted, dead.rejected, dead.claims, dead.claimed_by) == (1, 1, 1, "")
    assert RejectedRow.objects.filter(upload=dead).count() == 1
    alive.refresh_from_db()
    assert (alive.status, alive.claimed_by) == (Upload.Status.READING, alive_token)


@pytest.mark.parametrize("status", [Upload.Status.READING, Upload.Status.MATCHING])
def test_a_dead_reader_is_found_within_two_minutes_not_after_the_task_time_limit(customer, settings, status):
    # given: a reader silent for just over the stale age, long before the task time limit
    upload = _queued(customer)
    _claimed_by_a_reader(
        upload, beat_ago=timedelta(seconds=settings.SUPPRESSIONS_HEARTBEAT_STALE_SECONDS + 1), status=status
    )

    # when
    stuck = list(uploads_stuck().values_list("pk", flat=True))

    # then
    assert stuck == [upload.pk]
    assert settings.SUPPRESSIONS_HEARTBEAT_STALE_SECONDS + 60 <= 120  # stale age + one sweep interval
    assert settings.CELERY_BEAT_SCHEDULE["suppressions-sweep-uploads"]["schedule"] == timedelta(minutes=1)


def test_a_claim_of_a_process_of_this_host_that_is_gone_is_taken_over_at_once(customer):
    # given: a claim beating a second ago, by a process of this machine that no longer exists
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = claim_token().split(":")[0]
    upload = _queued(customer)
    Upload.objects.filter(pk=upload.pk).update(
        status=Upload.Status.READING, claimed_by=f"{host}:{gone.stdout.strip()}:feedface", heartbeat_at=timezone.now()
    )

    # when: the broker hands its task straight back (a pool child killed mid-task)
    result = upload_process(upload_id=upload.pk)

    # then
    assert result.status == Upload.Status.DONE, result.error

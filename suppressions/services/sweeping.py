"""Pick up uploads whose processing never ran or never finished (a dead reader, a lost message)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from suppressions.models import Upload

# A queued upload no reader ever claimed, older than this, lost its message (the outbox covers a broker that
# was down; this covers a broker that lost its queue, e.g. restarted without persistence).
QUEUED_GRACE = timedelta(minutes=10)


def uploads_stuck(*, now=None):
    """Return the unfinished uploads nobody is working on, oldest first.

    * claimed (or once claimed) and its heartbeat older than ``SUPPRESSIONS_HEARTBEAT_STALE_SECONDS``: the
      reader died (a SIGKILLed worker, a lost machine) or gave up without finishing;
    * queued, never claimed, for ``QUEUED_GRACE``: its message was lost;
    * reading or matching with no heartbeat at all for longer than a task may run (from before heartbeats).
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.SUPPRESSIONS_HEARTBEAT_STALE_SECONDS)
    unfinished = [Upload.Status.QUEUED, Upload.Status.READING, Upload.Status.MATCHING]
    return Upload.objects.filter(
        Q(status__in=unfinished, heartbeat_at__lt=stale)
        | Q(status=Upload.Status.QUEUED, heartbeat_at__isnull=True, created_at__lt=now - QUEUED_GRACE)
        | Q(
            status__in=[Upload.Status.READING, Upload.Status.MATCHING],
            heartbeat_at__isnull=True,
            started_at__lt=now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT),
        ),
        removed_at__isnull=True,
    ).order_by("pk")


def uploads_sweep(*, now=None) -> int:
    """Enqueue again every upload stuck before ``done``; return how many. Harmless to run at any time.

    Runs every minute (beat). Processing is idempotent and claimed: a second delivery for an upload a live
    reader holds returns at once, and one for a dead reader's takes its claim over and resumes.
    """
    from suppressions import tasks

    ids = list(uploads_stuck(now=now).values_list("pk", flat=True))
    for upload_id in ids:
        tasks.upload_process.delay(upload_id)
    return len(ids)

"""Pick up uploads whose processing never ran or never finished (Redis down, a worker lost for good)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from suppressions.models import Upload

# A queued upload older than this was not enqueued (or its message was lost).
QUEUED_GRACE = timedelta(minutes=10)


def uploads_sweep(*, now=None) -> int:
    """Enqueue again every upload stuck before ``done``; return how many. Harmless to run at any time.

    Queued for more than ten minutes, or reading/matching for longer than a task may run (its worker died
    and the broker did not re-deliver): processing is idempotent, so a second delivery only resumes.
    """
    from suppressions import tasks

    now = now or timezone.now()
    stale_running = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    stuck = Upload.objects.filter(
        Q(status=Upload.Status.QUEUED, created_at__lt=now - QUEUED_GRACE)
        | Q(status__in=[Upload.Status.READING, Upload.Status.MATCHING], started_at__lt=stale_running),
        removed_at__isnull=True,
    ).values_list("pk", flat=True)
    ids = list(stuck.order_by("pk"))
    for upload_id in ids:
        tasks.upload_process.delay(upload_id)
    return len(ids)

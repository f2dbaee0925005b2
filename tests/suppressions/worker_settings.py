"""Settings for the real Celery worker the worker tests start: tiny match batches, so a kill lands mid-way.

``LEADOPS_TEST_SWEEP_SECONDS`` makes the embedded beat (``-B``) run the upload sweep and the outbox sweep
that often instead of every minute, so a test sees in seconds what production does in a minute or two.
"""

import os
from datetime import timedelta

from leadops.settings import *  # noqa: F403

SUPPRESSIONS_MATCH_BATCH_SIZE = int(os.environ.get("LEADOPS_TEST_MATCH_BATCH_SIZE", "1"))

if sweep := os.environ.get("LEADOPS_TEST_SWEEP_SECONDS"):
    CELERY_BEAT_SCHEDULE = {
        name: {**entry, "schedule": timedelta(seconds=float(sweep))}
        for name, entry in CELERY_BEAT_SCHEDULE.items()  # noqa: F405
        if name in ("suppressions-sweep-uploads", "outbox-send-pending")
    }

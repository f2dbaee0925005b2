"""Settings for the real Celery worker the worker tests start: tiny match batches, so a kill lands mid-way."""

from leadops.settings import *  # noqa: F403

SUPPRESSIONS_MATCH_BATCH_SIZE = 1

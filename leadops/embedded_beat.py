"""Celery beat's schedule, run inside the web server when there is no broker (the embedded default).

With ``REDIS_URL`` set, a real ``celery beat`` sends the schedule's tasks (``CELERY_BEAT_SCHEDULE``) to the
workers. Without it, tasks run in-process and there is no beat: leads whose cool-down, callback or lease had
run out stayed Waiting, and ended blocks stayed unlifted, for as long as the demo ran. ``make demo`` serves
with ``runserver``, whose serving process therefore runs the schedule itself, in a thread of its own
(``start``, from ``leadops.wsgi``): each job every interval (the first time when the server starts), the
nightly ones at their hour. A job that fails is logged with its traceback and tried again at its next turn.

It runs when the tasks are eager and the process is ``runserver`` (``LEADOPS_EMBEDDED_BEAT=1`` or ``0`` says
so for any process), so neither a test nor a gunicorn serving for a benchmark runs it by surprise.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections
from django.utils import timezone

logger = logging.getLogger(__name__)

TICK_SECONDS = 15


def wanted() -> bool:
    """Whether this process runs the schedule: tasks in-process, and ``runserver`` unless the setting says."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return False
    switch = os.environ.get("LEADOPS_EMBEDDED_BEAT", "")
    if switch in ("0", "1"):
        return switch == "1"
    return sys.argv[1:2] == ["runserver"]


class EmbeddedBeat:
    """The schedule's jobs, each run when it is due (``tick``)."""

    def __init__(self, app, schedule: dict | None = None) -> None:
        self.app = app
        self.schedule = settings.CELERY_BEAT_SCHEDULE if schedule is None else schedule
        self.last_run: dict[str, datetime] = {}

    def tick(self, now: datetime) -> list[str]:
        """Run every job due at ``now`` and return their names: an interval's job when its interval has passed
        since it last ran (at once the first time), a crontab's at its next moment after the first tick."""
        ran = []
        for name, entry in self.schedule.items():
            every = entry["schedule"]
            if isinstance(every, timedelta):
                last = self.last_run.get(name)
                if last is not None and now - last < every:
                    continue
            else:  # a crontab: not at start, then when Celery's own rule says it is due
                last = self.last_run.setdefault(name, now)
                if last == now or not every.is_due(last).is_due:
                    continue
            self.last_run[name] = now
            self._run(name, entry)
            ran.append(name)
        return ran

    def _run(self, name: str, entry: dict) -> None:
        try:
            self.app.tasks[entry["task"]].apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}), throw=True)
        except Exception:
            logger.exception("The scheduled job %s (%s) failed; it runs again at its next turn.", name, entry["task"])
        finally:
            connections.close_all()  # this thread's own connections


def start(app) -> threading.Thread:
    """Run the schedule in a daemon thread of this process, a tick every ``TICK_SECONDS``; return the thread."""
    app.loader.import_default_modules()  # every app's tasks, registered
    beat = EmbeddedBeat(app)

    def loop() -> None:
        while True:
            beat.tick(timezone.now())
            threading.Event().wait(TICK_SECONDS)

    thread = threading.Thread(target=loop, name="embedded-beat", daemon=True)
    thread.start()
    logger.info("Tasks run in-process: this server runs Celery beat's schedule itself (leadops.embedded_beat).")
    return thread

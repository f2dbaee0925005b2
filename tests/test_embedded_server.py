"""``make demo``'s server, as a newcomer runs it (SQLite, no broker): a lead whose wait is over comes back to the
pool by itself, without a Celery beat (``leadops.embedded_beat``). Its own database and server: in the embedded
run of the suite only (the Makefile's ``BACKEND_FREE``)."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STALE_LEAD = """
from datetime import timedelta
from django.utils import timezone
from campaigns.models import Lead, LeadStatus
from tests.campaigns.factories import LeadFactory
lead = LeadFactory()
Lead.objects.filter(pk=lead.pk).update(
    status=LeadStatus.WAITING, waiting_reason="cooldown", waiting_until=timezone.now() - timedelta(minutes=1)
)
print(lead.pk)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_demo_server_wakes_a_lead_whose_wait_is_over(tmp_path):
    # given: the embedded default on a database of its own, with a lead whose cool-down ended a minute ago
    database = tmp_path / "demo.sqlite3"
    drop = {"DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "LEADOPS_EMBEDDED_BEAT"}
    env = {k: v for k, v in os.environ.items() if k not in drop} | {"DATABASE_URL": f"sqlite:///{database}"}
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=180)
    made = subprocess.run(
        [*manage, "shell", "-c", STALE_LEAD], cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=60
    )
    lead_id = int(made.stdout.split()[-1])

    def status() -> str:
        with sqlite3.connect(database, timeout=20) as db:
            return db.execute("SELECT status FROM campaigns_lead WHERE id = ?", [lead_id]).fetchone()[0]

    assert status() == "waiting"
    # when: the server runs, as make demo starts it
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{_free_port()}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while status() == "waiting" and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.5)
        # then: back in the pool, with no beat and no worker
        assert status() == "eligible"
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "this server runs Celery beat's schedule itself" in output

"""Settings read from the environment: what ``check --deploy`` asks of a server behind TLS can be switched on."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _deploy_check(**env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **base,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "k" * 20 + "a-long-enough-and-random-secret-key!",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_behind_tls_the_deploy_check_has_nothing_to_say():
    # when
    done = _deploy_check(DJANGO_HTTPS="1", DJANGO_HSTS_INCLUDE_SUBDOMAINS="1", DJANGO_HSTS_PRELOAD="1")
    # then
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


def test_on_a_laptop_tls_settings_stay_off_and_the_deploy_check_names_them():
    # when
    done = _deploy_check()
    # then
    assert done.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in done.stderr


def test_on_the_embedded_default_tasks_run_in_process_without_a_line_of_celery_chatter_each():
    # given: the embedded default (no broker); a task run in-process, and one sent to the in-memory transport
    code = (
        "from leadops.celery import app\n"
        "@app.task(name='leadops.tests.one')\n"
        "def one():\n"
        "    return 1\n"
        "print('ran', one.delay().get())\n"
        "app.send_task('leadops.tests.one')\n"
        "print('sent')\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER")}
    # when
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**env, "LOG_LEVEL": "INFO"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    # then: it ran, and neither Celery's "Task … succeeded" nor kombu's "No hostname was supplied" came between
    assert done.returncode == 0, done.stderr
    assert "ran 1" in done.stdout and "sent" in done.stdout
    assert "succeeded in" not in done.stderr + done.stdout
    assert "No hostname was supplied" not in done.stderr + done.stdout

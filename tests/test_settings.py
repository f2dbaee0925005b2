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

"""The WSGI entry point a server loads (gunicorn ``leadops.wsgi:application``)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_worker_freezes_what_it_loaded_out_of_the_garbage_collectors_sight():
    # when: a process loads the application as a server does
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    script = "import gc; import leadops.wsgi; print(gc.get_freeze_count(), len(gc.get_objects()))"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    frozen, tracked = done.stdout.split()
    # then: the apps, models and URLconf are frozen (over 100,000 objects), the collector tracks few
    assert int(frozen) > 100_000
    assert int(tracked) < int(frozen) // 5

"""What the registries add to a pull, in-process, beside the same pull without them in the same run.

    .venv/bin/python bench/api_load.py --leads 100000 --entries 100000   # builds leadops_bench_api first
    .venv/bin/python bench/registry_pull.py [--database leadops_bench_api] [--pulls 150] [--rounds 2]

Times ``leads_pull(count=10)`` and ``lead_numbers`` of the leads pulled (what the pull endpoint runs), each pull
rolled back so the pool stays as it is, with the registries' live checks as registered (the numbers' reasons)
and with that hook removed (``dataclasses.replace``), alternately. The HTTP figures of ``bench/api_load.py`` on
the shared machine vary more from run to run than this difference. Load a copy into that database first
(``manage.py load_registry``) to measure against listed numbers.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
parser.add_argument("--database", default="leadops_bench_api")
parser.add_argument("--pulls", type=int, default=150)
parser.add_argument("--rounds", type=int, default=2)
ARGS = parser.parse_args()
os.environ["DATABASE_URL"] = f"{ARGS.server}/{ARGS.database}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402

from campaigns.dialer import pool  # noqa: E402
from campaigns.dialer.dialable import lead_numbers  # noqa: E402
from campaigns.models import CallerApproval  # noqa: E402
from campaigns.selectors import explaining  # noqa: E402
from suppressions.models import RegistryNumber  # noqa: E402


def run(checks, campaign, caller) -> tuple[float, float]:
    explaining._live_checks[:] = checks
    pool._lease_sql.cache_clear()
    timings = []
    for index in range(ARGS.pulls + 10):
        started = time.perf_counter()
        with transaction.atomic():
            lead_numbers(pool.leads_pull(campaign=campaign, caller=caller, count=10))
            transaction.set_rollback(True)
        if index >= 10:  # the first compile and prepare the statements
            timings.append(time.perf_counter() - started)
    timings.sort()
    return statistics.median(timings) * 1000, timings[int(len(timings) * 0.95)] * 1000


def main() -> None:
    approval = CallerApproval.objects.in_force().select_related("campaign", "caller").first()
    if approval is None:
        raise SystemExit(f"No approved caller in {ARGS.database}: run bench/api_load.py first.")
    registered = list(explaining._live_checks)
    without = [dataclasses.replace(check, numbers_reasons=None) for check in registered]
    listed = RegistryNumber.objects.filter(removed_load__isnull=True).count()
    print(f"pull(10) and its numbers, {ARGS.pulls} pulls each, {listed:,} registry numbers listed")
    for round_ in range(ARGS.rounds):
        base = run(without, approval.campaign, approval.caller)
        mine = run(registered, approval.campaign, approval.caller)
        print(
            f"round {round_ + 1}: with the registries p50 {mine[0]:.2f} ms, p95 {mine[1]:.2f} ms; "
            f"without p50 {base[0]:.2f} ms, p95 {base[1]:.2f} ms (+{mine[0] - base[0]:.2f} ms at p50)"
        )
    explaining._live_checks[:] = registered


if __name__ == "__main__":
    main()

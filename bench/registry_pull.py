"""What the registries add to a pull, in-process, beside the same pull without them in the same run.

    .venv/bin/python bench/api_load.py --leads 100000 --entries 100000   # builds leadops_bench_api first
    .venv/bin/python bench/registry_pull.py [--database leadops_bench_api] [--pulls 150] [--rounds 2]

Times ``leads_pull_dialable(count=10)`` (what the pull endpoint runs: the lease, the leads' numbers, and passing
over the leads none of whose numbers may be called), each pull rolled back so the pool stays as it is, with the
registries' live checks as registered (the numbers' reasons) and with that hook removed (``dataclasses.replace``),
alternately. The HTTP figures of ``bench/api_load.py`` on the shared machine vary more from run to run than this
difference. Load a copy into that database first (``manage.py load_registry``) to measure against listed
numbers; ``--list-every N`` first adds every N-th number of the campaign's Eligible leads to it (a change list
through the loader, so a loader that scrubs blocks them) to measure a pool where such leads are met.

Printed beside the timings: how many of the pool's Eligible leads have every number listed, and how many leads a
pull handed out.

``--work N`` then works the pool as callers do: N pulls whose leases are kept (all in one transaction, rolled
back at the end), so the leads a pull passes over stay where they are for the next one; printed by fifths.
``--unscrubbed`` first lifts the registry blocks (in that transaction): the state a loader that made no blocks
left, listed leads Eligible.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
parser.add_argument("--database", default="leadops_bench_api")
parser.add_argument("--pulls", type=int, default=150)
parser.add_argument("--rounds", type=int, default=2)
parser.add_argument("--list-every", type=int, default=0, help="list every N-th Eligible lead's numbers first")
parser.add_argument("--work", type=int, default=0, help="then N pulls kept (not rolled back one by one)")
parser.add_argument(
    "--unscrubbed", action="store_true", help="with --work: lift the registry blocks first (listed leads Eligible)"
)
ARGS = parser.parse_args()
os.environ["DATABASE_URL"] = f"{ARGS.server}/{ARGS.database}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402
from django.db.models import Exists, OuterRef  # noqa: E402
from django.utils import timezone  # noqa: E402

from campaigns.dialer import pool  # noqa: E402
from campaigns.models import Block, CallerApproval, ContactPhone, Lead, LeadStatus  # noqa: E402
from campaigns.selectors import explaining  # noqa: E402
from campaigns.services.statuses import lead_statuses_recompute  # noqa: E402
from suppressions.models import RegistryNumber  # noqa: E402
from suppressions.services.registries import registry_load  # noqa: E402


def run(checks, campaign, caller) -> tuple[float, float, float]:
    explaining._live_checks[:] = checks
    pool._lease_sql.cache_clear()
    timings = []
    handed = []
    for index in range(ARGS.pulls + 10):
        started = time.perf_counter()
        with transaction.atomic():
            pulled = pool.leads_pull_dialable(campaign=campaign, caller=caller, count=10)
            transaction.set_rollback(True)
        if index >= 10:  # the first compile and prepare the statements
            timings.append(time.perf_counter() - started)
            handed.append(len(pulled))
    timings.sort()
    return statistics.median(timings) * 1000, timings[int(len(timings) * 0.95)] * 1000, statistics.mean(handed)


def list_every(campaign, n: int) -> None:
    """Add every ``n``-th number of the campaign's Eligible leads to the national copy, as a change list."""
    numbers = (
        Lead.objects.filter(campaign=campaign, status=LeadStatus.ELIGIBLE)
        .order_by("pk")
        .values_list("contact__phones__phone__e164", flat=True)
    )
    chosen = [e164 for index, e164 in enumerate(numbers) if e164 and index % n == 0 and e164.startswith("+1")]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "changes.txt"
        path.write_text("".join(f"{e164.removeprefix('+1')},A\n" for e164 in chosen))
        started = time.perf_counter()
        load = registry_load(registry="national", paths=[path], changes=True, job="bench")
    print(
        f"listed {len(chosen):,} pool numbers (a change list: {load.added:,} added) "
        f"in {time.perf_counter() - started:.1f} s"
    )


def fully_listed(campaign) -> int:
    """How many of the campaign's Eligible leads have every number listed (and at least one)."""
    listed = RegistryNumber.objects.filter(e164=OuterRef("phone__e164"), removed_load__isnull=True)
    unlisted = ContactPhone.objects.filter(contact_id=OuterRef("contact_id")).exclude(Exists(listed))
    leads = Lead.objects.filter(campaign=campaign, status=LeadStatus.ELIGIBLE)
    return (
        leads.filter(Exists(ContactPhone.objects.filter(contact_id=OuterRef("contact_id"))))
        .exclude(Exists(unlisted))
        .count()
    )


def main() -> None:
    approval = CallerApproval.objects.in_force().select_related("campaign", "caller").first()
    if approval is None:
        raise SystemExit(f"No approved caller in {ARGS.database}: run bench/api_load.py first.")
    if ARGS.list_every:
        list_every(approval.campaign, ARGS.list_every)
    registered = list(explaining._live_checks)
    without = [dataclasses.replace(check, numbers_reasons=None) for check in registered]
    listed = RegistryNumber.objects.filter(removed_load__isnull=True).count()
    eligible = Lead.objects.filter(campaign=approval.campaign, status=LeadStatus.ELIGIBLE).count()
    print(
        f"pull(10) as the endpoint runs it, {ARGS.pulls} pulls each, {listed:,} registry numbers listed; "
        f"{eligible:,} Eligible leads, {fully_listed(approval.campaign):,} of them with every number listed"
    )
    for round_ in range(ARGS.rounds):
        base = run(without, approval.campaign, approval.caller)
        mine = run(registered, approval.campaign, approval.caller)
        print(
            f"round {round_ + 1}: with the registries p50 {mine[0]:.2f} ms, p95 {mine[1]:.2f} ms "
            f"({mine[2]:.1f} leads a pull); without p50 {base[0]:.2f} ms, p95 {base[1]:.2f} ms "
            f"({base[2]:.1f} leads a pull) (+{mine[0] - base[0]:.2f} ms at p50)"
        )
    explaining._live_checks[:] = registered
    if ARGS.work:
        work(approval.campaign, approval.caller)


def work(campaign, caller) -> None:
    """Pull ``--work`` times, keeping each lease; print p50 / p95 and the leads handed out by fifths."""
    fifth = max(ARGS.work // 5, 1)
    with transaction.atomic():
        if ARGS.unscrubbed:
            blocks = Block.objects.filter(source=Block.Source.REGISTRY, lifted_at__isnull=True)
            phones = list(blocks.values_list("phone_id", flat=True))
            blocks.update(lifted_at=timezone.now(), lifted_by_job="bench", lift_reason="bench: unscrubbed")
            lead_statuses_recompute(leads=Lead.objects.filter(contact__phones__phone_id__in=phones))
        eligible = Lead.objects.filter(campaign=campaign, status=LeadStatus.ELIGIBLE).count()
        print(f"working the pool: {ARGS.work} pulls of 10 kept, {eligible:,} Eligible leads at the start")
        timings, handed = [], []
        for _ in range(ARGS.work):
            started = time.perf_counter()
            handed.append(len(pool.leads_pull_dialable(campaign=campaign, caller=caller, count=10)))
            timings.append((time.perf_counter() - started) * 1000)
        transaction.set_rollback(True)
    for start in range(0, ARGS.work, fifth):
        part = sorted(timings[start : start + fifth])
        print(
            f"pulls {start + 1}-{start + len(part)}: p50 {statistics.median(part):.1f} ms, "
            f"p95 {part[int(len(part) * 0.95)]:.1f} ms, {sum(handed[start : start + fifth]):,} leads handed out"
        )


if __name__ == "__main__":
    main()

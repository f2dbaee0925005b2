"""Benchmark a national Do-Not-Call registry load against PostgreSQL, beside a same-run bare COPY floor.

    .venv/bin/python bench/registry.py                      # 10,000,000 generated numbers in area-code files
    .venv/bin/python bench/registry.py --numbers 1000000    # a smaller scale

Load: ``--numbers`` generated 10-digit numbers (a few duplicates among them), written as area-code files of one
number per line with CRLF, loaded as a full copy through ``suppressions.services.registries.registry_load``
(check each line, COPY into staging, one UPDATE, one INSERT … SELECT, in one transaction), beside the floor: a
bare COPY of the same numbers, already in E.164, into an unindexed table. Then a change list of
``--changes`` lines (a tenth deletions), and the table's and its indexes' sizes.

Dial check: the dial check's own statement (``dial_check_statement``: blocks, suppressions, the registries'
live checks) for a consumer lead whose number the registry lists, ``--checks`` times, before any load (the
registry empty: the baseline) and after. Peak memory is the process's peak RSS (``ru_maxrss``).

The script uses its own database (``leadops_bench_registry`` on ``--db-url``'s server), creating and migrating it;
each run empties the registry tables first.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--numbers", type=int, default=10_000_000, help="numbers in the generated full copy")
    parser.add_argument("--area-codes", type=int, default=50, help="area-code files to spread them over")
    parser.add_argument("--changes", type=int, default=100_000, help="lines in the change list loaded after")
    parser.add_argument("--checks", type=int, default=2_000, help="dial checks timed before and after the load")
    parser.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/leadops_bench_registry")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


ARGS = _parse()
os.environ["DATABASE_URL"] = ARGS.db_url
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")


def _create_database() -> None:
    import psycopg

    base, _, name = ARGS.db_url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


_create_database()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

call_command("migrate", verbosity=0)

from campaigns.models import Campaign, ContactPhone, Customer  # noqa: E402
from campaigns.selectors.explaining import dial_check_statement  # noqa: E402
from campaigns.services import account_create, contact_create, lead_create  # noqa: E402
from leadops.db import prepared_cursor  # noqa: E402
from suppressions.services.registries import _BadLines, _numbers, registry_load  # noqa: E402

LISTED = "2125550123"


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(folder: Path, rng: random.Random) -> list[Path]:
    """Write ``--numbers`` numbers over ``--area-codes`` files, one per line with CRLF; return the files."""
    codes = sorted({f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}" for _ in range(ARGS.area_codes * 3)})
    codes = [c for c in codes if c[1:] != "11"][: ARGS.area_codes]
    per_file = ARGS.numbers // len(codes)
    paths = []
    for index, code in enumerate(codes):
        path = folder / f"{code}.txt"
        count = per_file + (ARGS.numbers - per_file * len(codes) if index == 0 else 0)
        with path.open("w", newline="") as out:
            if index == 0:
                out.write(f"{LISTED}\r\n")
            out.writelines(f"{code}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}\r\n" for _ in range(count))
        paths.append(path)
    return paths


def copy_floor(paths: list[Path]) -> float:
    """Bare COPY of the same numbers in E.164 into an unindexed table, committed (then dropped)."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS registry_floor")
        cursor.execute("CREATE TABLE registry_floor (e164 text)")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for path in paths:
            with path.open() as handle, cursor.copy("COPY registry_floor (e164) FROM STDIN") as copy:
                copy.write("".join(f"+1{line.strip()}\n" for line in handle if line.strip()))
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE registry_floor")
    return elapsed


def dial_lead():
    customer, _ = Customer.objects.get_or_create(
        slug="bench-registry", defaults={"name": "Bench", "phone_region": "US"}
    )
    campaign, _ = Campaign.objects.get_or_create(
        customer=customer, name="Consumers", defaults={"status": Campaign.Status.ACTIVE}
    )
    link = ContactPhone.objects.filter(phone__e164=f"+1{LISTED}", contact__customer=customer).first()
    if link is not None:
        return link.contact.leads.get(), f"+1{LISTED}"
    account = account_create(customer=customer, name="Household")
    contact = contact_create(
        account=account, first_name="Pat", last_name="Doe", phones=[(LISTED, ContactPhone.Kind.MOBILE)]
    )
    return lead_create(campaign=campaign, contact=contact, source="bench"), f"+1{LISTED}"


def time_dial_checks(lead, e164: str) -> tuple[float, float, list]:
    sql, params = dial_check_statement()
    values = params(lead.pk, e164)
    timings = []
    rows = []
    with prepared_cursor() as cursor:
        for _ in range(ARGS.checks):
            started = time.perf_counter()
            cursor.execute(sql, values)
            rows = cursor.fetchall()
            timings.append(time.perf_counter() - started)
    timings.sort()
    return statistics.median(timings) * 1000, timings[int(len(timings) * 0.95)] * 1000, rows


def sizes() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_relation_size('suppressions_registrynumber'), pg_indexes_size('suppressions_registrynumber')"
        )
        return cursor.fetchone()


def main() -> None:
    rng = random.Random(ARGS.seed)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE suppressions_registrynumber, suppressions_registryload RESTART IDENTITY CASCADE")
    lead, e164 = dial_lead()
    before_p50, before_p95, rows = time_dial_checks(lead, e164)
    assert not any(kind == "registry" for kind, _ in rows)
    with tempfile.TemporaryDirectory() as folder:
        paths = generate(Path(folder), rng)
        megabytes = sum(p.stat().st_size for p in paths) / 1e6
        print(f"generated {ARGS.numbers:,} numbers in {len(paths)} area-code files ({megabytes:,.0f} MB)")
        floor = copy_floor(paths)
        started = time.perf_counter()
        checked = sum(1 for _ in _numbers(paths, changes=False, bad=_BadLines(), reads=[]))
        reading = time.perf_counter() - started
        rss_before = _maxrss_mb()
        started = time.perf_counter()
        load = registry_load(registry="national", paths=paths, changes=False, job="bench")
        loaded = time.perf_counter() - started
        print(
            f"full load: {loaded:.1f}s for {load.staged:,} lines ({load.added:,} listed after duplicates), "
            f"{load.staged / loaded:,.0f} lines/s; bare COPY floor {floor:.1f}s ({loaded / floor:.1f}x); reading and "
            f"checking the {checked:,} lines alone {reading:.1f}s"
        )
        print(f"peak RSS of the process: {_maxrss_mb():.0f} MB (before the load: {rss_before:.0f} MB)")
        table, indexes = sizes()
        print(
            f"suppressions_registrynumber: table {table / 1e6:,.0f} MB, indexes {indexes / 1e6:,.0f} MB "
            f"({(table + indexes) / max(load.total, 1):.0f} bytes per number)"
        )
        # A tenth deletions of listed numbers (the second file's first lines), the rest additions.
        with paths[1].open() as listed:
            deleting = [next(listed).strip() for _ in range(min(ARGS.changes // 10, ARGS.numbers // len(paths)))]
        changes = Path(folder) / "changes.txt"
        with changes.open("w", newline="") as out:
            out.writelines(f"{number},D\r\n" for number in deleting)
            for _ in range(ARGS.changes - len(deleting)):
                area = f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(2, 9)}"
                out.write(f"{area}{rng.randint(200, 999)}{rng.randint(0, 9999):04d},A\r\n")
        started = time.perf_counter()
        change = registry_load(registry="national", paths=[changes], changes=True, job="bench")
        print(
            f"change list: {time.perf_counter() - started:.2f}s for {ARGS.changes:,} lines "
            f"(+{change.added:,} -{change.removed:,}, {change.total:,} listed)"
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE suppressions_registrynumber")
    after_p50, after_p95, rows = time_dial_checks(lead, e164)
    assert any(kind == "registry" for kind, _ in rows), "the listed number was not found"
    print(
        f"dial check ({ARGS.checks:,} runs of its statement): p50 {after_p50:.3f} ms, p95 {after_p95:.3f} ms "
        f"with {change.total:,} numbers listed; baseline with the registry empty p50 {before_p50:.3f} ms, "
        f"p95 {before_p95:.3f} ms"
    )


if __name__ == "__main__":
    main()

"""The partitioning claim, measured: lead, block and entry tables hash-partitioned by customer, beside plain ones.

    .venv/bin/python bench/partitioned.py                                  # 8 customers of 125,000 leads
    .venv/bin/python bench/partitioned.py --customers 4 --leads 20000 --upload 20000 --checks 500 --pulls 50

Builds the same data twice, each in a database of its own (``leadops_bench_plain`` and
``leadops_bench_partitioned`` on ``--server``): ``--customers`` customers of ``--leads`` leads each (a
contact with two numbers and an email, ten contacts an account). In the second, ``campaigns_lead``,
``campaigns_block`` and ``suppressions_entry`` are then rebuilt as ``PARTITION BY HASH (customer_id)`` with
``--partitions`` partitions: every index kept (a unique one gains ``customer_id``, as PostgreSQL requires), the
foreign keys and triggers of each table re-made on it; the foreign keys *to* the lead table (a block's or a
call's lead) cannot be (a partitioned table's unique keys must include its partition key) and are dropped.

Then, on each database, for the first customer: a suppression upload of ``--upload`` numbers (half of them
the customer's) read through the real pipeline (``upload_read``) and matched (``upload_match``); a full
rematch of every entry from no blocks (``customer_rematch``); ``--checks`` dial checks (``can_dial_lead``
with the customer's scope, the dialer's one prepared statement) and ``--pulls`` pulls of 10 leads
(``leads_pull``). Prints each figure beside the other database's.

Each database is run in a child process of this script (``--mode``), so each has its own Django setup.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# bench/ is this script's own directory, first on its path: the campaign's set-up is bench/api_load.py's.
from api_load import calling_around_the_clock

ROOT = Path(__file__).resolve().parent.parent
PARTITIONED = ("campaigns_lead", "campaigns_block", "suppressions_entry")


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=8)
    parser.add_argument("--leads", type=int, default=125_000, help="leads per customer")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--upload", type=int, default=100_000, help="numbers in the suppression upload")
    parser.add_argument("--checks", type=int, default=2_000)
    parser.add_argument("--pulls", type=int, default=200)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--mode", choices=["plain", "partitioned"], help=argparse.SUPPRESS)
    return parser.parse_args()


ARGS = _args()


# --- the child: one database ----------------------------------------------------------------------------


def _setup_django(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{ARGS.server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = f"{ARGS.server}/{name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _build(cursor, *, customers: int, leads: int) -> list[int]:
    """Fill ``customers`` customers of ``leads`` leads each, set-based; return the customer ids."""
    ids = []
    for n in range(customers):
        cursor.execute(
            "INSERT INTO campaigns_customer (name, slug, phone_region, created_at, updated_at) "
            "VALUES (%s, %s, 'US', now(), now()) RETURNING id",
            [f"Bench {n}", f"bench-{n}"],
        )
        customer = cursor.fetchone()[0]
        ids.append(customer)
        cursor.execute(
            "INSERT INTO campaigns_campaign (customer_id, name, status, cooldown_hours, attempt_cap, audience, "
            "created_at, updated_at) VALUES (%s, 'Bench', 'active', 24, 6, 'consumer', now(), now())",
            [customer],
        )
    cursor.execute(
        """
        INSERT INTO campaigns_account (customer_id, name, domain, created_at, updated_at)
        SELECT c.id, 'Account ' || g, 'c' || c.id || '-company' || g || '.com', now(), now()
        FROM campaigns_customer c CROSS JOIN generate_series(1, %s) g
        """,
        [max(1, leads // 10)],
    )
    cursor.execute(
        """
        INSERT INTO campaigns_contact (customer_id, account_id, first_name, last_name, title, created_at, updated_at)
        SELECT a.customer_id, a.id, 'Pat', 'L' || g, '', now(), now()
        FROM campaigns_account a CROSS JOIN generate_series(1, 10) g
        """
    )
    cursor.execute(
        """
        INSERT INTO campaigns_phonenumber (e164, created_at)
        SELECT '+1' || (2022000000 + 2 * c.id - k)::text, now()
        FROM campaigns_contact c CROSS JOIN (VALUES (0), (1)) v(k)
        """
    )
    cursor.execute(
        """
        INSERT INTO campaigns_contactphone (contact_id, phone_id, kind)
        SELECT c.id, p.id, 'direct' FROM campaigns_contact c CROSS JOIN (VALUES (0), (1)) v(k)
        JOIN campaigns_phonenumber p ON p.e164 = '+1' || (2022000000 + 2 * c.id - k)::text
        """
    )
    cursor.execute(
        """
        INSERT INTO campaigns_contactemail (contact_id, email, domain)
        SELECT c.id, 'p' || c.id || '@' || a.domain, a.domain
        FROM campaigns_contact c JOIN campaigns_account a ON a.id = c.account_id
        """
    )
    cursor.execute(
        """
        INSERT INTO campaigns_lead (customer_id, campaign_id, contact_id, status, stage, waiting_reason, priority,
                                    attempts, source, created_at, updated_at)
        SELECT c.customer_id, k.id, c.id, 'eligible', 'new', '', c.id % 5, 0, 'bench', now(), now()
        FROM campaigns_contact c JOIN campaigns_campaign k ON k.customer_id = c.customer_id
        """
    )
    return ids


def _index_with_key(definition: str) -> str:
    """Return a unique index's definition with ``customer_id`` among its columns (a partitioned table's unique
    index must hold its partition key)."""
    start = definition.index("USING btree (") + len("USING btree (")
    depth, end = 1, start
    while depth:
        depth += {"(": 1, ")": -1}.get(definition[end], 0)
        end += 1
    columns = definition[start : end - 1]
    if "customer_id" in [c.strip() for c in columns.split(",")]:
        return definition
    return f"{definition[: end - 1]}, customer_id{definition[end - 1 :]}"


def _partition(cursor, table: str, partitions: int) -> list[str]:
    """Rebuild ``table`` as hash-partitioned by customer_id; return notes on what could not be kept."""
    notes = []
    new = f"{table}_p"
    cursor.execute(
        f"CREATE TABLE {new} (LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS) "
        "PARTITION BY HASH (customer_id)"
    )
    for remainder in range(partitions):
        cursor.execute(
            f"CREATE TABLE {new}_{remainder} PARTITION OF {new} "
            f"FOR VALUES WITH (MODULUS {partitions}, REMAINDER {remainder})"
        )
    cursor.execute(f"INSERT INTO {new} OVERRIDING SYSTEM VALUE SELECT * FROM {table}")
    cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = %s", [table])
    for name, definition in cursor.fetchall():
        definition = definition.replace(f" ON public.{table} ", f" ON public.{new} ").replace(name, f"{name}_p", 1)
        if definition.startswith("CREATE UNIQUE"):
            definition = _index_with_key(definition)
        cursor.execute(definition)
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
        [table],
    )
    for name, definition in cursor.fetchall():
        cursor.execute(f"ALTER TABLE {new} ADD CONSTRAINT {name}_p {definition}")
    cursor.execute(
        "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
        [table],
    )
    for name, definition in cursor.fetchall():
        definition = definition.replace(f" ON public.{table} ", f" ON public.{new} ").replace(name, f"{name}_p", 1)
        cursor.execute("SAVEPOINT trigger_copy")
        try:
            cursor.execute(definition)
        except Exception as exc:  # reported: a trigger PostgreSQL refuses on a partitioned table
            cursor.execute("ROLLBACK TO SAVEPOINT trigger_copy")
            notes.append(f"{table}: trigger {name} not re-made ({exc.__class__.__name__}: {str(exc).splitlines()[0]})")
    cursor.execute(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE confrelid = %s::regclass AND contype = 'f'",
        [table],
    )
    for referencing, name in cursor.fetchall():
        notes.append(f"foreign key {referencing}.{name} to {table} dropped")
    cursor.execute(f"DROP TABLE {table} CASCADE")
    cursor.execute(f"ALTER TABLE {new} RENAME TO {table}")
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
    )
    return notes


def _percentiles(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {
        "p50_ms": 1000 * statistics.median(samples),
        "p95_ms": 1000 * samples[int(0.95 * (len(samples) - 1))],
        "per_second": len(samples) / sum(samples),
    }


def child(mode: str) -> dict:
    _setup_django(f"leadops_bench_{mode}")
    from django.core.files.base import ContentFile
    from django.db import connection, transaction

    from campaigns.dialer.pool import leads_pull
    from campaigns.models import Campaign, Customer, Lead
    from campaigns.selectors.explaining import can_dial_lead
    from suppressions.models import Upload
    from suppressions.services import upload_create
    from suppressions.services.matching import customer_rematch, upload_match
    from suppressions.services.pipeline import upload_read
    from tests.campaigns.api_factories import CallerFactory

    figures: dict[str, object] = {"notes": []}
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        ids = _build(cursor, customers=ARGS.customers, leads=ARGS.leads)
    figures["build_s"] = time.perf_counter() - started
    if mode == "partitioned":
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            for table in PARTITIONED:
                figures["notes"] += _partition(cursor, table, ARGS.partitions)
        figures["partition_s"] = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    customer = Customer.objects.get(pk=ids[0])
    campaign = Campaign.objects.get(customer=customer)
    # Around the clock (as bench/api_load.py's): the dial checks measure the work, not the hour of the run.
    calling_around_the_clock(campaign)

    # A suppression upload: half the customer's own numbers, half numbers on no one's file.
    rng = random.Random(7)
    contacts = list(Lead.objects.filter(customer=customer).values_list("contact_id", flat=True))
    rows = ["phone"]
    for n in range(ARGS.upload):
        if n % 2:
            rows.append(f"+1{2022000000 + 2 * rng.choice(contacts)}")
        else:
            rows.append(f"+1415{rng.randint(2_000_000, 9_999_999)}")
    content = ("\r\n".join(rows) + "\r\n").encode()
    with tempfile.TemporaryDirectory():
        upload = upload_create(
            customer=customer,
            file=ContentFile(content, name="dnc.csv"),
            original_name="dnc.csv",
            uploaded_by=None,
            enqueue=False,
        )
        started = time.perf_counter()
        upload = upload_read(upload_id=upload.pk)
        figures["upload_read_s"] = time.perf_counter() - started
        assert upload.status == Upload.Status.MATCHING, upload.error
        started = time.perf_counter()
        result = upload_match(upload=upload)
        figures["upload_match_s"] = time.perf_counter() - started
        figures["upload_blocks"] = result.blocks_created

    # A full rematch from no blocks, every lead Eligible again.
    with connection.cursor() as cursor:
        # CASCADE: the tables that refer to blocks (undo requests) are empty here, and TRUNCATE refuses otherwise.
        cursor.execute("TRUNCATE campaigns_block CASCADE")
        cursor.execute("UPDATE campaigns_lead SET status = 'eligible' WHERE status <> 'eligible'")
        cursor.execute("VACUUM ANALYZE campaigns_lead, campaigns_block")
    started = time.perf_counter()
    result = customer_rematch(customer=customer)
    figures["full_rematch_s"] = time.perf_counter() - started
    figures["full_rematch_blocks"] = result.blocks_created
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    # Dial checks with the customer's scope, as the dialer's customer key asks them.
    leads = Lead.objects.filter(customer=customer).order_by("pk", "contact__phones__phone__e164")
    numbers = dict(leads.values_list("pk", "contact__phones__phone__e164"))  # each lead with its last number
    sample = [(pk, numbers[pk]) for pk in random.Random(11).sample(sorted(numbers), min(ARGS.checks, len(numbers)))]
    times = []
    refused = 0
    for lead_id, e164 in sample:
        started = time.perf_counter()
        check = can_dial_lead(lead_id, e164, customer_id=customer.pk)
        times.append(time.perf_counter() - started)
        refused += not check.allowed
    figures["dial_check"] = {**_percentiles(times), "refused": refused, "checks": len(times)}

    caller = CallerFactory(approved_for=[campaign])
    times = []
    for _ in range(ARGS.pulls):
        with transaction.atomic():
            started = time.perf_counter()
            leads_pull(campaign=campaign, caller=caller, count=10)
            times.append(time.perf_counter() - started)
    figures["pull"] = _percentiles(times)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM campaigns_lead")
        figures["leads"] = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent IN ('campaigns_lead'::regclass, "
            "'campaigns_block'::regclass, 'suppressions_entry'::regclass)"
        )
        figures["partitions"] = cursor.fetchone()[0]
    figures["load"] = os.getloadavg()[0]
    return figures


# --- the parent: both, side by side ---------------------------------------------------------------------


def _run(mode: str) -> dict:
    command = [sys.executable, __file__, "--mode", mode, *sys.argv[1:]]
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    if ARGS.mode:
        print(json.dumps(child(ARGS.mode)))
        return
    print(
        f"{ARGS.customers} customers x {ARGS.leads:,} leads; upload of {ARGS.upload:,} numbers; "
        f"{ARGS.checks:,} dial checks; {ARGS.pulls} pulls of 10; {ARGS.partitions} hash partitions by customer"
    )
    plain = _run("plain")
    part = _run("partitioned")
    print(f"{'':34}{'plain':>14}{'partitioned':>14}{'ratio':>8}")

    def line(label: str, a: float, b: float, unit: str) -> None:
        print(f"{label:34}{a:>12.2f}{unit:2}{b:>12.2f}{unit:2}{b / a if a else 0:>7.2f}x")

    line("suppression upload read", plain["upload_read_s"], part["upload_read_s"], "s")
    line("its matching (incremental)", plain["upload_match_s"], part["upload_match_s"], "s")
    line("full rematch", plain["full_rematch_s"], part["full_rematch_s"], "s")
    line("dial check p50", plain["dial_check"]["p50_ms"], part["dial_check"]["p50_ms"], "ms")
    line("dial check p95", plain["dial_check"]["p95_ms"], part["dial_check"]["p95_ms"], "ms")
    line("dial checks per second (1 client)", plain["dial_check"]["per_second"], part["dial_check"]["per_second"], "")
    line("pull of 10, p50", plain["pull"]["p50_ms"], part["pull"]["p50_ms"], "ms")
    line("pull of 10, p95", plain["pull"]["p95_ms"], part["pull"]["p95_ms"], "ms")
    line("pulls per second (1 client)", plain["pull"]["per_second"], part["pull"]["per_second"], "")
    print(
        f"same work: blocks {plain['upload_blocks']:,}/{part['upload_blocks']:,} (upload), "
        f"{plain['full_rematch_blocks']:,}/{part['full_rematch_blocks']:,} (full rematch); dial checks refused "
        f"{plain['dial_check']['refused']}/{part['dial_check']['refused']}; "
        f"leads {plain['leads']:,}/{part['leads']:,}; "
        f"partitions 0/{part['partitions']} (re-partitioning took {part['partition_s']:.1f}s)"
    )
    print(f"load average at the end: {plain['load']:.1f} / {part['load']:.1f} on {os.cpu_count()} CPUs")
    for note in part["notes"]:
        print(f"  note: {note}")


if __name__ == "__main__":
    main()

"""Benchmark: a CRM-style lead file into an existing campaign, through the real import pipeline (PostgreSQL).

Builds a campaign of ``--existing`` leads (default 1,000,000) set-based, with a fit rule (country US or CA)
and 20,000 suppression entries of its customer, writes a ``--rows`` CSV (default 200,000: names, titles,
companies shared by several rows, domains, emails, office numbers shared within a company, mobiles; 1 row
in 100 junk, 1 in 50 already in the campaign, 1 in 40 with a suppressed mobile, 1 in 25 outside the fit
rule's countries), then times, in the same run:

1. the floor: reading and judging every row (the shared reader, normalisation, junk rules), no database;
2. the whole import: merge into accounts/contacts/numbers, leads, suppression scrub, fit rules, statuses;
3. the write floor: the rows the import wrote (every table's rows past its largest id before the import),
   copied by ``COPY`` into a copy of the database as it was just before the import (``CREATE DATABASE …
   TEMPLATE``), parents first, in one transaction: the same indexes, constraints and triggers, no reading,
   no merging, no judging. What no import that writes those rows into those tables can go below.

Prints rows/s for both, the ratio (the target is at most 2x), the import's report, the write floor table by
table, the peak resident memory of the process (the floor runs in a child process of its own, so the peak
is the import's, beside what the process held before it started) and the machine's load average (the
figures are only comparable at a like load).

    .venv/bin/python bench/lead_import.py [--rows 200000] [--existing 1000000]
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import random
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/leadops_bench_import")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
# As a worker runs: with DEBUG on (the settings' default) Django keeps the text of every statement (up to
# 9,000, each batch's id lists among them) and formats each one, which the import then paid for in time and memory.
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
os.environ.setdefault("LOG_LEVEL", "WARNING")

FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Linus", "Radia", "Tim", "José", "Seán"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton", "Torvalds", "Núñez", "O'Brien"]
TITLES = ["CTO", "VP Engineering", "Head of IT", "Director of Operations", "Procurement Manager", "CFO"]


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def populate(existing: int):
    """Return a campaign with ``existing`` leads, inserted set-based."""
    from django.db import connection

    from campaigns.services import campaign_create, customer_create

    customer = customer_create(name="Bench Co", slug="bench", phone_region="US")
    campaign = campaign_create(customer=customer, name="Outbound Q1")
    with connection.cursor() as cur:
        cur.execute(
            """INSERT INTO campaigns_account (customer_id, name, domain, created_at, updated_at)
               SELECT %s, 'Existing ' || g, 'existing-' || g || '.example', now(), now()
               FROM generate_series(1, %s) g""",
            [customer.pk, max(1, existing // 10)],
        )
        cur.execute(
            """INSERT INTO campaigns_contact (customer_id, account_id, first_name, last_name, title, created_at,
                                              updated_at)
               SELECT %s, a.id, 'First', 'Last' || g, '', now(), now()
               FROM generate_series(1, %s) g
               JOIN campaigns_account a ON a.domain = 'existing-' || (1 + (g - 1) / 10) || '.example'""",
            [customer.pk, existing],
        )
        cur.execute(
            """INSERT INTO campaigns_phonenumber (e164, created_at)
               SELECT '+1202' || (2000000 + g)::text, now() FROM generate_series(1, %s) g""",
            [existing],
        )
        cur.execute(
            """INSERT INTO campaigns_contactphone (contact_id, phone_id, kind)
               SELECT c.id, p.id, 'direct' FROM campaigns_contact c
               JOIN campaigns_phonenumber p ON p.e164 = '+1202' || (2000000 + c.id)::text""",
        )
        cur.execute(
            """INSERT INTO campaigns_lead (customer_id, campaign_id, contact_id, status, waiting_reason, priority,
                                           attempts, source, stage, created_at, updated_at)
               SELECT %s, %s, id, 'eligible', '', 0, 0, 'existing', 'new', now(), now() FROM campaigns_contact""",
            [customer.pk, campaign.pk],
        )
        cur.execute("ANALYZE")
    from campaigns.imports.models import FitRule
    from suppressions.models import Entry

    FitRule.objects.create(campaign=campaign, field="country", operator="in", values="US, CA")
    # The mobiles of 1 row in 40 (see ``write_file``), and numbers no row has.
    suppressed = [f"+1415{200 + i // 10000 % 700:03d}{i % 10000:04d}" for i in range(1, 400_000, 40) if i % 3]
    noise = [f"+1646{2000000 + i}" for i in range(20_000 - min(len(suppressed), 20_000))]
    Entry.objects.bulk_create(
        [Entry(customer=customer, kind=Entry.Kind.PHONE, value=v) for v in (suppressed + noise)[:20_000]],
        batch_size=5000,
    )
    return campaign


def write_file(path: Path, rows: int, *, existing_contact_ids: list[int]) -> None:
    rng = random.Random(7)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "First Name",
                "Last Name",
                "Title",
                "Company",
                "Website",
                "Email",
                "Phone",
                "Mobile Phone",
                "Country",
                "Industry",
                "Employees",
                "Lead Source",
            ]
        )
        for i in range(rows):
            if i % 100 == 99:
                writer.writerow(["Testing!£##", "", "", "", "", "!!!@mail.com", "123456789", "", "", "", "", ""])
                continue
            if i % 50 == 0 and existing_contact_ids:
                # A row for someone already in the campaign: matched by name + shared number in the account.
                cid = rng.choice(existing_contact_ids)
                writer.writerow(
                    [
                        "First",
                        f"Last{cid}",
                        "",
                        f"Existing {1 + (cid - 1) // 10}",
                        f"existing-{1 + (cid - 1) // 10}.example",
                        "",
                        f"+1202{2000000 + cid}",
                        "",
                        "US",
                        "",
                        "",
                        "Reimport",
                    ]
                )
                continue
            company = i // 4  # four people per company, sharing the switchboard
            first, last = rng.choice(FIRST), rng.choice(LAST)
            office = f"(303) {200 + company // 10000 % 700:03d}-{company % 10000:04d}"
            mobile = f"+1 415 {200 + i // 10000 % 700:03d} {i % 10000:04d}" if i % 3 else ""
            writer.writerow(
                [
                    first,
                    last,
                    rng.choice(TITLES),
                    f"Company {company}",
                    f"https://www.company{company}.com",
                    f"{first.lower()}.{i}@company{company}.com",
                    office,
                    mobile,
                    "DE" if i % 25 == 7 else "US",
                    "Software",
                    str(rng.randint(10, 5000)),
                    "Trade show",
                ]
            )


def in_child(work):
    """Return ``work()``'s result, computed in a forked child process (its memory is not this process's)."""
    import pickle

    from django.db import connections

    connections.close_all()  # the child must not share (nor, exiting, close) this process's connections
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, and leave without running any of the parent's clean-up
        os.close(reading)
        try:
            payload = pickle.dumps(("ok", work()))
        except BaseException as exc:  # sent to the parent, which raises it
            payload = pickle.dumps(("error", repr(exc)))
        with os.fdopen(writing, "wb") as out:
            out.write(payload)
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading, "rb") as received:
        kind, value = pickle.loads(received.read())
    os.waitpid(pid, 0)
    if kind == "error":
        raise RuntimeError(f"the floor failed in its process: {value}")
    return value


class _Phases(logging.Handler):
    """Sum the import's own timings of its parts (its debug log: "import phase merge: 0.812s")."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seconds: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.startswith("import phase "):
            name = record.msg.removeprefix("import phase ").partition(":")[0]
            self.seconds[name] = self.seconds.get(name, 0.0) + record.args[-1]

    def summary(self, total: float) -> str:
        parts = sorted(self.seconds.items(), key=lambda item: -item[1])
        rest = total - sum(self.seconds.values())
        return ", ".join(f"{name} {seconds:.1f}s" for name, seconds in parts) + f", the rest {rest:.1f}s"


# --- the write floor ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Before:
    clone: str  # the database as it was just before the import
    largest_ids: dict[str, int]  # each table's largest id then


def database_copy_before_import() -> _Before:
    """Copy the bench's database as it is now (just before the import) and note each table's largest id."""
    import psycopg
    from django.db import connection, connections

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    clone = f"{name}_write_floor"
    with connection.cursor() as cur:
        # Each table with an id (partitions left to their parent), and its largest id.
        cur.execute(
            """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'id' AND NOT a.attisdropped
               WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"""
        )
        tables = sorted(row[0] for row in cur.fetchall())
        largest = {}
        for table in tables:
            cur.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"')
            largest[table] = cur.fetchone()[0]
    connections.close_all()  # a template must have no other session
    t0 = time.perf_counter()
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{clone}"')
        conn.execute(f'CREATE DATABASE "{clone}" TEMPLATE "{name}" STRATEGY FILE_COPY')
    print(f"copied the database as it is before the import in {time.perf_counter() - t0:.1f}s")
    return _Before(clone=clone, largest_ids=largest)


def _parents_first(tables: list[str]) -> list[str]:
    """``tables`` ordered so that every table comes after those its rows refer to (the models' references,
    constrained or checked by ``leadops.references``)."""
    from django.apps import apps

    refers_to: dict[str, set[str]] = {table: set() for table in tables}
    for model in apps.get_models():
        table = model._meta.db_table
        if table in refers_to:
            for field in model._meta.concrete_fields:
                if field.is_relation and field.related_model is not None:
                    parent = field.related_model._meta.db_table
                    if parent in refers_to and parent != table:
                        refers_to[table].add(parent)
    ordered: list[str] = []
    while refers_to:
        ready = sorted(t for t, parents in refers_to.items() if not parents - set(ordered))
        if not ready:
            raise RuntimeError(f"the tables' references go round in a circle: {sorted(refers_to)}")
        ordered += ready
        for table in ready:
            del refers_to[table]
    return ordered


def write_floor(before: _Before) -> float:
    """Copy the rows the import wrote into the copy of the database from before it; print and return the time.

    The rows are read out first (binary ``COPY … TO``, untimed), then written with binary ``COPY … FROM``
    table by table, parents first, in one transaction with its commit (the deferred checks of the
    references) timed too. Rows the import updated rather than inserted (its own record, leads already in
    the campaign) are left out: this is a floor."""
    import psycopg
    from django.db import connection, connections

    url = os.environ["DATABASE_URL"]
    new_rows: dict[str, tuple[int, bytes]] = {}
    with connection.cursor() as cur:
        raw = cur.connection  # psycopg's
        for table, largest in before.largest_ids.items():
            cur.execute(f'SELECT count(*) FROM "{table}" WHERE id > %s', [largest])
            count = cur.fetchone()[0]
            if count:
                data = bytearray()
                with raw.cursor().copy(
                    f'COPY (SELECT * FROM "{table}" WHERE id > {int(largest)} ORDER BY id) TO STDOUT (FORMAT BINARY)'
                ) as copy:
                    for chunk in copy:
                        data += chunk
                new_rows[table] = (count, bytes(data))
    order = _parents_first(list(new_rows))
    connections.close_all()
    seconds: dict[str, float] = {}
    try:
        with psycopg.connect(url.rsplit("/", 1)[0] + "/" + before.clone) as conn:
            conn.execute("SET jit = off")
            started = time.perf_counter()
            for table in order:
                t0 = time.perf_counter()
                with conn.cursor().copy(f'COPY "{table}" FROM STDIN (FORMAT BINARY)') as copy:
                    copy.write(new_rows[table][1])
                seconds[table] = time.perf_counter() - t0
            t0 = time.perf_counter()
            conn.commit()
            seconds["the commit"] = time.perf_counter() - t0
            total = time.perf_counter() - started
    finally:
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{before.clone}"')
    rows = sum(count for count, _ in new_rows.values())
    print(f"\nwrite floor (the {rows:,} rows it wrote, COPY into the tables as they were before it): {total:6.1f}s")
    parts = sorted(seconds.items(), key=lambda item: -item[1])
    print(
        "  "
        + ", ".join(
            f"{table} {s:.1f}s" + (f" ({new_rows[table][0]:,} rows)" if table in new_rows else "") for table, s in parts
        )
    )
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--existing", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=None, help="rows per batch (default: the import's)")
    args = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.files import File
    from django.core.management import call_command

    from campaigns.imports.models import LeadImport
    from campaigns.imports.services import lead_import_run
    from campaigns.imports.services.importing import _batches, plan_lead_columns
    from campaigns.models import Contact, Lead
    from leadops.normalizing import PhoneNormalizer
    from suppressions.reading import open_table

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    campaign = populate(args.existing)
    print(
        f"campaign with {Lead.objects.filter(campaign=campaign).count():,} leads in "
        f"{time.perf_counter() - started:.1f}s"
    )
    ids = list(Contact.objects.order_by("?").values_list("pk", flat=True)[:5000])
    workdir = Path(tempfile.mkdtemp())
    path = workdir / "crm-export.csv"
    write_file(path, args.rows, existing_contact_ids=ids)
    print(f"file: {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB")

    # 1. baseline: read and judge every row, no database — in a child process, so that the peak memory printed
    # below is the import's (as a worker's would be), not the floor's reading, which this process would keep.
    def floor() -> tuple[int, float]:
        t0 = time.perf_counter()
        with open_table(path) as table:
            plan, _ = plan_lead_columns(table.head(), mapping=None)
            rows = _batches(table, plan, phones=PhoneNormalizer(region="US"), source="", size=5000)
            judged = sum(len(batch) for batch in rows)
        return judged, time.perf_counter() - t0

    judged, read_s = in_child(floor)
    print(f"load average (1, 5, 15 min) before: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"\nfloor (read + normalise + junk rules):    {read_s:6.1f}s  {judged / read_s:9,.0f} rows/s")

    # 2. the real import
    with path.open("rb") as handle:
        lead_import = LeadImport(campaign=campaign, original_name=path.name, status=LeadImport.Status.QUEUED)
        lead_import.file.save(path.name, File(handle), save=True)
    before = database_copy_before_import()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    phases = _Phases()
    importing_log = logging.getLogger("campaigns.imports.services.importing")
    importing_log.setLevel(logging.DEBUG)
    importing_log.addHandler(phases)
    importing_log.propagate = False
    t0 = time.perf_counter()
    lead_import = lead_import_run(
        lead_import_id=lead_import.pk, **({"batch_size": args.batch_size} if args.batch_size else {})
    )
    import_s = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"import (merge, leads, scrub, statuses):    {import_s:6.1f}s  {lead_import.rows_read / import_s:9,.0f} rows/s"
        f"  ({import_s / read_s:.2f}x the floor; target at most 2x: {'met' if import_s <= 2 * read_s else 'NOT met'})"
    )
    print(f"  status {lead_import.status} {lead_import.error}")
    print(f"  where its time went (the reading overlaps the merging, in a thread): {phases.summary(import_s)}")
    print(
        f"  rows read {lead_import.rows_read:,}, junk {lead_import.junk:,}, leads created "
        f"{lead_import.leads_created:,}, already in campaign {lead_import.leads_existing:,}"
    )
    print(f"  accounts created {lead_import.accounts_created:,}, contacts created {lead_import.contacts_created:,}")
    print(
        f"  eligible {lead_import.eligible:,}, disqualified {lead_import.disqualified:,} "
        f"{lead_import.disqualified_by_source}"
    )
    print(
        f"peak resident memory of the process: {peak_mb:,.0f} MB (target under 300 MB: "
        f"{'met' if peak_mb < 300 else 'NOT met'}; before the import: {rss_before:,.0f} MB, after migrating and "
        "building the campaign; the floor was measured in a process of its own)"
    )
    write_s = write_floor(before)
    print(
        f"  the import {import_s / write_s:.2f}x its write floor; the read floor and the write floor together "
        f"{(read_s + write_s) / read_s:.2f}x the read floor (the target, 2x the read floor, is {2 * read_s:.1f}s)"
    )
    print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

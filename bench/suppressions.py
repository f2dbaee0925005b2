"""Benchmark suppression uploads and rematching against PostgreSQL, each beside a same-run bare baseline.

    .venv/bin/python bench/suppressions.py                       # full sizes (1M rows, 1M leads)
    .venv/bin/python bench/suppressions.py --rows 100000 --leads 100000 --entries 10000 --full-entries 100000

Upload: a generated messy file (90 % phone numbers in mixed writings, the rest emails and domains, with
duplicates and junk) through the real pipeline (``upload_read``: read, detect, normalise, COPY, dedupe,
commit) against the bare baseline: COPY of the already-normalised values into a staging table plus one
``INSERT … SELECT … ON CONFLICT DO NOTHING`` into an indexed table. Target: at most 1.5x.

Rematch: an upload of ``--entries`` entries against a customer with ``--leads`` leads and two numbers per
contact (``upload_match``: blocks inserted, statuses recomputed, batches committed), and a full rematch of
``--full-entries`` entries (``customer_rematch``), each beside its floor: a bare SQL script writing the same
blocks and the same statuses (checked by a digest of both tables) with none of the matcher's guarantees, run
from the same state (no blocks, every lead eligible, vacuumed). Target: at most 2x. The bare join that only
finds the matches is printed too.

The script uses its own database (``leadops_bench`` on ``--db-url``'s server), creating and migrating it.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the generated upload file")
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads (and contacts) of the rematch customer")
    parser.add_argument("--entries", type=int, default=100_000, help="entries in the upload matched in the rematch")
    parser.add_argument("--full-entries", type=int, default=1_000_000, help="entries in the full rematch")
    parser.add_argument("--skip-upload", action="store_true")
    parser.add_argument("--skip-rematch", action="store_true")
    parser.add_argument("--skip-upload-rematch", action="store_true", help="measure the full rematch only")
    parser.add_argument(
        "--reuse-customer",
        action="store_true",
        help="keep the rematch customer of an earlier run when it has --leads leads (its blocks and statuses are "
        "reset before each measurement as always)",
    )
    parser.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/leadops_bench")
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

from django.core.files.base import ContentFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

call_command("migrate", verbosity=0)

from campaigns.models import Customer, Lead  # noqa: E402
from suppressions.models import Upload  # noqa: E402
from suppressions.services.matching import customer_rematch, upload_match  # noqa: E402
from suppressions.services.pipeline import upload_read  # noqa: E402

# Real NANP area codes and exchanges (valid ranges), so numbers normalise rather than being refused.
AREA_CODES = ["202", "212", "312", "415", "617", "646", "713", "305", "404", "503", "206", "303"]


def _phone(rng: random.Random) -> str:
    return f"{rng.choice(AREA_CODES)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"


def _writings(national: str) -> list[str]:
    a, b, c = national[:3], national[3:6], national[6:]
    return [
        f"({a}) {b}-{c}",
        f"{a}.{b}.{c}",
        f"+1 {a} {b} {c}",
        f"1{national}",
        national,
        f"{a}-{b}-{c}",
        f"+1{national}",
        f"{a} {b} {c} ext. 12",
    ]


def generate_upload(path: Path, rows: int, rng: random.Random) -> tuple[int, Path]:
    """Write the messy upload and, beside it, its already-normalised values (the baseline's input)."""
    normalized = path.with_suffix(".tsv")
    with path.open("w", encoding="utf-8", newline="") as out, normalized.open("w", encoding="utf-8") as norm:
        out.write("value\r\n")
        recent: list[str] = []
        for line in range(2, rows + 2):
            roll = rng.random()
            if roll < 0.90:
                if recent and rng.random() < 0.05:
                    national = rng.choice(recent)  # the same number written again, maybe another way
                else:
                    national = _phone(rng)
                    recent.append(national)
                    if len(recent) > 1000:
                        recent.pop(0)
                writing = rng.choice(_writings(national))
                out.write(f"{writing}\r\n")
                norm.write(f"phone\t+1{national}\t{line}\n")
            elif roll < 0.95:
                email = f"person{rng.randint(0, 10**7)}@company{rng.randint(0, 50_000)}.com"
                out.write(f"{email.upper() if rng.random() < 0.2 else email}\r\n")
                norm.write(f"email\t{email}\t{line}\n")
            elif roll < 0.995:
                domain = f"company{rng.randint(0, 200_000)}.com"
                out.write(f"{rng.choice(['', 'www.', 'https://', '@'])}{domain}\r\n")
                norm.write(f"domain\t{domain}\t{line}\n")
            else:
                out.write(f"junk value {line}\r\n")
    return rows, normalized


def _truncate_suppressions() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE suppressions_rejectedrow, suppressions_entry, suppressions_upload RESTART IDENTITY")


def _server_cpu() -> float:
    """Return the CPU seconds this connection's PostgreSQL backend has used (local server only, else 0)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Clock:
    """Wall time, our process's CPU time (all threads) and the database backend's CPU time."""

    def __enter__(self):
        self.wall, self.cpu, self.server = time.perf_counter(), time.process_time(), _server_cpu()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
        self.server = _server_cpu() - self.server

    def __str__(self) -> str:
        return f"wall {self.wall:.2f}s, python CPU {self.cpu:.2f}s, PostgreSQL CPU {self.server:.2f}s"


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_upload() -> None:
    rng = random.Random(ARGS.seed)
    workdir = Path(tempfile.mkdtemp(prefix="leadops-bench-"))
    source = workdir / "messy.csv"
    started = time.perf_counter()
    rows, normalized = generate_upload(source, ARGS.rows, rng)
    print(f"generated {rows:,} rows ({source.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f}s")
    customer, _ = Customer.objects.get_or_create(slug="bench-upload", defaults={"name": "Bench upload"})

    # Baseline: COPY of pre-normalised values into a staging table, one INSERT … ON CONFLICT DO NOTHING.
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TABLE IF EXISTS bench_baseline; CREATE TABLE bench_baseline "
            "(id bigserial PRIMARY KEY, customer_id bigint NOT NULL, kind text NOT NULL, value text NOT NULL, "
            "line integer); CREATE UNIQUE INDEX bench_baseline_value ON bench_baseline (customer_id, kind, value)"
        )
    baselines = []
    for _ in range(2):
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE bench_baseline")
        with _Clock() as clock, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE bench_staging (kind text, value text, line integer) ON COMMIT DROP")
            with cursor.copy("COPY bench_staging (kind, value, line) FROM STDIN") as copy, normalized.open("rb") as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            cursor.execute(
                "INSERT INTO bench_baseline (customer_id, kind, value, line) "
                "SELECT %s, kind, value, line FROM bench_staging ON CONFLICT DO NOTHING",
                [customer.pk],
            )
            baseline_inserted = cursor.rowcount
        baselines.append(clock)
    baseline = min(baselines, key=lambda c: c.wall)

    pipelines = []
    rss_before = _maxrss_mb()
    for _ in range(2):
        _truncate_suppressions()
        upload = Upload.objects.create(
            customer=customer, original_name="messy.csv", file=ContentFile(b"", name="x.csv")
        )
        upload.file.save("messy.csv", ContentFile(source.read_bytes()), save=True)
        with _Clock() as clock:
            upload = upload_read(upload_id=upload.pk)
        pipelines.append(clock)
    pipeline = min(pipelines, key=lambda c: c.wall)
    assert upload.status == Upload.Status.MATCHING, upload.error
    runs = ", ".join(f"{c.wall:.2f}s" for c in pipelines)
    print(f"upload pipeline: {pipeline} ({rows / pipeline.wall:,.0f} rows/s); runs {runs}")
    print(f"  counts: {upload.report}")
    print(f"  baseline inserted {baseline_inserted:,}, pipeline accepted {upload.accepted:,}")
    print(f"baseline (COPY normalised + INSERT … ON CONFLICT): {baseline} ({rows / baseline.wall:,.0f} rows/s)")
    print(f"ratio pipeline / baseline, wall time: {pipeline.wall / baseline.wall:.2f}x (target ≤ 1.5x)")
    print(
        f"  load average while it ran: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work skews wall time)"
    )
    print(f"peak RSS of the process: {_maxrss_mb():.0f} MB (before the pipeline runs: {rss_before:.0f} MB)")


def _copy(cursor, table: str, columns: str, rows) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buffer = []
        for row in rows:
            buffer.append("\t".join(str(v) for v in row) + "\n")
            if len(buffer) >= 50_000:
                copy.write("".join(buffer))
                buffer.clear()
        copy.write("".join(buffer))


def _setup_rematch_customer(leads: int) -> Customer:
    """Create a customer with ``leads`` contacts and leads, two numbers each, one email each (COPY)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE campaigns_block, campaigns_lead, campaigns_contactphone, campaigns_contactemail, "
            "campaigns_phonenumber, campaigns_contact, campaigns_account, campaigns_call, campaigns_meeting, "
            "campaigns_disposition, campaigns_campaign CASCADE"
        )
    _truncate_suppressions()
    customer, _ = Customer.objects.get_or_create(slug="bench-rematch", defaults={"name": "Bench rematch"})
    now = "2026-01-01 00:00:00+00"
    accounts = max(1, leads // 10)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO campaigns_campaign (customer_id, name, status, cooldown_hours, attempt_cap, audience, "
            "created_at, updated_at) VALUES (%s, 'Bench', 'active', 24, 6, 'consumer', now(), now()) RETURNING id",
            [customer.pk],
        )
        campaign_id = cursor.fetchone()[0]
        _copy(
            cursor,
            "campaigns_account",
            "id, customer_id, name, domain, created_at, updated_at",
            ((i, customer.pk, f"Account {i}", f"company{i}.com", now, now) for i in range(1, accounts + 1)),
        )
        _copy(
            cursor,
            "campaigns_contact",
            "id, customer_id, account_id, first_name, last_name, title, created_at, updated_at",
            ((i, customer.pk, (i % accounts) + 1, "Pat", f"L{i}", "", now, now) for i in range(1, leads + 1)),
        )
        _copy(
            cursor,
            "campaigns_phonenumber",
            "id, e164, created_at",
            ((i, f"+1202{2_000_000 + i:07d}", now) for i in range(1, 2 * leads + 1)),
        )
        _copy(
            cursor,
            "campaigns_contactphone",
            "contact_id, phone_id, kind",
            ((c, 2 * c - k, "direct") for c in range(1, leads + 1) for k in (0, 1)),
        )
        _copy(
            cursor,
            "campaigns_contactemail",
            "contact_id, email, domain",
            (
                (c, f"p{c}@{d}", d)
                for c in range(1, leads + 1)
                for d in [f"{'eu.' if c % 3 == 0 else ''}company{(c % accounts) + 1}.com"]
            ),
        )
        _copy(
            cursor,
            "campaigns_lead",
            "customer_id, campaign_id, contact_id, status, stage, waiting_reason, priority, attempts, source, "
            "created_at, updated_at",
            ((customer.pk, campaign_id, c, "eligible", "new", "", 0, 0, "", now, now) for c in range(1, leads + 1)),
        )
        for table in ("campaigns_account", "campaigns_contact", "campaigns_phonenumber"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    # A steady-state database, not one autovacuum is busy catching up with while the timings run.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return customer


def _add_entries(customer: Customer, count: int, *, leads: int, rng: random.Random) -> Upload:
    """Add an upload with ``count`` entries: 90 % numbers (half of them on file), emails, domains."""
    upload = Upload.objects.create(customer=customer, original_name="bench.csv", file=ContentFile(b"", name="b.csv"))
    accounts = max(1, leads // 10)

    def values():
        seen = set()
        for line in range(count):
            roll = rng.random()
            if roll < 0.9:
                if rng.random() < 0.5:
                    value = "phone", f"+1202{2_000_000 + rng.randint(1, 2 * leads):07d}"
                else:
                    value = "phone", f"+1415{rng.randint(2_000_000, 9_999_999)}"
            elif roll < 0.99:
                value = "email", f"p{rng.randint(1, leads * 2)}@company{rng.randint(1, accounts)}.com"
            else:
                value = "domain", f"company{rng.randint(1, accounts * 20)}.com"
            if value in seen:
                continue
            seen.add(value)
            yield value, line + 2

    with transaction.atomic(), connection.cursor() as cursor:
        _copy(
            cursor,
            "suppressions_entry",
            "customer_id, kind, value, upload_id, line, created_at, removed_by_job, remove_reason",
            (
                (customer.pk, kind, value, upload.pk, line, "2026-01-01 00:00:00+00", "", "")
                for (kind, value), line in values()
            ),
        )
        cursor.execute("ANALYZE suppressions_entry")
    Upload.objects.filter(pk=upload.pk).update(status=Upload.Status.MATCHING)
    return upload


SUFFIXES = (
    "SELECT array_to_string(p.labels[i:], '.') AS suffix FROM (SELECT string_to_array({domain}, '.') AS labels) p, "
    "generate_series(1, array_length(p.labels, 1) - 1) AS i"
)
BARE_JOIN = """
SELECT count(*) FROM (
    SELECT c.id, e.id FROM suppressions_entry e
    JOIN campaigns_phonenumber p ON p.e164 = e.value JOIN campaigns_contactphone cp ON cp.phone_id = p.id
    JOIN campaigns_contact c ON c.id = cp.contact_id
    WHERE e.kind = 'phone' AND e.customer_id = %(customer)s AND c.customer_id = %(customer)s {where}
    UNION ALL
    SELECT c.id, e.id FROM suppressions_entry e JOIN campaigns_contactemail ce ON ce.email = e.value
    JOIN campaigns_contact c ON c.id = ce.contact_id
    WHERE e.kind = 'email' AND e.customer_id = %(customer)s AND c.customer_id = %(customer)s {where}
    UNION ALL
    SELECT DISTINCT c.id, e.id FROM campaigns_contact c JOIN campaigns_contactemail ce ON ce.contact_id = c.id
    CROSS JOIN LATERAL ({suffixes}) s JOIN suppressions_entry e ON e.value = s.suffix
    WHERE e.kind = 'domain' AND e.customer_id = %(customer)s AND c.customer_id = %(customer)s {where}
    UNION ALL
    SELECT a.id, e.id FROM campaigns_account a
    CROSS JOIN LATERAL ({account_suffixes}) s JOIN suppressions_entry e ON e.value = s.suffix
    WHERE e.kind = 'domain' AND e.customer_id = %(customer)s AND a.customer_id = %(customer)s {where}
) matches
"""


def _bare_join(customer: Customer, *, upload: Upload | None) -> tuple[float, int]:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            BARE_JOIN.format(
                where="AND e.upload_id = %(upload)s" if upload else "",
                suffixes=SUFFIXES.format(domain="ce.domain"),
                account_suffixes=SUFFIXES.format(domain="a.domain"),
            ),
            {"customer": customer.pk, "upload": upload.pk if upload else None},
        )
        matches = cursor.fetchone()[0]
    return time.perf_counter() - started, matches


# The floor: a bare SQL script writing the same blocks (every column as the matcher writes it, into the same
# table with its indexes, constraints and triggers) and the same statuses, with none of the matcher's
# guarantees (no look-up of existing blocks, no ON CONFLICT, no batches, no rule evaluated: every lead of a
# matched contact or account is simply Disqualified). The block table is empty before it runs, so the UPDATE
# reads back every suppression block.
_FLOOR_SELECT = (
    "SELECT '{target}' AS target, {contact} AS contact_id, {account} AS account_id, 'suppression' AS source, "
    "'suppressed' AS reason, 'customer' AS reach, e.customer_id, 'suppressions.match' AS actor_job, "
    "%(now)s AS created_at, %(ct)s AS evidence_type_id, e.id AS evidence_id, 'upload ' || u.original_name || "
    "', line ' || CAST(e.line AS TEXT) || ': ' || e.value AS evidence_text, '' AS note, '' AS lifted_by_job, "
    "'' AS lift_reason"
)
FLOOR_BLOCKS = """
INSERT INTO campaigns_block (target, contact_id, account_id, source, reason, reach, customer_id, actor_job,
                             created_at, evidence_type_id, evidence_id, evidence_text, note, lifted_by_job, lift_reason)
{contact_select} FROM suppressions_entry e JOIN suppressions_upload u ON u.id = e.upload_id
    JOIN campaigns_phonenumber p ON p.e164 = e.value JOIN campaigns_contactphone cp ON cp.phone_id = p.id
    JOIN campaigns_contact c ON c.id = cp.contact_id
    WHERE e.kind = 'phone' AND e.customer_id = %(customer)s AND c.customer_id = %(customer)s {where}
UNION ALL
{contact_select} FROM suppressions_entry e JOIN suppressions_upload u ON u.id = e.upload_id
    JOIN campaigns_contactemail ce ON ce.email = e.value JOIN campaigns_contact c ON c.id = ce.contact_id
    WHERE e.kind = 'email' AND e.customer_id = %(customer)s AND c.customer_id = %(customer)s {where}
UNION ALL
{domain_select} FROM campaigns_contact c JOIN campaigns_contactemail ce ON ce.contact_id = c.id
    CROSS JOIN LATERAL ({suffixes}) s JOIN suppressions_entry e ON e.value = s.suffix
    JOIN suppressions_upload u ON u.id = e.upload_id
    WHERE e.kind = 'domain' AND e.customer_id = %(customer)s AND c.customer_id = %(customer)s {where}
UNION ALL
{account_select} FROM campaigns_account a CROSS JOIN LATERAL ({account_suffixes}) s
    JOIN suppressions_entry e ON e.value = s.suffix JOIN suppressions_upload u ON u.id = e.upload_id
    WHERE e.kind = 'domain' AND e.customer_id = %(customer)s AND a.customer_id = %(customer)s {where}
"""
FLOOR_STATUSES = """
UPDATE campaigns_lead SET status = 'disqualified', updated_at = %(now)s
WHERE status <> 'disqualified' AND customer_id = %(customer)s AND contact_id IN (
    SELECT contact_id FROM campaigns_block WHERE source = 'suppression' AND contact_id IS NOT NULL
    UNION ALL
    SELECT c.id FROM campaigns_block b JOIN campaigns_contact c ON c.account_id = b.account_id
    WHERE b.source = 'suppression' AND b.account_id IS NOT NULL
)
"""


def _floor(customer: Customer, *, upload: Upload | None) -> tuple[float, float, float, int, int]:
    """Run the floor script in one transaction; return its two statements' times and its commit's, the blocks
    and leads changed.

    The commit is part of the floor as it is part of the matcher's time: it runs the blocks' deferred
    foreign-key checks (three per block) and waits for the WAL to reach the disk. A floor that stopped its clock
    before committing left those out of it and in the matcher's batches."""
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from suppressions.models import Entry

    params = {
        "customer": customer.pk,
        "upload": upload.pk if upload else None,
        "now": timezone.now(),
        "ct": ContentType.objects.get_for_model(Entry).pk,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        sql = FLOOR_BLOCKS.format(
            where="AND e.upload_id = %(upload)s" if upload else "",
            contact_select=_FLOOR_SELECT.format(target="contact", contact="c.id", account="NULL::bigint"),
            # A contact with two emails under one domain entry gets one block.
            domain_select=_FLOOR_SELECT.format(target="contact", contact="c.id", account="NULL::bigint").replace(
                "SELECT", "SELECT DISTINCT", 1
            ),
            account_select=_FLOOR_SELECT.format(target="account", contact="NULL::bigint", account="a.id"),
            suffixes=SUFFIXES.format(domain="ce.domain"),
            account_suffixes=SUFFIXES.format(domain="a.domain"),
        )
        # One statement per way of matching, each planned on its own, its rows selected into a temporary
        # table first: PostgreSQL runs an INSERT's SELECT on one core, a CREATE TABLE AS's on several.
        insert, _, selects = sql.partition(")\n")
        blocks = 0
        for select in selects.split("UNION ALL"):
            cursor.execute(f"CREATE TEMPORARY TABLE floor_rows AS {select}", params)
            cursor.execute(f"{insert})\nSELECT * FROM floor_rows")
            blocks += cursor.rowcount
            cursor.execute("DROP TABLE floor_rows")
        inserted = time.perf_counter()
        cursor.execute(FLOOR_STATUSES, params)
        leads = cursor.rowcount
        updated = time.perf_counter()
    return inserted - started, updated - inserted, time.perf_counter() - updated, blocks, leads


def _reset_matching() -> None:
    """Back to "no blocks, every lead eligible", vacuumed: the state each measured run starts from."""
    with connection.cursor() as cursor:
        # CASCADE: the tables that refer to blocks (undo requests) are empty here, and TRUNCATE refuses otherwise.
        cursor.execute("TRUNCATE campaigns_block CASCADE")
        cursor.execute("UPDATE campaigns_lead SET status = 'eligible' WHERE status <> 'eligible'")
        cursor.execute("VACUUM ANALYZE campaigns_lead, campaigns_block")


def _digest() -> str:
    """Return a digest of every block (ids of entries and targets included, block ids and times left out) and
    every lead's status: the matcher's and the floor's must be equal."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT md5(string_agg(concat_ws('|', target, contact_id, account_id, source, reason, reach, customer_id, "
            "actor_job, evidence_type_id, evidence_id, evidence_text, lifted_at IS NULL), ',' "
            "ORDER BY target, contact_id, account_id, evidence_id)) FROM campaigns_block"
        )
        blocks = cursor.fetchone()[0]
        cursor.execute("SELECT md5(string_agg(id || status, ',' ORDER BY id)) FROM campaigns_lead")
        return f"{blocks}/{cursor.fetchone()[0]}"


class _MatchTimes(logging.Handler):
    """Sum the matcher's own timings (its debug log): block-inserting statements and status recomputes."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements = self.recompute = self.last = 0.0

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.startswith("match statement"):
            self.statements += record.args[-1]
            if record.args[-1] > 1 and os.environ.get("BENCH_VERBOSE"):
                print(f"    statement: {record.getMessage()}")
        elif record.msg.startswith("match recompute"):
            self.recompute += record.args[-1]

    def take(self) -> str:
        text = f"inserting blocks {self.statements:.2f}s, recomputing statuses {self.recompute:.2f}s"
        self.last = self.statements + self.recompute
        self.statements = self.recompute = 0.0
        return text


def _compare(name: str, entries: int, run, *, upload: Upload | None, customer: Customer, times: _MatchTimes) -> None:
    """Run the matcher and the floor from the same state; print both, check they wrote the same rows."""
    bare, matches = _bare_join(customer, upload=upload)
    _reset_matching()
    started = time.perf_counter()
    result = run()
    elapsed = time.perf_counter() - started
    split = times.take()
    ours = _digest()
    started = time.perf_counter()
    again = run()
    repeat = time.perf_counter() - started
    _reset_matching()
    floor_blocks, floor_statuses, floor_commit, blocks, leads = _floor(customer, upload=upload)
    floor = floor_blocks + floor_statuses + floor_commit
    same = _digest() == ours
    print(
        f"{name} ({entries:,} entries): {elapsed:.2f}s, {result.blocks_created:,} blocks, "
        f"{result.leads_changed:,} leads disqualified, {result.batches} batches"
    )
    print(f"  of which {split}, commits and the rest {elapsed - times.last:.2f}s")
    print(
        f"  floor (bare SQL writing the same blocks and statuses): {floor:.2f}s (blocks {floor_blocks:.2f}s, "
        f"statuses {floor_statuses:.2f}s, commit {floor_commit:.2f}s; {blocks:,} blocks, {leads:,} leads); "
        f"same rows: {'yes' if same else 'NO'}"
    )
    print(f"  bare SQL join only finding the matches: {bare:.2f}s ({matches:,} matches)")
    print(f"  ratio to the floor: {elapsed / floor:.2f}x (target ≤ 2x)")
    print(f"  again (nothing to do): {repeat:.2f}s, {again.blocks_created} blocks")
    print(f"  load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    assert same, "the matcher and the floor wrote different blocks or statuses"


def bench_rematch() -> None:
    times = _MatchTimes()
    matcher_log = logging.getLogger("suppressions.services.matching")
    matcher_log.setLevel(logging.DEBUG)
    matcher_log.addHandler(times)
    matcher_log.propagate = False
    rng = random.Random(ARGS.seed)
    started = time.perf_counter()
    customer = Customer.objects.filter(slug="bench-rematch").first() if ARGS.reuse_customer else None
    if customer is None or Lead.objects.filter(customer=customer).count() != ARGS.leads:
        customer = _setup_rematch_customer(ARGS.leads)
    else:
        _truncate_suppressions()
    print(
        f"rematch customer: {ARGS.leads:,} leads, {2 * ARGS.leads:,} numbers, built in "
        f"{time.perf_counter() - started:.1f}s"
    )

    upload = _add_entries(customer, ARGS.entries, leads=ARGS.leads, rng=rng)
    if not ARGS.skip_upload_rematch:
        _compare(
            "upload rematch",
            ARGS.entries,
            lambda: upload_match(upload=upload),
            upload=upload,
            customer=customer,
            times=times,
        )

    _truncate_suppressions()
    _add_entries(customer, ARGS.full_entries, leads=ARGS.leads, rng=rng)
    _compare(
        "full rematch",
        ARGS.full_entries,
        lambda: customer_rematch(customer=customer),
        upload=None,
        customer=customer,
        times=times,
    )


if __name__ == "__main__":
    if not ARGS.skip_upload:
        bench_upload()
    if not ARGS.skip_rematch:
        bench_rematch()

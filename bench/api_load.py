"""Load test of the dialer API: gunicorn on loopback against PostgreSQL, driven by an asyncio client.

    .venv/bin/python bench/api_load.py --leads 200000        # quick
    .venv/bin/python bench/api_load.py                       # 1,000,000 leads

1. Creates (or reuses) the database ``leadops_bench_api`` (``--database``), migrates it, and fills one campaign with
   ``--leads`` leads in a few set-based ``INSERT … SELECT generate_series`` statements; 1 % of the contacts
   carry a customer Do-Not-Call block, so pulls must skip them and dial-checks must explain them. The
   customer's suppression list holds ``--entries`` entries (1,000,000), which every check looks the lead up in.
2. Starts gunicorn on 127.0.0.1 (a free port) with ``DJANGO_DEBUG`` off.
3. Drives it from a second process: for ``health`` (the framework's floor: same app, no key, no database),
   ``recorded-floor`` (the least a dial check that keeps its verdict does: the key, one read of the lead,
   the verdict's ``INSERT``, no check at all; ``bench/api_floor.py``, a URL only this server has),
   ``dial-check`` (a random sample of the pool's leads and numbers, about 1 % of them refused),
   ``dial-check-refused`` (refused ones only, each answer wording its reasons) and ``pull`` (count=10), at
   8 and 32 concurrent clients, each bounded by a request count and a time limit; the scenarios of one
   concurrency take turns in ``--rounds`` rounds (5) of a share of each, so that the shared machine's drift
   (the floor's own cost moved by up to 2x between runs a minute apart) falls on the floor and on what is
   compared with it alike. Prints throughput and
   p50/p95/p99, errors, and duplicate leads across all pulls. The client writes and reads its HTTP/1.1 by
   hand (``--http httpx`` for httpx instead): it shares the two CPUs with the server and PostgreSQL, and
   httpx cost about as much CPU per request as the hello view it measures.

Targets (issue 5): dial-check p95 ≤ 3x the floor's p95; pull p95 < 50 ms at 8 clients; zero errors; zero
duplicates. The refused-only dial checks are printed beside them as a worst case. Issue 17: with the calling
policy and caps on for the campaign (``calling_policy_on``: every number's window evaluated, its calls counted;
a tenth of the leads called in the last 24 hours), the same targets hold.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "leadops_bench_api"
SERVER = "postgres://postgres@127.0.0.1:5432"
CALLERS = 32
SAMPLE = 20_000


# --- setup (this process, Django configured against the bench database) ---------------------------


def setup_database(*, server: str, leads: int, entries: int, fresh: bool) -> dict:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if exists and fresh:
            conn.execute(f"DROP DATABASE {DB_NAME} WITH (FORCE)")
            exists = None
        if not exists:
            conn.execute(f"CREATE DATABASE {DB_NAME}")

    os.environ["DATABASE_URL"] = f"{server}/{DB_NAME}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return populate(leads=leads, entries=entries)


def populate(*, leads: int, entries: int) -> dict:
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone

    from campaigns.models import Campaign, Customer, Lead, User
    from campaigns.services.api_keys import api_key_create
    from campaigns.services.callers import callers_approve
    from campaigns.services.directory import campaign_create, customer_create
    from campaigns.services.statuses import lead_statuses_recompute, leads_wake_waiting

    customer = Customer.objects.filter(slug="bench").first()
    campaign = Campaign.objects.filter(customer=customer, name="Bench").first() if customer else None
    if campaign is None or Lead.objects.filter(campaign=campaign).count() != leads:
        if customer is not None:
            raise SystemExit(f"{DB_NAME} holds another size of pool; rerun with --fresh.")
        started = time.perf_counter()
        with transaction.atomic():
            customer = customer_create(name="Bench customer", slug="bench")
            campaign = campaign_create(customer=customer, name="Bench")
            fill_pool(customer_id=customer.pk, campaign_id=campaign.pk, leads=leads)
            blocked = Lead.objects.filter(campaign=campaign, contact__blocks__isnull=False)
            lead_statuses_recompute(leads=blocked)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"populated {leads:,} leads in {time.perf_counter() - started:.1f} s", flush=True)
    fill_suppression_list(customer_id=customer.pk, entries=entries)
    calling_policy_on(campaign)
    # Every run starts from a full pool: wake the leases earlier runs left (they all end within a day).
    leads_wake_waiting(now=timezone.now() + timedelta(days=1))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE campaigns_lead")
    callers = [
        User.objects.get_or_create(username=f"bench-caller-{index}", defaults={"is_staff": False})[0]
        for index in range(CALLERS)
    ]
    callers_approve(callers=callers, campaigns=[campaign], actor="bench")  # a repeat leaves them as they are
    _, key = api_key_create(name=f"bench {time.strftime('%Y-%m-%d %H:%M')}", customer=None, actor=None)
    # The dialer checks the leads it pulled: a random sample of the pool (about 1 % of it refused), and,
    # apart, only refused ones, whose reasons must be worded.
    sample_sql = (
        "SELECT l.id, p.e164 FROM campaigns_lead l "
        "JOIN campaigns_contactphone cp ON cp.contact_id = l.contact_id "
        "JOIN campaigns_phonenumber p ON p.id = cp.phone_id "
        "WHERE l.campaign_id = %s {refused} ORDER BY random() LIMIT %s"
    )
    refused_only = (
        "AND EXISTS (SELECT 1 FROM campaigns_block b WHERE b.contact_id = l.contact_id AND b.lifted_at IS NULL)"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.5)")
        cursor.execute(sample_sql.format(refused=""), [campaign.pk, SAMPLE])
        sample = cursor.fetchall()
        cursor.execute(sample_sql.format(refused=refused_only), [campaign.pk, SAMPLE])
        refused = cursor.fetchall()
    return {"campaign_id": campaign.pk, "key": key, "sample": sample, "refused": refused}


def calling_around_the_clock(campaign) -> None:
    """Make the campaign a business one that waived the consumer-only rules and calls around the clock, with
    caps per number, contact and account that the bench's recorded calls approach but do not reach: every
    answer evaluates the window and the caps, and a run measures the work, not the hour it runs at (after
    9 pm Eastern every +1 number is outside the federal window)."""
    from campaigns.models import Campaign, User
    from campaigns.services.calling import calling_policy_save

    Campaign.objects.filter(pk=campaign.pk).update(audience=Campaign.Audience.BUSINESS)
    campaign.refresh_from_db()
    ops = User.objects.get_or_create(username="bench-ops", defaults={"is_staff": True})[0]
    calling_policy_save(
        campaign=campaign,
        hours={day: ["00:00", "23:59"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        number_cap=3,
        contact_cap=3,
        account_cap=1000,
        consumer_rules_waived=True,
        waiver_note="The bench calls businesses.",
        actor=ops,
    )


def calling_policy_on(campaign) -> None:
    """Turn the calling policy and the caps on for the campaign (issue 17), so that every dial check and pull
    evaluates the number's window in each of its zones and counts its calls (``calling_around_the_clock``). A
    tenth of the leads were called once in the last 24 hours."""
    from django.db import connection

    from campaigns.models import Call, Disposition, User

    calling_around_the_clock(campaign)
    if Call.objects.filter(lead__campaign=campaign).exists():
        return
    caller = User.objects.get_or_create(username="bench-caller-0", defaults={"is_staff": False})[0]
    disposition = Disposition.objects.get(campaign=campaign, code="no_answer")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO campaigns_call (lead_id, caller_id, phone_id, disposition_id, notes, created_at, "
            "idempotency_key) SELECT l.id, %s, cp.phone_id, %s, '', now() - interval '1 minute' * (l.id %% 1400), '' "
            "FROM campaigns_lead l JOIN campaigns_contactphone cp ON cp.contact_id = l.contact_id "
            "WHERE l.campaign_id = %s AND l.id %% 10 = 0",
            [caller.pk, disposition.pk, campaign.pk],
        )
        cursor.execute("VACUUM ANALYZE campaigns_call")


def fill_pool(*, customer_id: int, campaign_id: int, leads: int) -> None:
    """Insert ``leads`` contacts (ten per account), one number each, and their leads; block 1 %."""
    from django.db import connection

    accounts = max(1, leads // 10)
    statements = [
        (
            "INSERT INTO campaigns_account (customer_id, name, domain, created_at, updated_at) "
            "SELECT %(customer)s, 'Bench account ' || g, '', now(), now() FROM generate_series(1, %(accounts)s) g",
            {},
        ),
        (
            "INSERT INTO campaigns_contact (customer_id, account_id, first_name, last_name, title, created_at, "
            "updated_at) SELECT %(customer)s, a.id, 'Pat' || g, 'Bench', 'Buyer', now(), now() "
            "FROM generate_series(1, %(leads)s) g JOIN ("
            "  SELECT id, row_number() OVER (ORDER BY id) AS rn FROM campaigns_account WHERE customer_id = %(customer)s"
            ") a ON a.rn = (g - 1) / 10 + 1",
            {},
        ),
        (
            "INSERT INTO campaigns_phonenumber (e164, created_at) "
            "SELECT '+1202' || (2000000 + g), now() FROM generate_series(1, %(leads)s) g ON CONFLICT DO NOTHING",
            {},
        ),
        (
            "INSERT INTO campaigns_contactphone (contact_id, phone_id, kind) "
            "SELECT c.id, p.id, 'direct' FROM ("
            "  SELECT id, row_number() OVER (ORDER BY id) AS rn FROM campaigns_contact WHERE customer_id = %(customer)s"
            ") c JOIN campaigns_phonenumber p ON p.e164 = '+1202' || (2000000 + c.rn)",
            {},
        ),
        (
            "INSERT INTO campaigns_lead (customer_id, campaign_id, contact_id, status, waiting_reason, priority, "
            "attempts, source, stage, created_at, updated_at) "
            "SELECT %(customer)s, %(campaign)s, id, 'eligible', '', (id %% 5)::int, 0, 'bench', 'new', now(), now() "
            "FROM campaigns_contact WHERE customer_id = %(customer)s",
            {},
        ),
        (
            "INSERT INTO campaigns_block (target, contact_id, source, reason, reach, customer_id, actor_job, "
            "created_at, evidence_text, note, lifted_by_job, lift_reason) "
            "SELECT 'contact', id, 'customer_dnc', 'do_not_call', 'customer', %(customer)s, 'bench', now(), '', '', "
            "'', '' FROM campaigns_contact WHERE customer_id = %(customer)s AND id %% 100 = 0",
            {},
        ),
    ]
    params = {"customer": customer_id, "campaign": campaign_id, "leads": leads, "accounts": accounts}
    with connection.cursor() as cursor:
        for sql, _ in statements:
            cursor.execute(sql, params)


def fill_suppression_list(*, customer_id: int, entries: int) -> None:
    """Give the customer a suppression list of ``entries`` active entries (90 % numbers, 5 % emails, 5 %
    domains) that match no lead of the pool: every dial check and pull looks the lead up in it."""
    from django.db import connection, transaction

    from suppressions.models import Entry

    if Entry.objects.filter(customer_id=customer_id, removed_at__isnull=True).count() == entries:
        return
    started = time.perf_counter()
    shares = [("phone", "'+1303' || (2000000 + g)", 90), ("email", "'person' || g || '@example.net'", 5)]
    shares.append(("domain", "'company' || g || '.example'", 5))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM suppressions_entry WHERE customer_id = %s", [customer_id])
        for kind, value, percent in shares:
            cursor.execute(
                "INSERT INTO suppressions_entry (kind, value, line, created_at, removed_by_job, remove_reason, "
                f"customer_id) SELECT %s, {value}, g, now(), '', '', %s FROM generate_series(1, %s) g",
                [kind, customer_id, entries * percent // 100],
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE suppressions_entry")
    print(f"filled a suppression list of {entries:,} entries in {time.perf_counter() - started:.1f} s", flush=True)


# --- the server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(*, server: str, port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": f"{server}/{DB_NAME}",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(32),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--pythonpath",
            str(ROOT / "bench"),
            "api_floor:application",  # leadops.wsgi's, and the recorded floor's URL (bench/api_floor.py)
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--backlog",
            "256",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not answer within 30 s")


# --- the client (a second process) ----------------------------------------------------------------


def raw_sender(port: int, key: str):
    """Return ``send(method, path, body) -> (status, body)``: one HTTP/1.1 request per connection, as gunicorn's
    sync workers serve them, written and read by hand. It costs the shared CPUs a fraction of what httpx does,
    so the figures are the server's rather than the client's."""
    import asyncio

    async def send(method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            head = (
                f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n"
            )
            if body is not None:
                head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            writer.write(head.encode() + b"\r\n" + (body or b""))
            data = await reader.read()
        finally:
            writer.close()
        status_line, _, rest = data.partition(b"\r\n")
        return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]

    return send


def httpx_sender(port: int, key: str, clients: int):
    """Return ``send`` over an httpx.AsyncClient (the bench's first client), and the client to close."""
    import httpx

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    client = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}, limits=limits, timeout=30
    )

    async def send(method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        response = await client.request(method, path, content=body, headers=headers)
        return response.status_code, response.content

    return send, client


async def drive(config: dict) -> dict:
    import asyncio
    from urllib.parse import urlencode

    sample = config["sample"]
    results = {}
    pulled: list[int] = []

    def request_for(scenario: str, worker: int) -> tuple[str, str, bytes | None]:
        if scenario == "health":
            return "GET", "/api/v1/health", None
        if scenario == "recorded-floor":
            lead_id, number = random.choice(sample)
            return "GET", f"/bench/recorded-floor/{lead_id}?{urlencode({'number': number})}", None
        if scenario in ("dial-check", "dial-check-refused"):
            lead_id, number = random.choice(sample if scenario == "dial-check" else config["refused"])
            return "GET", f"/api/v1/leads/{lead_id}/dial-check?{urlencode({'number': number})}", None
        body = json.dumps({"caller": f"bench-caller-{worker}", "count": 10}).encode()
        return "POST", f"/api/v1/campaigns/{config['campaign_id']}/pull", body

    async def run(
        scenario: str, clients: int, budget: int, seconds: float, record: bool, into: dict | None = None
    ) -> dict:
        """Run ``scenario``; with ``into`` (an earlier round's figures), add this round's requests to them."""
        latencies: list[float] = into["latencies"] if into else []
        errors: list[str] = into["error_list"] if into else []
        remaining = [budget]
        deadline = time.monotonic() + seconds
        if config["client"] == "httpx":
            send, closing = httpx_sender(config["port"], config["key"], clients)
        else:
            send, closing = raw_sender(config["port"], config["key"]), None

        async def worker(index: int) -> None:
            while remaining[0] > 0 and time.monotonic() < deadline:
                remaining[0] -= 1
                method, path, body = request_for(scenario, index)
                started = time.perf_counter()
                try:
                    status, payload = await send(method, path, body)
                except Exception as exc:  # a refused or dropped connection is the run's error, not the bench's
                    errors.append(repr(exc))
                    continue
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    errors.append(f"{status} {payload[:200]!r}")
                elif record and scenario == "pull":
                    pulled.extend(lead["lead_id"] for lead in json.loads(payload)["leads"])

        started = time.perf_counter()
        answered = len(latencies)
        await asyncio.gather(*(worker(i) for i in range(clients)))
        elapsed = time.perf_counter() - started + (into["elapsed"] if into else 0.0)
        answered = len(latencies) - answered + (into["answered"] if into else 0)
        if closing is not None:
            await closing.aclose()
        ordered = sorted(latencies)

        def pct(p: float) -> float:
            return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else float("nan")

        return {
            "requests": len(latencies) + len(errors),
            "errors": len(errors),
            "first_errors": errors[:3],
            "rps": answered / elapsed if elapsed else 0.0,
            "p50": pct(0.50),
            "p95": pct(0.95),
            "p99": pct(0.99),
            "latencies": latencies,
            "error_list": errors,
            "elapsed": elapsed,
            "answered": answered,
        }

    scenarios = ("health", "recorded-floor", "dial-check", "dial-check-refused", "pull")
    for scenario in scenarios:
        await run(scenario, 8, config["warmup"], 10, record=True)  # warm every worker's connection and caches
    # Each concurrency's scenarios take turns, the floor first, in ``rounds`` rounds of a share of the budget
    # each, every scenario's figures over all its rounds: a shared machine drifts, by as much as twice the
    # floor's cost between two runs a minute apart here, and a ratio to a floor measured apart from what it
    # is compared with would measure the drift too.
    rounds = config["rounds"]
    for clients in config["concurrency"]:
        for _ in range(rounds):
            for scenario in scenarios:
                name = f"{scenario}@{clients}"
                results[name] = await run(
                    scenario,
                    clients,
                    -(-config["requests"] // rounds),
                    config["seconds"] / rounds,
                    record=True,
                    into=results.get(name),
                )
    for figures in results.values():
        del figures["latencies"], figures["error_list"], figures["elapsed"], figures["answered"]
    duplicates = len(pulled) - len(set(pulled))
    return {"results": results, "pulled": len(pulled), "duplicates": duplicates}


def client_main(config_path: str) -> None:
    import asyncio

    config = json.loads(Path(config_path).read_text())
    print(json.dumps(asyncio.run(drive(config))))


# --- main -----------------------------------------------------------------------------------------


def report(outcome: dict, *, leads: int, workers: int, client: str) -> bool:
    results = outcome["results"]
    print(
        f"\nleadops dialer API · {leads:,} leads · gunicorn {workers} sync workers · {client} client · "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{'scenario':<22}{'requests':>9}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for name, r in results.items():
        print(
            f"{name:<22}{r['requests']:>9}{r['errors']:>8}{r['rps']:>9.0f}{r['p50']:>9.1f}{r['p95']:>9.1f}{r['p99']:>9.1f}"
        )
        for error in r["first_errors"]:
            print(f"    e.g. {error}")
    print(f"pulled {outcome['pulled']:,} leads, duplicates: {outcome['duplicates']}")
    checks = []
    for name in results:
        scenario, clients = name.split("@")
        ratio = results[name]["p95"] / results[f"health@{clients}"]["p95"]
        if scenario == "dial-check":
            checks.append((f"dial-check p95 ≤ 3x floor p95 at {clients} clients ({ratio:.1f}x)", ratio <= 3))
        elif scenario == "recorded-floor":
            check = results[f"dial-check@{clients}"]["p95"] / results[name]["p95"]
            print(
                f"  [info] the recorded floor (the key, one read, the verdict's INSERT; no check): {ratio:.1f}x the "
                f"hello view at {clients} clients; the dial check {check:.1f}x the recorded floor"
            )
        elif scenario == "dial-check-refused":
            print(
                f"  [info] refused dial checks only (a worst case, not a target): {ratio:.1f}x the floor at {clients}"
            )
    if "pull@8" in results:
        checks.append(
            (f"pull p95 < 50 ms at 8 clients ({results['pull@8']['p95']:.1f} ms)", results["pull@8"]["p95"] < 50)
        )
    checks.append(("zero errors", all(r["errors"] == 0 for r in results.values())))
    checks.append(("zero duplicates", outcome["duplicates"] == 0))
    for text, ok in checks:
        print(f"  [{'ok' if ok else 'MISS'}] {text}")
    return all(ok for _, ok in checks)


def main() -> None:
    global DB_NAME  # ``--database``: read by the setup and the server's environment
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=1_000_000, help="the customer's suppression list")
    parser.add_argument("--requests", type=int, default=3_000, help="request budget per scenario and concurrency")
    parser.add_argument("--seconds", type=float, default=30, help="time limit per scenario and concurrency")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument(
        "--rounds", type=int, default=5, help="scenarios take turns this many times per concurrency (a share each)"
    )
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--server", default=SERVER, help="PostgreSQL server URL, without a database name")
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the bench database")
    parser.add_argument("--database", default=DB_NAME, help=f"the bench database's name (default {DB_NAME})")
    parser.add_argument(
        "--http", dest="client_kind", choices=["raw", "httpx"], default="raw", help="the load client (default raw)"
    )
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main(args.client)
        return
    DB_NAME = args.database

    setup = setup_database(server=args.server, leads=args.leads, entries=args.entries, fresh=args.fresh)
    port = free_port()
    server = start_server(server=args.server, port=port, workers=args.workers)
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as config:
            json.dump(
                {
                    "port": port,
                    "key": setup["key"],
                    "campaign_id": setup["campaign_id"],
                    "sample": setup["sample"],
                    "refused": setup["refused"],
                    "requests": args.requests,
                    "seconds": args.seconds,
                    "warmup": args.warmup,
                    "rounds": max(1, args.rounds),
                    "concurrency": args.concurrency,
                    "client": args.client_kind,
                },
                config,
            )
        client = subprocess.run(
            [sys.executable, __file__, "--client", config.name], capture_output=True, text=True, check=False
        )
        os.unlink(config.name)
        if client.returncode != 0:
            raise SystemExit(f"client failed:\n{client.stderr}")
        outcome = json.loads(client.stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        server.wait(timeout=30)
    ok = report(outcome, leads=args.leads, workers=args.workers, client=args.client_kind)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

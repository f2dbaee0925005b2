"""Benchmark: the lead report of one customer, grouped by source and by industry, on PostgreSQL.

The database holds ``--leads`` leads (default 1,000,000; the measured customer has 60% of them, three others
the rest), ``--calls`` calls (3,000,000) and ``--blocks`` blocks (200,000: suppressions, fit rules, platform
DNC numbers, disqualified accounts; made before, at and after their leads came in, a tenth of them lifted),
filled set-based with ``generate_series``. It prints, each a median of ``--repeat`` runs:

* the rollup's rebuild for the customer (``lead_facts_refresh``: what the nightly job does), once;
* the report (``lead_report``: the grouped figures, the weekly trend, false blocks, fit-rule comparisons);
* beside it, the bare SQL aggregate that computes the same numbers from the rollup (one hand-written
  ``GROUP BY`` with a ``FILTER`` per column, the weekly one, the false blocks'), checked equal to the report's;
* and, for scale, a bare SQL aggregate over the base tables (no rollup) of a few of the columns.

Target: the report under 1 s and within 2x of the bare aggregate.

    .venv/bin/python bench/reports.py                      # full scale
    .venv/bin/python bench/reports.py --reuse              # time again on the last run's data and rollup
    .venv/bin/python bench/reports.py --leads 20000 --calls 60000 --blocks 4000   # a quick look
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/leadops_bench_reports"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")

SOURCES = ["Vendor A", "Vendor B", "Webinar", "Website", "Referral", "Trade show"]
INDUSTRIES = ["Health", "Retail", "Software", "Finance", "Education", "Logistics", "Energy", "Media"]
EMPLOYEES = ["5", "11-50", "51-200", "350", "1,200", "5000+", ""]


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def populate_customer(cur, *, customer, campaigns: list, leads: int) -> None:
    accounts = max(1, leads // 10)
    cur.execute(
        f"""
        INSERT INTO campaigns_account (customer_id, name, domain, attributes, created_at, updated_at)
        SELECT %s, 'Account ' || g, '', jsonb_build_object(
                   'industry', ({_array(INDUSTRIES)})[1 + g %% {len(INDUSTRIES)}],
                   'employees', ({_array(EMPLOYEES)})[1 + g %% {len(EMPLOYEES)}],
                   'country', (ARRAY['US', 'GB', 'DE', 'CA'])[1 + g %% 4]),
               now(), now()
        FROM generate_series(1, %s) g
        """,
        [customer.pk, accounts],
    )
    cur.execute("SELECT min(id) FROM campaigns_account WHERE customer_id = %s", [customer.pk])
    first_account = cur.fetchone()[0]
    cur.execute(
        """
        INSERT INTO campaigns_contact (customer_id, account_id, first_name, last_name, title, attributes,
                                       created_at, updated_at)
        SELECT %s, %s + g %% %s, 'First', 'Last' || g, (ARRAY['CTO', 'VP Sales', 'Office manager', ''])[1 + g %% 4],
               '{}'::jsonb, now(), now()
        FROM generate_series(1, %s) g
        """,
        [customer.pk, first_account, accounts, leads],
    )
    cur.execute(
        """
        INSERT INTO campaigns_phonenumber (e164, created_at)
        SELECT '+1' || (2002000000 + id)::text, now() FROM campaigns_contact
        WHERE customer_id = %s AND id %% 10 <> 0
        """,
        [customer.pk],
    )
    cur.execute(
        """
        INSERT INTO campaigns_contactphone (contact_id, phone_id, kind)
        SELECT c.id, p.id, 'direct' FROM campaigns_contact c
        JOIN campaigns_phonenumber p ON p.e164 = '+1' || (2002000000 + c.id)::text
        WHERE c.customer_id = %s
        """,
        [customer.pk],
    )
    cur.execute(
        """
        INSERT INTO campaigns_contactemail (contact_id, email, domain)
        SELECT id, 'p' || id || '@x.example', 'x.example' FROM campaigns_contact
        WHERE customer_id = %s AND id %% 5 < 3
        """,
        [customer.pk],
    )
    cur.execute(
        f"""
        INSERT INTO campaigns_lead (customer_id, campaign_id, contact_id, status, waiting_reason, priority, attempts,
                                    source, stage, created_at, updated_at)
        SELECT %s, CASE WHEN id %% 2 = 0 THEN %s ELSE %s END, id, 'eligible', '', 0, 0,
               ({_array(SOURCES)})[1 + (id / 7) %% {len(SOURCES)}],
               CASE WHEN id %% 200 = 0 THEN 'qualified' ELSE 'new' END,
               now() - ((id %% 182) || ' days')::interval, now()
        FROM campaigns_contact WHERE customer_id = %s
        """,
        [customer.pk, campaigns[0].pk, campaigns[1].pk, customer.pk],
    )


def populate(*, leads: int, calls: int, blocks: int) -> int:
    """Fill the tables; return the measured customer's id."""
    from django.db import connection

    from campaigns.models import FitRuleChange, User
    from campaigns.services import campaign_create, customer_create

    caller = User.objects.create(username="bench.caller", is_staff=True)
    ops = User.objects.create(username="bench.ops", is_staff=True)
    shares = [0.6, 0.15, 0.15, 0.1]
    measured = None
    with connection.cursor() as cur:
        for index, share in enumerate(shares):
            customer = customer_create(name=f"Bench {index}", slug=f"bench-{index}")
            campaigns = [campaign_create(customer=customer, name=f"Campaign {n}") for n in (1, 2)]
            populate_customer(cur, customer=customer, campaigns=campaigns, leads=int(leads * share))
            if measured is None:
                measured = customer
                FitRuleChange.objects.create(
                    campaign=campaigns[0], actor=ops, summary="added: industry is one of Health", rules_after=["x"]
                )
        cur.execute("SELECT min(id), count(*) FROM campaigns_lead")
        first_lead, lead_count = cur.fetchone()
        # Calls spread over the leads: 70% no answer, 20% gatekeeper (connected), 10% meeting booked.
        cur.execute(
            """
            INSERT INTO campaigns_call (lead_id, caller_id, disposition_id, notes, created_at, idempotency_key)
            SELECT l.id, %s, d.id, '', l.created_at + interval '1 day', ''
            FROM generate_series(1, %s) g
            JOIN campaigns_lead l ON l.id = %s + (g::bigint * 7919) %% %s
            JOIN campaigns_disposition d ON d.campaign_id = l.campaign_id
                 AND d.code = CASE WHEN g %% 10 < 7 THEN 'no_answer' WHEN g %% 10 < 9 THEN 'gatekeeper'
                                   ELSE 'meeting_booked' END
            """,
            [caller.pk, calls, first_lead, lead_count],
        )
        cur.execute(
            """
            INSERT INTO campaigns_meeting (lead_id, outcome, created_at)
            SELECT id, 'pending', created_at + interval '2 days' FROM campaigns_lead WHERE id %% 100 = 0
            """,
            [],
        )
        # Blocks: 40% suppressed contacts, 30% fit-rule leads, 20% DNC numbers, 10% disqualified accounts; made a
        # day before, ten minutes after or five days after the lead came in; a tenth lifted.
        when = (
            "l.created_at + CASE WHEN {k} %% 3 = 0 THEN interval '-1 day' "
            "WHEN {k} %% 3 = 1 THEN interval '10 minutes' ELSE interval '5 days' END"
        )
        lift = (
            "CASE WHEN {k} %% 10 = 0 THEN l.created_at + interval '6 days' END, "
            "CASE WHEN {k} %% 10 = 0 THEN 'bench' ELSE '' END, CASE WHEN {k} %% 10 = 0 THEN 'bench' ELSE '' END"
        )
        columns = (
            "target, lead_id, contact_id, account_id, phone_id, source, reason, reach, customer_id, campaign_id, "
            "actor_job, created_at, evidence_text, note, note_shown, lifted_at, lifted_by_job, lift_reason"
        )
        parts = [
            (
                "'contact', NULL, l.contact_id, NULL, NULL, 'suppression', 'suppressed', 'customer', "
                "l.customer_id, NULL",
                "l.id %% {step} = 1",
                0.4,
            ),
            (
                "'lead', l.id, NULL, NULL, NULL, 'fit_rule', 'not_a_fit', 'campaign', l.customer_id, l.campaign_id",
                "l.id %% {step} = 2",
                0.3,
            ),
        ]
        for values, where, share in parts:
            step = max(1, lead_count // int(blocks * share))
            cur.execute(
                f"""
                INSERT INTO campaigns_block ({columns})
                SELECT {values}, 'bench', {when.format(k="l.id")}, '', '', false, {lift.format(k="l.id")}
                FROM campaigns_lead l WHERE {where.format(step=step)}
                """,
                [],
            )
        step = max(1, lead_count // int(blocks * 0.2))
        cur.execute(
            f"""
            INSERT INTO campaigns_block ({columns})
            SELECT 'phone', NULL, NULL, NULL, cp.phone_id, 'disposition', 'do_not_call', 'platform', NULL, NULL,
                   'bench', {when.format(k="l.id")}, '', '', false, {lift.format(k="l.id")}
            FROM campaigns_lead l JOIN campaigns_contactphone cp ON cp.contact_id = l.contact_id
            WHERE l.id %% {step} = 3
            """,
            [],
        )
        cur.execute("SELECT count(*) FROM campaigns_account")
        accounts = cur.fetchone()[0]
        step = max(1, accounts // int(blocks * 0.1))
        cur.execute(
            f"""
            INSERT INTO campaigns_block ({columns})
            SELECT 'account', NULL, NULL, a.id, NULL, 'ops_disqualify', 'existing_customer', 'customer', a.customer_id,
                   NULL, 'bench', a.created_at + interval '3 days', '', '', false,
                   CASE WHEN a.id %% 10 = 0 THEN a.created_at + interval '6 days' END,
                   CASE WHEN a.id %% 10 = 0 THEN 'bench' ELSE '' END, CASE WHEN a.id %% 10 = 0 THEN 'bench' ELSE '' END
            FROM campaigns_account a WHERE a.id %% {step} = 4
            """,
            [],
        )
        cur.execute("ANALYZE")
    return measured.pk


def bare_sql(customer_id: int, dimension: str) -> tuple[dict, float]:
    """The grouped figures, the weekly ones, the false blocks and the fit-rule comparisons, by hand over the rollup."""
    from django.db import connection

    from campaigns.selectors.reports import COLUMNS

    compiled = []
    for column in COLUMNS:
        if column.condition is None:
            continue
        key = column.key
        if key == "leads":
            compiled.append("count(*)")
            continue
        entry = "entry_disqualified"
        sql = {
            "entry": entry,
            "no_number": f"NOT has_phone AND NOT {entry}",
            "entered": f"has_phone AND NOT {entry}",
            "unqualified": "unqualified_reason <> ''",
            "later": "later_any",
        }.get(key)
        if sql is None and key.startswith("unqualified_"):
            sql = f"unqualified_reason = '{key.removeprefix('unqualified_')}'"
        compiled.append(f"count(*) FILTER (WHERE {sql or key})")
    started = time.perf_counter()
    with connection.cursor() as cur:
        # One scan for the groups and the weeks, as the report does: grouped by both, summed each way after.
        cur.execute(
            f"""SELECT {dimension}, date_trunc('week', entered_at), {", ".join(compiled)}
                FROM campaigns_leadfact WHERE customer_id = %s GROUP BY 1, 2""",
            [customer_id],
        )
        rows: dict[object, list[int]] = {}
        weeks: dict[object, list[int]] = {}
        for value, week, *counts in cur.fetchall():
            for found, key in ((rows, value), (weeks, week)):
                into = found.setdefault(key, [0] * len(counts))
                for i, n in enumerate(counts):
                    into[i] += n
        cur.execute(
            """SELECT source, count(*), count(*) FILTER (WHERE lifted_at IS NOT NULL) FROM campaigns_block
               WHERE customer_id = %s GROUP BY 1""",
            [customer_id],
        )
        cur.fetchall()
        # The fit-rule changes' windows: the leads of the campaign in the 28 days before and after each.
        cur.execute(
            """SELECT c.campaign_id, c.at FROM campaigns_fitrulechange c
               JOIN campaigns_campaign k ON k.id = c.campaign_id WHERE k.customer_id = %s""",
            [customer_id],
        )
        for campaign_id, at in cur.fetchall():
            for start, end in ((at - timedelta(days=28), at), (at, at + timedelta(days=28))):
                cur.execute(
                    f"""SELECT {", ".join(compiled)} FROM campaigns_leadfact
                        WHERE campaign_id = %s AND entered_at >= %s AND entered_at < %s AND customer_id = %s""",
                    [campaign_id, start, end, customer_id],
                )
                cur.fetchall()
    return rows, time.perf_counter() - started


def bare_live_sql(customer_id: int) -> float:
    """A few of the columns straight from the base tables (no rollup): what the rollup saves."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT l.source, count(*),
                   count(*) FILTER (WHERE EXISTS (SELECT 1 FROM campaigns_call c WHERE c.lead_id = l.id)),
                   count(*) FILTER (WHERE EXISTS (SELECT 1 FROM campaigns_call c JOIN campaigns_disposition d
                                    ON d.id = c.disposition_id WHERE c.lead_id = l.id AND d.effect <> 'no_connect')),
                   count(*) FILTER (WHERE EXISTS (SELECT 1 FROM campaigns_meeting m WHERE m.lead_id = l.id)),
                   count(*) FILTER (WHERE EXISTS (SELECT 1 FROM campaigns_contactphone p
                                                  WHERE p.contact_id = l.contact_id)),
                   count(*) FILTER (WHERE a.attributes->>'industry' <> '')
            FROM campaigns_lead l JOIN campaigns_contact ct ON ct.id = l.contact_id
            JOIN campaigns_account a ON a.id = ct.account_id
            WHERE l.customer_id = %s GROUP BY 1
            """,
            [customer_id],
        )
        cur.fetchall()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=3_000_000)
    parser.add_argument("--blocks", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="Time again on the data and rollup of the last run.")
    args = parser.parse_args()

    if not args.reuse:
        ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    from campaigns.models import Block, Call, Customer, Lead, LeadFact
    from campaigns.selectors.reports import COLUMNS, ReportQuery, lead_report
    from campaigns.services.reporting import lead_facts_refresh

    if args.reuse:
        customer = Customer.objects.get(slug="bench-0")
        customer_id = customer.pk
        print(
            f"reusing {Lead.objects.count():,} leads, {Call.objects.count():,} calls, {Block.objects.count():,} blocks"
        )
    else:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        customer_id = populate(leads=args.leads, calls=args.calls, blocks=args.blocks)
        print(
            f"populated {Lead.objects.count():,} leads, {Call.objects.count():,} calls, "
            f"{Block.objects.count():,} blocks in {time.perf_counter() - started:.0f}s"
        )
        customer = Customer.objects.get(pk=customer_id)
        started = time.perf_counter()
        lead_facts_refresh(customer=customer, actor="bench")
        rebuild = time.perf_counter() - started
        facts = LeadFact.objects.filter(customer=customer).count()
        print(f"\nrollup rebuild for {customer} ({facts:,} leads): {rebuild:.1f}s (nightly, and when ops ask)")
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE campaigns_leadfact")

    keys = [c.key for c in COLUMNS if c.condition is not None]
    for dimension, column in (("source", "source"), ("industry", "industry")):
        query = ReportQuery(customer_id=customer_id, by=(dimension,))
        report_times, bare_times = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            report = lead_report(query)
            report_times.append(time.perf_counter() - t0)
            rows, elapsed = bare_sql(customer_id, column)
            bare_times.append(elapsed)
        for row in report.rows:
            assert [row.counts[k] for k in keys] == list(rows[row.key[0]]), row.labels
        report_med, bare_med = statistics.median(report_times), statistics.median(bare_times)
        print(
            f"\nreport of one customer by {dimension} ({len(report.rows)} rows, {report.total.counts['leads']:,} leads)"
        )
        print(f"  lead_report            : {report_med * 1000:8.1f} ms (median of {args.repeat}; target < 1000 ms)")
        print(f"  bare SQL over rollup   : {bare_med * 1000:8.1f} ms (same numbers, checked equal)")
        print(f"  ratio report/bare      : {report_med / bare_med:8.2f}x (target < 2x)")
    if args.reuse:
        return
    live = bare_live_sql(customer_id)
    print(f"\nfor scale: 6 of the columns by source straight from the base tables (no rollup): {live * 1000:.0f} ms")


if __name__ == "__main__":
    main()

"""Benchmark: the status recompute behind a block, on PostgreSQL.

Two scenes, each beside a same-run baseline (a bare UPDATE of the same leads that evaluates no rule):

1. Mark Phone DNC on one switchboard number shared by 5,000 contacts (with 5,000 leads).
2. Disqualify one account that has 50,000 leads.

Both sit in a database with ``--background`` other leads (default 200,000) so indexes matter.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/leadops_bench .venv/bin/python bench/recompute.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/leadops_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def populate(*, background: int, shared: int, account_leads: int) -> dict[str, int]:
    """Fill the tables set-based with generate_series; return the ids the scenes need."""
    from django.db import connection

    from campaigns.services import account_create, campaign_create, customer_create

    customer = customer_create(name="Bench Co", slug="bench", phone_region="US")
    campaign = campaign_create(customer=customer, name="Bench campaign")
    crowd = account_create(customer=customer, name="Crowd", domain="crowd.example")
    big = account_create(customer=customer, name="Big Account", domain="big.example")
    total = background + shared + account_leads
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO campaigns_contact (customer_id, account_id, first_name, last_name, title, created_at,
                                           updated_at)
            SELECT %s, CASE WHEN g <= %s THEN %s ELSE %s END, 'First', 'Last' || g, '', now(), now()
            FROM generate_series(1, %s) g
            """,
            [customer.pk, background + shared, crowd.pk, big.pk, total],
        )
        cur.execute("SELECT min(id) FROM campaigns_contact")
        first_contact = cur.fetchone()[0]
        # Every contact has its own direct number; the `shared` block also shares one switchboard.
        cur.execute(
            """
            INSERT INTO campaigns_phonenumber (e164, created_at)
            SELECT '+1202' || (2000000 + g)::text, now() FROM generate_series(0, %s) g
            """,
            [total],
        )
        cur.execute("SELECT id FROM campaigns_phonenumber WHERE e164 = '+12022000000'")
        switchboard = cur.fetchone()[0]
        cur.execute(
            """
            INSERT INTO campaigns_contactphone (contact_id, phone_id, kind)
            SELECT c.id, p.id, 'direct'
            FROM campaigns_contact c
            JOIN campaigns_phonenumber p ON p.e164 = '+1202' || (2000000 + (c.id - %s + 1))::text
            WHERE c.id >= %s + %s OR c.id < %s + %s - %s
            """,
            [first_contact, first_contact, background + shared, first_contact, background + shared, shared],
        )
        cur.execute(
            """
            INSERT INTO campaigns_contactphone (contact_id, phone_id, kind)
            SELECT id, %s, 'office' FROM campaigns_contact WHERE id >= %s AND id < %s
            """,
            [switchboard, first_contact + background, first_contact + background + shared],
        )
        cur.execute(
            """
            INSERT INTO campaigns_lead (customer_id, campaign_id, contact_id, status, stage, waiting_reason, priority,
                                        attempts, source, created_at, updated_at)
            SELECT %s, %s, id, 'eligible', 'new', '', 0, 0, 'bench', now(), now() FROM campaigns_contact
            """,
            [customer.pk, campaign.pk],
        )
        cur.execute("ANALYZE")
    return {"switchboard": switchboard, "big_account": big.pk, "first_contact": first_contact}


def timed(fn, *, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--background", type=int, default=200_000)
    parser.add_argument("--shared", type=int, default=5_000)
    parser.add_argument("--account-leads", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from campaigns.models import Account, Block, Lead, PhoneNumber
    from campaigns.services import BlockTarget, block_create, blocks_lift

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    ids = populate(background=args.background, shared=args.shared, account_leads=args.account_leads)
    print(f"populated {Lead.objects.count():,} leads in {time.perf_counter() - started:.1f}s")

    switchboard = PhoneNumber.objects.get(pk=ids["switchboard"])
    big = Account.objects.get(pk=ids["big_account"])

    def scene(
        name: str,
        *,
        target: BlockTarget,
        reach: str,
        source: str,
        reason: str,
        baseline_sql: str,
        params: list,
        expect: int,
    ) -> None:
        block_times, lift_times, base_times = [], [], []
        for _ in range(args.repeat):
            with transaction.atomic():
                t0 = time.perf_counter()
                block, _ = block_create(target=target, source=source, reason=reason, reach=reach, actor="bench")
                block_times.append(time.perf_counter() - t0)
            disqualified = Lead.objects.filter(status="disqualified").count()
            assert disqualified == expect, (disqualified, expect)
            with transaction.atomic():
                t0 = time.perf_counter()
                blocks_lift(blocks=Block.objects.filter(pk=block.pk), actor="bench", reason="bench")
                lift_times.append(time.perf_counter() - t0)
            assert Lead.objects.filter(status="disqualified").count() == 0
            with transaction.atomic(), connection.cursor() as cur:
                t0 = time.perf_counter()
                cur.execute(baseline_sql, params)
                base_times.append(time.perf_counter() - t0)
                transaction.set_rollback(True)
        block_med, lift_med, base_med = (statistics.median(x) for x in (block_times, lift_times, base_times))
        print(f"\n{name} ({expect:,} leads change status)")
        print(f"  block_create + recompute : {block_med * 1000:8.1f} ms (median of {args.repeat})")
        print(f"  blocks_lift + recompute  : {lift_med * 1000:8.1f} ms")
        print(f"  baseline bare UPDATE     : {base_med * 1000:8.1f} ms")
        print(f"  ratio block/baseline     : {block_med / base_med:8.2f}x")

    scene(
        f"Mark Phone DNC on a switchboard shared by {args.shared:,} contacts",
        target=BlockTarget(phone=switchboard),
        reach=Block.Reach.PLATFORM,
        source=Block.Source.OPS_PHONE_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        baseline_sql="""UPDATE campaigns_lead SET status = 'disqualified', updated_at = now()
                        WHERE contact_id IN (SELECT contact_id FROM campaigns_contactphone WHERE phone_id = %s)""",
        params=[switchboard.pk],
        expect=args.shared - 0,
    )
    scene(
        f"Disqualify an account with {args.account_leads:,} leads",
        target=BlockTarget(account=big),
        reach=Block.Reach.CUSTOMER,
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.EXISTING_CUSTOMER,
        baseline_sql="""UPDATE campaigns_lead SET status = 'disqualified', updated_at = now()
                        WHERE contact_id IN (SELECT id FROM campaigns_contact WHERE account_id = %s)""",
        params=[big.pk],
        expect=args.account_leads,
    )


if __name__ == "__main__":
    main()

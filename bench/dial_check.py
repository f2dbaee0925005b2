"""The dial check's statement, timed against a baseline revision's statement in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/leadops_bench_dial .venv/bin/python bench/dial_check.py
    … --baseline main --leads 3000 --entries 100000 --checks 5000

Fills (once; ``--fresh`` to start again) one customer with ``--leads`` leads, each contact with a number and an
email, 1 % of the contacts with a customer Do-Not-Call block and one number shared by 50 contacts blocked
platform-wide, and a suppression list of ``--entries`` entries (numbers, emails, domains) of which a few
match. Then, interleaved in rounds so that both meet the same cache and load: ``--checks`` executions of the
dial check's statement as this checkout writes it, and as ``--baseline`` (a git revision) wrote it, on one
prepared connection; and ``--checks`` whole ``can_dial_lead`` calls of this checkout. Prints the median and
p95 of each.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/leadops_bench_dial")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")


def ensure_database(url: str, *, fresh: bool) -> None:
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def populate(*, leads: int, entries: int) -> None:
    from django.db import transaction

    from campaigns.models import (
        Account,
        Block,
        Campaign,
        Contact,
        ContactEmail,
        ContactPhone,
        Customer,
        Lead,
        PhoneNumber,
    )
    from campaigns.services.statuses import lead_statuses_recompute
    from suppressions.models import Entry

    if Customer.objects.filter(slug="bench").exists():
        return
    with transaction.atomic():
        customer = Customer.objects.create(name="Bench", slug="bench")
        campaign = Campaign.objects.create(customer=customer, name="Bench", status=Campaign.Status.ACTIVE)
        accounts = Account.objects.bulk_create(
            Account(customer=customer, name=f"Account {i}", domain=f"account{i}.example") for i in range(leads // 5)
        )
        contacts = Contact.objects.bulk_create(
            Contact(customer=customer, account=accounts[i % len(accounts)], first_name=f"P{i}", last_name="J")
            for i in range(leads)
        )
        phones = PhoneNumber.objects.bulk_create(PhoneNumber(e164=f"+1202{3_000_000 + i}") for i in range(leads))
        shared = PhoneNumber.objects.create(e164="+12025550143")
        ContactPhone.objects.bulk_create(
            ContactPhone(contact=c, phone=p, kind=ContactPhone.Kind.DIRECT)
            for c, p in zip(contacts, phones, strict=True)
        )
        ContactPhone.objects.bulk_create(
            ContactPhone(contact=c, phone=shared, kind=ContactPhone.Kind.OFFICE) for c in contacts[:50]
        )
        ContactEmail.objects.bulk_create(
            ContactEmail(
                contact=c,
                email=f"p{i}@account{i % len(accounts)}.example",
                domain=f"account{i % len(accounts)}.example",
            )
            for i, c in enumerate(contacts)
        )
        Lead.objects.bulk_create(Lead(customer=customer, campaign=campaign, contact=c) for c in contacts)
        Block.objects.bulk_create(
            Block(
                target=Block.Target.CONTACT,
                contact=c,
                source=Block.Source.CUSTOMER_DNC,
                reason=Block.Reason.DO_NOT_CALL,
                reach=Block.Reach.CUSTOMER,
                customer=customer,
                actor_job="bench",
            )
            for c in contacts[::100]
        )
        Block.objects.create(
            target=Block.Target.PHONE,
            phone=shared,
            source=Block.Source.OPS_PHONE_DNC,
            reason=Block.Reason.DO_NOT_CALL,
            reach=Block.Reach.PLATFORM,
            actor_job="bench",
        )
        kinds = [Entry.Kind.PHONE] * 8 + [Entry.Kind.EMAIL, Entry.Kind.DOMAIN]
        values = {
            Entry.Kind.PHONE: lambda i: f"+1303{2_000_000 + i}",
            Entry.Kind.EMAIL: lambda i: f"someone{i}@elsewhere.example",
            Entry.Kind.DOMAIN: lambda i: f"elsewhere{i}.example",
        }
        Entry.objects.bulk_create(
            (Entry(customer=customer, kind=kinds[i % 10], value=values[kinds[i % 10]](i)) for i in range(entries)),
            batch_size=10_000,
        )
        # A few that match, with no block yet: the live check must find them.
        Entry.objects.bulk_create(Entry(customer=customer, kind=Entry.Kind.PHONE, value=p.e164) for p in phones[5::500])
        lead_statuses_recompute(leads=Lead.objects.filter(campaign=campaign))
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def baseline_statement(revision: str):
    """Return ``(sql, params_for(lead_id, e164))`` of the dial check's statement as ``revision`` wrote it."""

    def module(path: str, name: str):
        source = subprocess.run(
            ["git", "show", f"{revision}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
        mod = types.ModuleType(name)
        mod.__file__ = path
        sys.modules[name] = mod  # dataclasses look their module up
        exec(compile(source, f"{revision}:{path}", "exec"), mod.__dict__)  # our own code, at a revision of ours
        return mod

    explaining = module("campaigns/selectors/explaining.py", "baseline_explaining")
    selectors = module("suppressions/selectors.py", "baseline_suppressions_selectors")
    if hasattr(explaining, "dial_check_statement"):
        # The revision's live checks, registered in its explaining module as its apps would have.
        for check in vars(selectors).values():
            if type(check).__name__ == "LiveCheck":
                explaining.live_check_register(check)
        sql, params = explaining.dial_check_statement()
        return sql, lambda lead_id, e164: params(lead_id, e164)
    sql = explaining._DIAL_SQL.format(live=selectors.live_entries_sql())
    return sql, lambda lead_id, e164: {**selectors.live_entries_params(e164), "lead": lead_id, "scope": None}


def current_statement():
    from campaigns.selectors import explaining

    if hasattr(explaining, "dial_check_statement"):
        sql, params = explaining.dial_check_statement()
        return sql, lambda lead_id, e164: params(lead_id, e164)
    from suppressions.selectors import live_entries_params, live_entries_sql

    sql = explaining._DIAL_SQL.format(live=live_entries_sql())
    return sql, lambda lead_id, e164: {**live_entries_params(e164), "lead": lead_id, "scope": None}


def summary(label: str, times: list[float]) -> str:
    times = sorted(times)
    p95 = times[int(len(times) * 0.95)]
    return f"{label:<34} median {statistics.median(times) * 1e3:7.3f} ms   p95 {p95 * 1e3:7.3f} ms   (n={len(times)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="main")
    parser.add_argument("--leads", type=int, default=3_000)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--checks", type=int, default=5_000)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"], fresh=args.fresh)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    populate(leads=args.leads, entries=args.entries)

    from campaigns.models import ContactPhone, Lead
    from campaigns.selectors.explaining import can_dial_lead
    from leadops.db import prepared_cursor

    pairs = list(
        ContactPhone.objects.filter(contact__leads__customer__slug="bench")
        .values_list("contact__leads__id", "phone__e164")
        .order_by("pk")
    )
    random.seed(12)
    sample = [random.choice(pairs) for _ in range(args.checks)]
    statements = {"baseline": baseline_statement(args.baseline), "this checkout": current_statement()}
    refused = sum(not can_dial_lead(lead_id, e164).allowed for lead_id, e164 in sample[:1000])
    times: dict[str, list[float]] = {name: [] for name in statements}
    times["can_dial_lead (this checkout)"] = []
    with prepared_cursor() as cursor:
        for sql, params in statements.values():  # warm: prepare both, fill the cache
            for lead_id, e164 in sample[:200]:
                cursor.execute(sql, params(lead_id, e164))
                cursor.fetchall()
        answers = {}
        for name, (sql, params) in statements.items():
            lead_id, e164 = sample[0]
            cursor.execute(sql, params(lead_id, e164))
            answers[name] = sorted(cursor.fetchall())
        assert answers["baseline"] == answers["this checkout"], answers
        for start in range(0, len(sample), 500):
            chunk = sample[start : start + 500]
            for name, (sql, params) in statements.items():
                for lead_id, e164 in chunk:
                    began = time.perf_counter()
                    cursor.execute(sql, params(lead_id, e164))
                    cursor.fetchall()
                    times[name].append(time.perf_counter() - began)
            for lead_id, e164 in chunk:
                began = time.perf_counter()
                can_dial_lead(lead_id, e164)
                times["can_dial_lead (this checkout)"].append(time.perf_counter() - began)
    print(
        f"{Lead.objects.filter(customer__slug='bench').count():,} leads, {args.entries:,} entries; "
        f"{refused} of the first 1,000 checks refused; baseline = {args.baseline}"
    )
    for name, measured in times.items():
        print(summary(f"statement, {name}" if name in statements else name, measured))


if __name__ == "__main__":
    main()

"""Benchmark: search that finds what people type, at a million leads, on PostgreSQL.

Fills ``--contacts`` contacts (default 1,000,000; ten per account), each with an email, a number and a lead,
plus the ones searched for (Mia Young at Harbor Medical Group, +1 202-726-6092). Then, per search, the lead
list's query as the admin runs it (``leads_found``, newest 100, with its probe of whether the search is broad)
and the contact list's, each beside a same-run baseline: the lead found by its id (one index probe, the floor
of any list query). It prints the median times, the query count and whether the plan reads any of the big
tables by a sequential scan. Then the whole admin list pages (lead, contact, account, phone number), each
searched for the broad terms ("Davis", a tenth of the last names; "James Davis", a hundredth), as a signed-in
superuser's request through Django's test client: every query the page runs (filters, count, page), beside
the same page unsearched.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/leadops_bench_search .venv/bin/python bench/search.py
    (add --reuse to search again the database a previous run filled)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/leadops_bench_search")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")

FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez"]
WORDS = ["North", "Valley", "Family", "Dental", "Care", "Health", "Partners", "Clinic", "Group", "Center"]
SEARCHES = [
    "Mia Young",
    "Harbor Medical",
    "(202) 726-6092",
    "2027266092",
    "mia.young@harbormedical.org",
    "Davis",
    "James Davis",
]
BROAD = ["Davis", "James Davis"]
PAGES = ["lead", "contact", "account", "phonenumber"]
# The portal's lists of people, and the name of each one's page in its template context.
PORTAL_PAGES = {"contacts": "contacts", "accounts": "accounts", "leads/disqualified": "leads"}
BIG_TABLES = ("campaigns_contact ", "campaigns_lead ", "campaigns_account ", "campaigns_contactemail ")


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _array(words: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{w}'" for w in words) + "]"


def populate(*, contacts: int) -> int:
    """Fill the tables set-based with generate_series; return the lead id of Mia Young."""
    from django.db import connection

    from campaigns.services import account_create, campaign_create, contact_create, customer_create, lead_create

    customer = customer_create(name="Bench Co", slug="bench", phone_region="US")
    campaign = campaign_create(customer=customer, name="Bench campaign")
    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO campaigns_account (customer_id, name, domain, created_at, updated_at)
            SELECT %s, ({_array(WORDS)})[1 + g %% 10] || ' ' || ({_array(WORDS)})[1 + (g / 10) %% 10] || ' ' || g,
                   'acct' || g || '.example', now(), now()
            FROM generate_series(0, %s) g
            """,
            [customer.pk, contacts // 10],
        )
        cur.execute("SELECT min(id) FROM campaigns_account")
        first_account = cur.fetchone()[0]
        cur.execute(
            f"""
            INSERT INTO campaigns_contact (customer_id, account_id, first_name, last_name, title, created_at,
                                           updated_at)
            SELECT %s, %s + g / 10, ({_array(FIRST)})[1 + g %% 10],
                   ({_array(LAST)})[1 + (g / 10) %% 10] || (g %% 1000), '', now(), now()
            FROM generate_series(0, %s) g
            """,
            [customer.pk, first_account, contacts - 1],
        )
        cur.execute(
            """
            INSERT INTO campaigns_contactemail (contact_id, email, domain)
            SELECT id, 'p' || id || '@acct' || id || '.example', 'acct' || id || '.example' FROM campaigns_contact
            """
        )
        cur.execute(
            """
            INSERT INTO campaigns_phonenumber (e164, created_at)
            SELECT '+1212' || (2000000 + id)::text, now() FROM campaigns_contact
            """
        )
        cur.execute(
            """
            INSERT INTO campaigns_contactphone (contact_id, phone_id, kind)
            SELECT c.id, p.id, 'direct' FROM campaigns_contact c
            JOIN campaigns_phonenumber p ON p.e164 = '+1212' || (2000000 + c.id)::text
            """
        )
        cur.execute(
            """
            INSERT INTO campaigns_lead (customer_id, campaign_id, contact_id, status, stage, waiting_reason, priority,
                                        attempts, source, created_at, updated_at)
            SELECT %s, %s, id, 'eligible', 'new', '', 0, 0, 'bench', now(), now() FROM campaigns_contact
            """,
            [customer.pk, campaign.pk],
        )
    harbor = account_create(customer=customer, name="Harbor Medical Group", domain="harbormedical.org")
    mia = contact_create(
        account=harbor,
        first_name="Mia",
        last_name="Young",
        title="",
        emails=["mia.young@harbormedical.org"],
        phones=[("(202) 726-6092", "direct")],
    )
    lead = lead_create(campaign=campaign, contact=mia, priority=0, source="bench")
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return lead.pk


def timed(fn, *, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="Search the database a previous run filled.")
    args = parser.parse_args()

    if not args.reuse:
        ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns.models import Contact, Lead
    from campaigns.selectors.searching import contacts_found, leads_found

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if args.reuse:
        mia_lead = Lead.objects.get(contact__first_name="Mia", contact__last_name="Young").pk
    else:
        mia_lead = populate(contacts=args.contacts)
        print(f"populated {Lead.objects.count():,} leads in {time.perf_counter() - started:.1f}s")

    baseline = timed(lambda: list(Lead.objects.filter(pk=mia_lead).order_by("-id")[:100]), repeat=args.repeat)
    print(f"\nbaseline: the lead by its id            {baseline * 1000:8.1f} ms")
    print(f"{'search':<32}{'leads':>8}{'lead list':>12}{'contacts':>12}{'queries':>9}  seq scan?")
    for term in SEARCHES:
        leads = Lead.objects.filter(leads_found(term)).order_by("-id")[:100]
        contacts = Contact.objects.filter(contacts_found(term)).order_by("last_name", "first_name", "id")[:100]
        contact_time = timed(lambda contacts=contacts: list(contacts.all()), repeat=args.repeat)
        lead_time = timed(
            lambda term=term: list(Lead.objects.filter(leads_found(term)).order_by("-id")[:100]), repeat=args.repeat
        )
        with CaptureQueriesContext(connection) as queries:
            found = list(Lead.objects.filter(leads_found(term)).order_by("-id")[:100])
        sql, params = leads.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        scans = [t.strip() for t in BIG_TABLES if f"Seq Scan on {t}" in plan]
        print(
            f"{term!r:<32}{len(found):>8}{lead_time * 1000:>10.1f}ms{contact_time * 1000:>10.1f}ms"
            f"{len(queries):>9}  {', '.join(scans) or 'no'}"
        )
    pages(repeat=args.repeat)


def _page_rows(client, title: str, urls: dict[str, str], paginator_of, *, repeat: int) -> None:
    """Print, for each named page of ``urls``, its time unsearched and searched for each broad term, with its
    query count and the count it shows (``paginator_of(response)``)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    print(f"\n{title:<18}{'unsearched':>30}" + "".join(f"{term!r:>34}" for term in BROAD))
    for name, url in urls.items():
        cells = []
        for term in [None, *BROAD]:
            data = {"q": term} if term else {}
            client.get(url, data)
            took = timed(lambda url=url, data=data: client.get(url, data), repeat=repeat)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url, data)
            assert response.status_code == 200, (url, response.status_code)
            paginator = paginator_of(name, response)
            shown = f"{paginator.count_qualifier} {paginator.count:,}".strip()
            cells.append(f"{took * 1000:.0f} ms {len(queries)}q ({shown})")
        print(f"{name:<18}{cells[0]:>30}" + "".join(f"{cell:>34}" for cell in cells[1:]))


def pages(*, repeat: int) -> None:
    """Print each admin list page's time searched for the broad terms, beside the same page unsearched, then the
    portal's, as the bench customer's user."""
    from django.conf import settings
    from django.test import Client
    from django.test.utils import setup_test_environment

    from campaigns.models import Customer, User

    setup_test_environment()  # the responses carry their template context (the paginator's count)
    settings.ALLOWED_HOSTS = ["*"]
    user = User.objects.filter(username="bench-search").first() or User.objects.create_superuser(
        "bench-search", "bench-search@example.com", None
    )
    client = Client()
    client.force_login(user)
    admin_pages = {model: f"/admin/campaigns/{model}/" for model in PAGES}
    _page_rows(client, "admin list page", admin_pages, lambda name, r: r.context["cl"].paginator, repeat=repeat)
    customer = Customer.objects.get(slug="bench")
    user = User.objects.filter(username="bench-portal").first() or User.objects.create_user(
        "bench-portal", "bench-portal@example.com", None, customer=customer
    )
    client = Client()
    client.force_login(user)
    portal = {name: f"/portal/{name}/" for name in PORTAL_PAGES}
    _page_rows(
        client,
        "portal list page",
        portal,
        lambda name, r: r.context[PORTAL_PAGES[name]].paginator,
        repeat=repeat,
    )


if __name__ == "__main__":
    main()

"""Three real Celery workers, one per group of queues, against PostgreSQL and a Redis of the test's own.

Several customers at once: for each, two suppression uploads (numbers, then emails and a domain), a lead
import whose people the uploads match, and two full rematches, all sent together. The uploads worker reads
and matches uploads while the matching worker rematches the same customers and the imports worker imports
into them: two matchers of one customer and an import beside them. When every queue is drained, the blocks,
entries and statuses (a digest of the rows, ids left out) must equal those of the same work done serially
in this process, on a second copy of the customers; and no stored status may differ from its blocks.

The workers share the test database, so the test commits (``transaction=True``).
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection

from campaigns.imports.models import LeadImport
from campaigns.imports.services import lead_import_create, lead_import_run
from campaigns.imports.tasks import lead_import_process
from campaigns.models import Block, Campaign, Contact, ContactEmail, Customer, Lead
from campaigns.services import lead_statuses_check
from leadops.celery import app
from suppressions import tasks as suppression_tasks
from suppressions.models import Entry, Upload
from suppressions.services import upload_create
from suppressions.services.matching import customer_rematch
from suppressions.services.pipeline import upload_process
from tests.campaigns.factories import AccountFactory, CampaignFactory, ContactFactory, ContactPhoneFactory
from tests.imports.test_importing import HEADER, row
from tests.redis_server import serve
from tests.suppressions.factories import csv_bytes

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.postgres("real workers and advisory locks"), pytest.mark.django_db(transaction=True)]

CUSTOMERS = 3
PEOPLE = 60  # contacts already on file per customer, each with a number and an email
IMPORTED = 40  # rows of each customer's lead import
# One worker per group of queues, as in production (README, "Workers per queue").
WORKERS = ("uploads,celery", "matching", "imports,crm")


@pytest.fixture
def own_redis(tmp_path):
    yield from serve(tmp_path)


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db.get('USER') or 'postgres'}{password}@{db.get('HOST') or '127.0.0.1'}:"
        f"{db.get('PORT') or 5432}/{db['NAME']}"
    )


@pytest.fixture
def workers(own_redis, tmp_path):
    """Start one ``celery worker`` (one process) per entry of ``WORKERS``; stop them afterwards."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.suppressions.worker_settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": own_redis.url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "LEADOPS_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "LEADOPS_TEST_MATCH_BATCH_SIZE": "7",  # many small batches, so the workers' transactions interleave
        "LOG_LEVEL": "WARNING",
    }
    started = []
    for index, queues in enumerate(WORKERS):
        log = open(tmp_path / f"worker-{index}.log", "w")  # noqa: SIM115
        command = [sys.executable, "-m", "celery", "-A", "leadops", "worker", "-Q", queues, "-c", "1"]
        command += [
            "-n",
            f"w{index}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "WARNING",
        ]
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        started.append((process, log))
    yield own_redis
    for process, log in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # its broker goes with the test: no warm shutdown to wait for
            process.wait()
        log.close()


def _build(tag: str) -> list[dict]:
    """Make the customers of one run (``tag`` tells the two copies apart) and their files; return them."""
    scenes = []
    for n in range(CUSTOMERS):
        customer = Customer.objects.create(name=f"Customer {n} {tag}", slug=f"c{n}-{tag}", phone_region="US")
        campaign = CampaignFactory(customer=customer, name="Spring")
        account = AccountFactory(customer=customer, domain=f"c{n}-old.example")
        for i in range(PEOPLE):
            contact = ContactFactory(account=account, customer=customer, first_name=f"Old{i}", last_name="Person")
            ContactEmail.objects.create(contact=contact, email=f"old{i}@c{n}-old.example", domain=f"c{n}-old.example")
            ContactPhoneFactory(contact=contact, phone__e164=f"+1202555{n}{i:03d}")
            Lead.objects.create(customer=customer, campaign=campaign, contact=contact)
        imported = csv_bytes(
            [HEADER]
            + [
                row(
                    first=f"New{i}",
                    last="Person",
                    company=f"New {n}",
                    website=f"c{n}-new.example",
                    email=f"new{i}@c{n}-new.example",
                    phone=f"303-555-{n}{i:03d}",
                )
                for i in range(IMPORTED)
            ]
        )
        # Numbers of every other old and every third new person; emails of others; the new people's domain.
        numbers = [[f"+1202555{n}{i:03d}"] for i in range(0, PEOPLE, 2)]
        numbers += [[f"+1303555{n}{i:03d}"] for i in range(0, IMPORTED, 3)]
        emails = [[f"old{i}@c{n}-old.example"] for i in range(1, PEOPLE, 5)] + [[f"c{n}-new.example"]]
        scenes.append(
            {
                "customer": customer,
                "campaign": campaign,
                "import": imported,
                "uploads": [("numbers.csv", [["phone"], *numbers]), ("emails.csv", [["value"], *emails])],
            }
        )
    return scenes


def _files(scene: dict) -> tuple[list[Upload], LeadImport]:
    uploads = [
        upload_create(
            customer=scene["customer"],
            file=ContentFile(csv_bytes(rows), name=name),
            original_name=name,
            uploaded_by=None,
            enqueue=False,
        )
        for name, rows in scene["uploads"]
    ]
    lead_import = lead_import_create(
        campaign=scene["campaign"], stream=io.BytesIO(scene["import"]), filename="leads.csv", actor=None, enqueue=False
    )
    return uploads, lead_import


def _digest(customers: list[Customer]) -> dict:
    """Return every customer's blocks, entries and lead statuses by position, with no id in them."""
    index = {customer.pk: n for n, customer in enumerate(customers)}
    # A contact is known by its name (each person of the scene has one of their own), an account by its website.
    names = {
        pk: f"{first} {last}"
        for pk, first, last in Contact.objects.filter(customer__in=customers).values_list(
            "pk", "first_name", "last_name"
        )
    }
    entries = {
        pk: (kind, value)
        for pk, kind, value in Entry.objects.filter(customer__in=customers).values_list("pk", "kind", "value")
    }
    domains = dict(Contact.objects.filter(customer__in=customers).values_list("account_id", "account__domain"))
    blocks = sorted(
        tuple(
            "" if value is None else str(value)
            for value in (
                index[b.customer_id],
                b.target,
                names.get(b.contact_id),
                domains.get(b.account_id),
                b.source,
                b.reason,
                b.reach,
                entries.get(b.evidence_id),
                b.evidence_text,
                b.lifted_at is None,
            )
        )
        for b in Block.objects.filter(customer__in=customers)
    )
    statuses = sorted(
        (index[customer_id], name, names[contact_id], status)
        for customer_id, name, contact_id, status in Lead.objects.filter(customer__in=customers).values_list(
            "customer_id", "campaign__name", "contact_id", "status"
        )
    )
    listed = sorted(
        (index[customer_id], kind, value, name, line, removed is None)
        for customer_id, kind, value, name, line, removed in Entry.objects.filter(customer__in=customers).values_list(
            "customer_id", "kind", "value", "upload__original_name", "line", "removed_at"
        )
    )
    return {"blocks": blocks, "statuses": statuses, "entries": listed}


def _drained(redis_url: str) -> bool:
    """Return whether no message waits in any queue and none is being worked on (unacknowledged)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    waiting = sum(client.llen(queue) for queue in settings.LEADOPS_QUEUES)
    return waiting == 0 and client.hlen("unacked") == 0


def _wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_three_workers_leave_the_same_blocks_and_statuses_as_a_serial_run(workers):
    # given: the customers and their files, twice over
    parallel, serial = _build("parallel"), _build("serial")
    sent = [_files(scene) for scene in parallel]

    # when: everything is sent at once to the three workers (routed to their queues by the settings)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with app.connection_for_write(workers.url) as broker:
            for scene, (uploads, lead_import) in zip(parallel, sent, strict=True):
                for upload in uploads:
                    suppression_tasks.upload_process.apply_async(args=[upload.pk], connection=broker)
                lead_import_process.apply_async(args=[lead_import.pk], connection=broker)
                for _ in range(2):
                    suppression_tasks.customer_rematch.apply_async(args=[scene["customer"].pk], connection=broker)
    finally:
        app.conf.task_always_eager = eager
    # and the same work is done here, one step after the other
    for scene in serial:
        uploads, lead_import = _files(scene)
        for upload in uploads:
            upload_process(upload_id=upload.pk)
        lead_import_run(lead_import_id=lead_import.pk)
        customer_rematch(customer=scene["customer"])
    # (twice, a moment apart: a worker takes a message off its queue a moment before it marks it unacknowledged)
    for _ in range(2):
        _wait_for(lambda: _drained(workers.url), timeout=50, what="the workers to drain every queue")
        time.sleep(0.3)

    # then
    ids = [upload.pk for uploads, _ in sent for upload in uploads]
    assert set(Upload.objects.filter(pk__in=ids).values_list("status", flat=True)) == {Upload.Status.DONE}
    imports = [lead_import.pk for _, lead_import in sent]
    assert set(LeadImport.objects.filter(pk__in=imports).values_list("status", flat=True)) == {LeadImport.Status.DONE}
    got = _digest([scene["customer"] for scene in parallel])
    expected = _digest([scene["customer"] for scene in serial])
    assert len(got["blocks"]) > CUSTOMERS * 30  # the uploads matched old and imported people alike
    assert {status for *_, status in got["statuses"]} == {"eligible", "disqualified"}
    assert got == expected
    assert lead_statuses_check(leads=Lead.objects.all(), repair=False).drifted == 0
    assert Campaign.objects.count() == 2 * CUSTOMERS

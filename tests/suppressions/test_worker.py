"""A real Celery worker against the real Redis (db 14), processing uploads the test commits.

The worker is a subprocess (``celery -A leadops worker``) on the test database, so these tests commit
(``transaction=True``). Run them with ``-m celery_worker``; they skip when Redis is not reachable.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection

from campaigns.models import Block, LeadStatus
from leadops.celery import app
from suppressions import tasks
from suppressions.models import Upload
from suppressions.services import upload_create
from tests.campaigns.factories import (
    AccountFactory,
    CampaignFactory,
    ContactFactory,
    ContactPhoneFactory,
    CustomerFactory,
    LeadFactory,
    PhoneNumberFactory,
)
from tests.suppressions.factories import csv_bytes

REDIS_URL = os.environ.get("LEADOPS_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture
def worker_queue():
    if not _redis_available():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    return f"suppressions-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def start_worker(worker_queue):
    """Start ``celery -A leadops worker`` (prefork, one child) on the test database; stop it afterwards."""
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.suppressions.worker_settings",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": REDIS_URL,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "LEADOPS_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "LOG_LEVEL": "WARNING",
        }
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "leadops",
                "worker",
                "-Q",
                worker_queue,
                "-c",
                "1",
                "--pool",
                "prefork",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def _database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def _send(upload: Upload, queue: str) -> None:
    """Enqueue the upload's processing on the real broker, as ``upload_create`` does on commit."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with app.connection_for_write(REDIS_URL) as broker:
            tasks.upload_process.apply_async(args=[upload.pk], connection=broker, queue=queue)
    finally:
        app.conf.task_always_eager = eager


def _wait_for(condition, *, timeout: float = 60, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _pool_children(worker: subprocess.Popen) -> list[int]:
    output = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in output.split()]


def _leads_with_numbers(customer, count: int) -> list[str]:
    campaign = CampaignFactory(customer=customer)
    account = AccountFactory(customer=customer)
    numbers = []
    for n in range(count):
        number = f"+1202555{n:04d}"
        contact = ContactFactory(account=account)
        ContactPhoneFactory(contact=contact, phone=PhoneNumberFactory(e164=number))
        LeadFactory(campaign=campaign, contact=contact)
        numbers.append(number)
    return numbers


def _upload(customer, numbers: list[str]) -> Upload:
    content = csv_bytes([["phone"]] + [[number] for number in numbers])
    return upload_create(
        customer=customer,
        file=ContentFile(content, name="dnc.csv"),
        original_name="dnc.csv",
        uploaded_by=None,
        enqueue=False,
    )


def _block_set() -> list[tuple]:
    return sorted(
        Block.objects.filter(source=Block.Source.SUPPRESSION).values_list(
            "target", "contact_id", "account_id", "evidence_type_id", "evidence_id", "lifted_at"
        )
    )


def test_worker_processes_an_upload_end_to_end(worker_queue, start_worker):
    # given
    customer = CustomerFactory(slug="worker-e2e")
    numbers = _leads_with_numbers(customer, 3)
    upload = _upload(customer, [*numbers, "not a number"])
    start_worker()

    # when
    _send(upload, worker_queue)

    # then
    done = _wait_for(
        lambda: Upload.objects.filter(pk=upload.pk, status__in=["done", "failed"]).first(), what="the upload"
    )
    assert done.status == Upload.Status.DONE, done.error
    assert (done.values_read, done.accepted, done.rejected, done.blocks_created) == (4, 3, 1, 3)
    assert len(_block_set()) == 3
    assert set(customer_leads_statuses(customer)) == {LeadStatus.DISQUALIFIED}


def customer_leads_statuses(customer):
    from campaigns.models import Lead

    return Lead.objects.filter(customer=customer).values_list("status", flat=True)


def test_worker_killed_mid_match_reruns_the_task_and_leaves_identical_blocks(worker_queue, start_worker):
    # given
    customer = CustomerFactory(slug="worker-kill")
    numbers = _leads_with_numbers(customer, 400)
    upload = _upload(customer, numbers)
    worker = start_worker()
    _send(upload, worker_queue)
    _wait_for(lambda: Block.objects.filter(source=Block.Source.SUPPRESSION).count() >= 20, what="first batches")

    # when: the pool process running the task dies (SIGKILL) half-way through matching
    for child in _pool_children(worker):
        os.kill(child, signal.SIGKILL)
    partial = Block.objects.filter(source=Block.Source.SUPPRESSION).count()

    # then: late ack + reject on worker lost re-deliver it; the re-run completes without duplicates
    assert 0 < partial < len(numbers), "the kill must land mid-way for this test to mean anything"
    done = _wait_for(
        lambda: Upload.objects.filter(pk=upload.pk, status__in=["done", "failed"]).first(),
        timeout=120,
        what="the re-delivered task",
    )
    assert done.status == Upload.Status.DONE, done.error
    blocks = _block_set()
    assert len(blocks) == len(numbers) == done.blocks_created
    assert len({(target, contact, evidence) for target, contact, _, _, evidence, _ in blocks}) == len(numbers)

    # and a second run of the same task changes nothing
    _send(upload, worker_queue)
    from suppressions.services import upload_match

    upload_match(upload=done)
    assert _block_set() == blocks

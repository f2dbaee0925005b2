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
from django.db.models import Q

from campaigns.models import Block, Contact, ContactPhone, Lead, LeadStatus, PhoneNumber
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
)
from tests.portal.uploading import portal_upload
from tests.redis_server import serve
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
def start_worker(worker_queue, tmp_path):
    """Start ``celery -A leadops worker`` (prefork, one child) on the test database; stop it afterwards.

    By default on the shared Redis and the test's own queue. ``redis_url`` points it at a Redis of the test's
    own (default queue), ``beat=True`` embeds beat (``-B``) with the sweeps every ``LEADOPS_TEST_SWEEP_SECONDS``,
    and each worker is the leader of a process group of its own, so a test can kill all of it at once.
    """
    started: list[subprocess.Popen] = []
    on_own_broker: set[int] = set()
    logs = []

    def start(*, redis_url: str | None = None, beat: bool = False, env: dict[str, str] | None = None):
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.suppressions.worker_settings",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": redis_url or REDIS_URL,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "LEADOPS_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "LOG_LEVEL": os.environ.get("LEADOPS_TEST_WORKER_LOG_LEVEL", "WARNING"),
            **(env or {}),
        }
        queue = [] if redis_url else ["-Q", worker_queue]
        embedded_beat = ["-B", "-s", str(tmp_path / f"beat-{len(started)}")] if beat else []
        # The worker's log, for a failing test to read (``LEADOPS_TEST_WORKER_LOG``: a directory to keep it in).
        log = open(Path(os.environ.get("LEADOPS_TEST_WORKER_LOG", tmp_path)) / f"worker-{len(started)}.log", "w")  # noqa: SIM115
        logs.append(log)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "leadops",
                "worker",
                *queue,
                *embedded_beat,
                "-c",
                "1",
                "--pool",
                "prefork",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                environment["LOG_LEVEL"],
            ],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        if redis_url:
            on_own_broker.add(process.pid)
        return process

    yield start
    for process in started:
        if process.poll() is None and process.pid in on_own_broker:
            # Its broker, the test's own Redis, is gone with the test: nothing is left to shut down cleanly (a warm
            # shutdown would wait seconds for that broker), so the whole group goes at once, beat included.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        elif process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    for log in logs:
        log.close()


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of the test's own, to stop and restart (never the shared one)."""
    yield from serve(tmp_path)


def _database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def _send(upload: Upload, queue: str | None, redis_url: str = REDIS_URL) -> None:
    """Enqueue the upload's processing on the real broker, as ``upload_create`` does on commit."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with app.connection_for_write(redis_url) as broker:
            tasks.upload_process.apply_async(args=[upload.pk], connection=broker, **({"queue": queue} if queue else {}))
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
    """Make ``count`` Eligible leads of ``customer``, each contact with a number of its own; return the numbers."""
    campaign = CampaignFactory(customer=customer)
    account = AccountFactory(customer=customer)
    numbers = [f"+1202555{n:04d}" for n in range(count)]
    contacts = Contact.objects.bulk_create(ContactFactory.build(account=account, customer=customer) for _ in numbers)
    phones = PhoneNumber.objects.bulk_create(PhoneNumber(e164=number) for number in numbers)
    ContactPhone.objects.bulk_create(
        ContactPhoneFactory.build(contact=contact, phone=phone) for contact, phone in zip(contacts, phones, strict=True)
    )
    Lead.objects.bulk_create(
        LeadFactory.build(campaign=campaign, contact=contact, customer=customer) for contact in contacts
    )
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
    numbers = _leads_with_numbers(customer, 200)
    upload = _upload(customer, numbers)
    worker = start_worker(env={"LEADOPS_TEST_MATCH_BATCH_SIZE": "5"})  # 40 batches, each its own transaction
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


# --- A worker killed whole, and a broker that was down ----------------------------------------------------
# Both run against a Redis of the test's own (default queue) with beat embedded in the worker and the sweeps
# every second; readers beat every second and are dead after 4 silent seconds. Production: a beat every
# 10 s, dead after 45 s, sweeps every minute, so a dead reader is re-run within 45 + 60 s of its death.
FAST = {
    "LEADOPS_TEST_SWEEP_SECONDS": "1",
    "SUPPRESSIONS_HEARTBEAT_SECONDS": "1",
    "SUPPRESSIONS_HEARTBEAT_STALE_SECONDS": "4",
    "LEADOPS_TEST_MATCH_BATCH_SIZE": "200000",
}


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _big_upload(customer, rows: int) -> Upload:
    content = "phone\r\n" + "".join(f"+1303{2000000 + n}\r\n" for n in range(rows)) + "not a number\r\n"
    return upload_create(
        customer=customer,
        file=ContentFile(content.encode(), name="big.csv"),
        original_name="big.csv",
        uploaded_by=None,
        enqueue=False,
    )


def test_a_worker_killed_whole_while_reading_is_replaced_and_the_upload_is_read_exactly_once(start_worker, own_redis):
    # given: a worker (with its beat) reading a large upload, progress published mid-read
    rows = 300_000
    customer = CustomerFactory(slug="worker-killed-whole")
    upload = _big_upload(customer, rows)
    worker = start_worker(redis_url=own_redis.url, beat=True, env=FAST)
    _send(upload, None, own_redis.url)
    under_way = _wait_for(
        lambda: (
            Upload.objects.filter(Q(status="reading", rows_done__gt=0) | ~Q(status="reading"), pk=upload.pk)
            .exclude(status="queued")
            .first()
        ),
        timeout=120,
        what="the read to be under way",
    )
    assert under_way.status == Upload.Status.READING, under_way.error

    # when: SIGKILL to the whole worker: master, pool child and beat
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    killed_at = time.monotonic()
    _wait_for(lambda: not _group_alive(worker.pid), timeout=10, what="the worker's processes to die")
    stranded = Upload.objects.get(pk=upload.pk)

    # then: it was stopped mid-read, nothing of it committed, and its claim is left behind
    assert stranded.status == Upload.Status.READING
    assert 0 < stranded.rows_done < rows
    assert stranded.claimed_by and stranded.claims == 1
    assert not Upload.objects.get(pk=upload.pk).entries.exists()

    # when: a new worker comes up (its message is stranded in the dead worker's unacked set for hours)
    start_worker(redis_url=own_redis.url, beat=True, env=FAST)

    # then: the sweep finds the silent claim, a new reader takes it over and reads the file once
    retaken = _wait_for(
        lambda: Upload.objects.filter(pk=upload.pk, claims__gte=2).first(), timeout=120, what="a new reader"
    )
    rerun_after = time.monotonic() - killed_at
    done = _wait_for(
        lambda: Upload.objects.filter(pk=upload.pk, status__in=["done", "failed"]).first(),
        timeout=300,
        what="the upload to finish",
    )
    finished_after = time.monotonic() - killed_at
    assert done.status == Upload.Status.DONE, done.error
    assert retaken.claims == done.claims == 2
    assert (done.values_read, done.accepted, done.duplicate, done.rejected) == (rows + 1, rows, 0, 1)
    assert done.entries.count() == rows
    assert done.rejected_rows.count() == 1
    assert done.claimed_by == ""
    print(f"\nkilled reader re-run after {rerun_after:.1f} s, upload done {finished_after:.1f} s after the kill")


def test_an_upload_made_while_the_broker_is_down_is_processed_once_it_is_back(start_worker, own_redis, settings):
    # given: a worker with its beat, and a customer portal user; then Redis goes down
    from django.test import Client

    from tests.campaigns.factories import UserFactory

    settings.SUPPRESSIONS_SYNC_READ_MAX_BYTES = 10  # a file for the worker
    customer = CustomerFactory(slug="broker-down")
    numbers = _leads_with_numbers(customer, 2)
    client = Client()
    client.force_login(UserFactory(username="bea", customer=customer, is_staff=False))
    start_worker(redis_url=own_redis.url, beat=True, env=FAST)
    eager, url = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager, app.conf.broker_url = False, own_redis.url
    try:
        own_redis.stop()

        # when: the customer uploads
        response = portal_upload(
            client,
            {"file": ContentFile(csv_bytes([["phone"], *[[n] for n in numbers]]), name="dnc.csv")},
            follow=True,
        )
    finally:
        app.conf.task_always_eager, app.conf.broker_url = eager, url

    # then: received and queued, not an error; its task waits in the outbox
    upload = Upload.objects.get(customer=customer)
    assert response.status_code == 200
    assert "was received and is queued" in " ".join(response.content.decode().split())
    from leadops.outbox.models import Message

    assert Message.objects.get(task="suppressions.tasks.upload_process", args=[upload.pk]).sent_at is None
    time.sleep(3)
    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.QUEUED

    # when: Redis is back
    own_redis.start()
    back_at = time.monotonic()

    # then: the outbox sweep publishes it and the worker processes it
    done = _wait_for(
        lambda: Upload.objects.filter(pk=upload.pk, status__in=["done", "failed"]).first(),
        timeout=180,
        what="the upload after the broker came back",
    )
    assert done.status == Upload.Status.DONE, done.error
    assert done.accepted == 2
    assert set(customer_leads_statuses(customer)) == {LeadStatus.DISQUALIFIED}
    print(f"\nupload done {time.monotonic() - back_at:.1f} s after the broker came back")

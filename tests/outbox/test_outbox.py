"""Every task handed to a worker on commit goes through the outbox: a broker that is down fails nothing.

The broker is a Redis of the test's own, started, stopped and restarted (the shared one is never stopped).
With Redis down, the request succeeds, the task waits as an unsent row (the failure logged with its
traceback); once Redis is back, the outbox sweep (beat, every minute) publishes it.
"""

import base64
import json
import logging
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leadops.celery import app
from leadops.outbox.models import Message
from leadops.outbox.services import enqueue_each_on_commit, enqueue_on_commit, messages_send
from suppressions.models import Upload
from tests.campaigns.factories import CampaignFactory, CustomerFactory, UserFactory
from tests.portal.uploading import portal_upload
from tests.redis_server import serve
from tests.suppressions.factories import csv_bytes

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of the test's own, to stop and restart (never the shared one)."""
    yield from serve(tmp_path)


@pytest.fixture
def broker(own_redis):
    """Publish (not run in-process) to the test's own Redis."""
    eager, url = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager = False
    app.conf.broker_url = own_redis.url
    yield own_redis
    app.conf.task_always_eager, app.conf.broker_url = eager, url


def _published(redis) -> list[tuple[str, list]]:
    """Return (task, args) of every message waiting on any of the project's queues (each task is routed to
    its kind of work's queue: ``settings.LEADOPS_QUEUES``)."""
    client = redis.client()
    messages = [json.loads(raw) for queue in settings.LEADOPS_QUEUES for raw in client.lrange(queue, 0, -1)]
    return sorted((m["headers"]["task"], json.loads(base64.b64decode(m["body"]))[0]) for m in messages)


def _upload(customer):
    from suppressions.services import upload_create

    content = csv_bytes([["phone"], ["2025550143"]])
    upload = upload_create(
        customer=customer, file=ContentFile(content, name="dnc.csv"), original_name="dnc.csv", uploaded_by=None
    )
    return "suppressions.tasks.upload_process", [upload.pk]


def _lead_import(customer):
    import io

    from campaigns.imports.services import lead_import_create

    campaign = CampaignFactory(customer=customer)
    lead_import = lead_import_create(
        campaign=campaign, stream=io.BytesIO(b"email\r\npat@acme.com\r\n"), filename="leads.csv", actor=None
    )
    return "imports.process", [lead_import.pk]


def _crm_events(customer):
    from suppressions.crm.services.events import crm_events_receive, validate_events
    from tests.crm.factories import CrmConnectionFactory

    connection = CrmConnectionFactory(customer=customer)
    events = validate_events([{"id": "e-1", "action": "upsert", "object_type": "company", "external_id": "42"}])
    crm_events_receive(connection=connection, events=events)
    return "crm.process_connection", [connection.pk]


def _fit_rules(customer):
    from campaigns.imports.services.fit import fit_rules_changed

    campaign = CampaignFactory(customer=customer)
    fit_rules_changed(campaign=campaign)
    return "imports.fit_reevaluate", [campaign.pk]


def _crm_rule(customer):
    from suppressions.crm.services.rules import crm_rule_changed
    from tests.crm.factories import CrmRuleFactory

    rule = CrmRuleFactory(customer=customer)
    crm_rule_changed(rule=rule)
    return "crm.evaluate_customer", [customer.pk]


@pytest.mark.parametrize("enqueue", [_upload, _lead_import, _crm_events, _fit_rules, _crm_rule])
def test_every_on_commit_enqueue_outlives_a_broker_that_is_down_and_is_sent_when_it_is_back(
    broker, enqueue, caplog, django_capture_on_commit_callbacks
):
    # given: the broker is down
    customer = CustomerFactory()
    broker.stop()

    # when: the work commits and its on-commit publish fails
    with (
        caplog.at_level(logging.ERROR, logger="leadops.outbox.services"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        task, args = enqueue(customer)

    # then: nothing failed; the task waits, unsent, and the failure is logged with its traceback
    [message] = Message.objects.filter(task=task)
    assert (message.args, message.sent_at, message.attempts) == (args, None, 1)
    assert "Connection refused" in message.last_error or "Error" in message.last_error
    [record] = [r for r in caplog.records if r.name == "leadops.outbox.services"]
    assert record.exc_info is not None
    assert task in record.getMessage()

    # when: the broker is back and the outbox sweep runs (beat, every minute)
    broker.start()
    sent = messages_send()

    # then: published once, and marked sent
    assert sent == 1
    assert _published(broker) == [(task, args)]
    message.refresh_from_db()
    assert message.sent_at is not None
    assert messages_send() == 0
    assert _published(broker) == [(task, args)]


def test_a_portal_upload_while_the_broker_is_down_is_received_and_queued_not_a_500(
    broker, client, settings, django_capture_on_commit_callbacks
):
    # given: a file large enough to go to a worker, and the broker down
    settings.SUPPRESSIONS_SYNC_READ_MAX_BYTES = 10
    customer = CustomerFactory(name="Northwind", slug="northwind")
    client.force_login(UserFactory(username="nina", customer=customer, is_staff=False))
    broker.stop()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = portal_upload(
            client,
            {"file": SimpleUploadedFile("dnc.csv", csv_bytes([["phone"], ["2025550143"]]), content_type="text/csv")},
            follow=True,
        )

    # then: the page says it was received and is queued; its task waits in the outbox
    upload = Upload.objects.get(customer=customer)
    assert response.status_code == 200
    assert response.redirect_chain == [(reverse("portal:upload", args=[upload.pk]), 302)]
    text = re.sub(r"\s+", " ", response.content.decode())
    assert "was received and is queued" in text
    assert upload.status == Upload.Status.QUEUED
    assert Message.objects.get(task="suppressions.tasks.upload_process").sent_at is None

    # when the broker is back, the sweep publishes it
    broker.start()
    assert messages_send() == 1
    assert _published(broker) == [("suppressions.tasks.upload_process", [upload.pk])]


def test_eager_tasks_still_run_in_process_at_commit_and_write_no_row(django_capture_on_commit_callbacks, settings):
    # given: the embedded mode (tasks in-process)
    assert app.conf.task_always_eager
    customer = CustomerFactory()
    ran = []

    @app.task(name="tests.outbox.record")
    def record(value):
        ran.append(value)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(record, customer.pk)
        assert ran == []  # not before the commit

    # then
    assert ran == [customer.pk]
    assert not Message.objects.exists()


def test_several_tasks_are_written_in_one_statement_and_published_on_commit(
    broker, django_capture_on_commit_callbacks, django_assert_num_queries
):
    # given
    from suppressions.crm.tasks import crm_customer_evaluate

    customers = [CustomerFactory() for _ in range(3)]
    # when
    with django_capture_on_commit_callbacks(execute=True), django_assert_num_queries(1):
        enqueue_each_on_commit(crm_customer_evaluate, [(c.pk,) for c in customers])
    # then: one INSERT for the three messages; the publish after the commit sent them all
    assert _published(broker) == sorted(("crm.evaluate_customer", [c.pk]) for c in customers)
    assert not Message.objects.filter(sent_at__isnull=True).exists()


def test_several_eager_tasks_each_run_at_commit(django_capture_on_commit_callbacks):
    # given: the embedded mode (tasks in-process)
    assert app.conf.task_always_eager
    ran = []

    @app.task(name="tests.outbox.record_each")
    def record(value):
        ran.append(value)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_each_on_commit(record, [(1,), (2,)])
        assert ran == []  # not before the commit

    # then
    assert ran == [1, 2]
    assert not Message.objects.exists()


def test_no_code_hands_a_task_to_the_broker_on_commit_but_through_the_outbox():
    # given: every module of the application (tests and migrations aside)
    sources = [
        path
        for package in ("campaigns", "suppressions", "leadops")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts and path != ROOT / "leadops" / "outbox" / "services.py"
    ]

    # when
    offending = [str(path.relative_to(ROOT)) for path in sources if re.search(r"(?<!\w)on_commit\(", path.read_text())]

    # then
    assert offending == []

"""Heavy work is routed to queues of its own, and the per-customer locks are the ones every writer takes."""

import threading

import pytest
from django.db import connection, transaction

from campaigns.imports.services import locks as import_locks
from leadops import locks
from leadops.celery import app

ROUTES = {
    "suppressions.tasks.upload_process": "uploads",
    "suppressions.tasks.upload_match": "matching",
    "suppressions.tasks.customer_rematch": "matching",
    "suppressions.tasks.rematch_all": "matching",
    "imports.process": "imports",
    "imports.fit_reevaluate": "imports",
    "crm.process_connection": "crm",
    "crm.evaluate_customer": "crm",
    "crm.sweep_pending": "crm",
    "suppressions.tasks.uploads_sweep": "celery",
    "outbox.send_pending": "celery",
    "campaigns.tasks.leads_wake_waiting": "celery",
}


@pytest.mark.parametrize(("task", "queue"), ROUTES.items())
def test_each_task_goes_to_its_queue(task, queue):
    # given: every app's tasks, as a worker loads them
    app.loader.import_default_modules()
    assert task in app.tasks

    # when
    route = app.amqp.router.route({}, task)

    # then
    assert route["queue"].name == queue


def test_a_worker_started_without_queues_consumes_every_queue():
    # (the configured queues: a test may add one of its own to the app's live list)
    assert {queue.name for queue in app.conf.task_queues} == {"celery", "uploads", "matching", "imports", "crm"}


def test_matching_takes_the_lock_lead_import_merges_under():
    assert import_locks._MERGE_LOCK_CLASS == locks.CUSTOMER_PEOPLE


@pytest.mark.postgres("advisory locks between two connections")
@pytest.mark.django_db(transaction=True)
def test_a_matching_batch_waits_for_an_import_batch_of_its_customer_and_not_of_another():
    from suppressions.services.matching import customer_rematch
    from tests.campaigns.factories import CustomerFactory

    acme, globex = CustomerFactory(), CustomerFactory()
    holding, release = threading.Event(), threading.Event()

    def import_batch():  # a lead import's batch of Acme, between its merge and its commit
        try:
            with transaction.atomic():
                import_locks.customer_merge_lock(customer_id=acme.pk, lead_import_id=0)
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=import_batch)
    thread.start()
    holding.wait(10)
    try:
        # Globex's matching does not wait; Acme's waits until the import batch commits.
        with transaction.atomic():
            assert locks.customer_lock(locks.CUSTOMER_PEOPLE, globex.pk, wait=False)
        with transaction.atomic():
            assert not locks.customer_lock(locks.CUSTOMER_PEOPLE, acme.pk, wait=False)
        from suppressions.models import Entry

        Entry.objects.create(customer=acme, kind=Entry.Kind.PHONE, value="+12025550143")
        done = threading.Event()

        def rematch():
            try:
                customer_rematch(customer=acme)
                done.set()
            finally:
                connection.close()

        matcher = threading.Thread(target=rematch)
        matcher.start()
        assert not done.wait(0.5)
        release.set()
        assert done.wait(10)
        matcher.join()
    finally:
        release.set()
        thread.join()

"""Enqueue a Celery task with the transaction that asks for it, and publish it once that commits.

``enqueue_on_commit(task, *args)`` is the one way the code base hands work to a worker after a commit:

* real mode: a ``Message`` row is written in the caller's transaction (so the work and the promise to do
  it commit together, or neither does), published on commit and marked sent. A broker that is down fails
  the publish, not the request: the failure is logged with its traceback and the row stays unsent until
  the ``outbox.send_pending`` beat job (every minute) publishes it.
* eager tasks (the embedded mode, no broker): nothing is written; the task runs in-process at commit,
  exactly as ``transaction.on_commit(lambda: task.delay(*args))`` did.

Every task sent this way is idempotent, so a message published twice (a sweep racing a slow commit on a
database without row locks) does no harm.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.db.models import F, Subquery
from django.utils import timezone

from leadops.outbox.models import Message

logger = logging.getLogger(__name__)

# Messages published per transaction of the sweep; each holds its rows' locks while it publishes them.
BATCH = 500
# Sent messages are kept this long (what was sent, when), then deleted by the sweep.
KEEP_SENT = timedelta(days=2)


def _app():
    from leadops.celery import app

    return app


def enqueue_on_commit(task, *args) -> None:
    """Run ``task(*args)`` in a worker once the current transaction commits (at once outside one).

    ``args`` must be JSON values (ids, as every task here takes). The task must be idempotent.
    """
    if _app().conf.task_always_eager:
        transaction.on_commit(lambda: task.delay(*args))
        return
    message_id = Message.objects.create(task=task.name, args=list(args)).pk
    transaction.on_commit(lambda: messages_send(ids=[message_id]))


def enqueue_each_on_commit(task, args_list: Iterable[Sequence]) -> None:
    """``enqueue_on_commit`` for each argument list of ``args_list``, with one INSERT for all their messages
    (and one publish after the commit), however many there are."""
    args_list = [list(args) for args in args_list]
    if not args_list:
        return
    if _app().conf.task_always_eager:
        for args in args_list:
            transaction.on_commit(partial(task.delay, *args))
        return
    ids = [message.pk for message in Message.objects.bulk_create(Message(task=task.name, args=a) for a in args_list)]
    transaction.on_commit(lambda: messages_send(ids=ids))


def messages_send(*, ids: list[int] | None = None, now=None) -> int:
    """Publish the unsent messages (only ``ids`` when given) and mark them sent; return how many were sent.

    Each batch is locked (``SKIP LOCKED``: a sweep and an on-commit send never publish the same row
    twice), published on one broker connection and marked sent in one transaction. A publish that fails
    stops the run: the failure is logged with its traceback and counted on the message, which stays unsent
    for the next sweep; the messages published before it are marked sent.
    """
    app = _app()
    sent = 0
    while True:
        with transaction.atomic():
            unsent = Message.objects.select_for_update(skip_locked=True).filter(sent_at__isnull=True)
            if ids is not None:
                unsent = unsent.filter(pk__in=ids)
            batch = list(unsent.order_by("pk")[:BATCH])
            if not batch:
                break
            published: list[int] = []
            failure: Exception | None = None
            try:
                with app.connection_for_write() as broker:
                    for message in batch:
                        app.tasks[message.task].apply_async(args=message.args, connection=broker)
                        published.append(message.pk)
            except Exception as exc:  # the broker is down (or refused it): the row waits for the next sweep
                failure = exc
                failed = batch[len(published)]
                logger.exception(
                    "Could not publish %s%s (outbox message %s); it stays unsent and the outbox sweep retries it",
                    failed.task,
                    tuple(failed.args),
                    failed.pk,
                )
                Message.objects.filter(pk=failed.pk).update(
                    attempts=F("attempts") + 1, last_error=f"{exc.__class__.__name__}: {exc}"[:2000]
                )
            if published:
                Message.objects.filter(pk__in=published).update(sent_at=now or timezone.now())
            sent += len(published)
        if failure is not None or ids is not None or len(batch) < BATCH:
            break
    if ids is None:
        _forget_sent(now=now or timezone.now())
    return sent


def _forget_sent(*, now) -> None:
    """Delete the sent messages older than ``KEEP_SENT``: ids grow with time, so "older" is an id range,
    found by walking the primary key from the oldest row to the first recent one."""
    first_recent = Message.objects.filter(created_at__gte=now - KEEP_SENT).order_by("pk").values("pk")[:1]
    Message.objects.filter(pk__lt=Subquery(first_recent), sent_at__isnull=False).delete()


def messages_unsent() -> int:
    """Return how many messages wait to be published (the admin's and the tests' view of the backlog)."""
    return Message.objects.filter(sent_at__isnull=True).count()

"""The locks of lead import, in one place: one runner per import, and one merge at a time per customer.

**One runner per import.** ``import_run_claim`` takes, without waiting, a lock on the import for the
whole run. A second runner (the worker's task while ``manage.py import_leads`` runs the same import, a
task the broker delivers twice) finds it taken and leaves the import to the first. On PostgreSQL it is a
session-level advisory lock: it belongs to the runner's connection, so a runner that is killed frees it
when its connection closes, and the next run resumes the import. On SQLite (the embedded default: tasks run
in the server's threads) a registry in the process does the same, and dies with the process.

**One merge at a time per customer.** ``customer_merge_lock`` is the first statement of each batch's
transaction. On PostgreSQL it is a transaction-level advisory lock on the customer: a concurrent import of
the same customer waits for the batch to commit, then its own reads see what the batch created, so the same
email arriving in two files at once makes one contact and the same website one account. On SQLite it is a
write: SQLite then holds its single write lock until the batch commits (as ``BEGIN IMMEDIATE`` would), so
no other writer, thread or process, commits between the merge's reads and its inserts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import DatabaseError, connection

from leadops.locks import CUSTOMER_PEOPLE

logger = logging.getLogger(__name__)

# Advisory lock classes (the first key of pg_advisory_lock(int, int)); suppression uploads use 7301.
_RUN_LOCK_CLASS = 7311
# A batch merges under the lock suppression matching takes too (``leadops.locks``): one customer's people.
_MERGE_LOCK_CLASS = CUSTOMER_PEOPLE

_running: set[int] = set()
_running_guard = threading.Lock()


@contextmanager
def import_run_claim(lead_import_id: int) -> Iterator[bool]:
    """Yield whether this runner holds the run of the import (False: another runner has it); never wait."""
    if connection.vendor != "postgresql":
        with _running_guard:
            held = lead_import_id not in _running
            _running.add(lead_import_id)
        try:
            yield held
        finally:
            if held:
                with _running_guard:
                    _running.discard(lead_import_id)
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_RUN_LOCK_CLASS, lead_import_id])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_RUN_LOCK_CLASS, lead_import_id])
            except DatabaseError:
                # The connection is gone, and its session lock with it: nothing is left to free.
                logger.warning("Could not release the run lock of lead import #%s", lead_import_id, exc_info=True)


def customer_merge_lock(*, customer_id: int, lead_import_id: int, then: Sequence[str] = ()) -> None:
    """Serialise this transaction's merge with every other merge into ``customer_id``'s accounts and contacts.

    Call it first in the batch's transaction; the lock is held until the transaction ends. ``then`` are
    statements without parameters (``SET LOCAL …``) sent in the same round trip after the lock, on
    PostgreSQL; the embedded SQLite has none to run.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("; ".join(["SELECT pg_advisory_xact_lock(%s, %s)", *then]), [_MERGE_LOCK_CLASS, customer_id])
        else:
            # Any write takes SQLite's one write lock (waiting up to the connection's busy timeout).
            cursor.execute("UPDATE imports_leadimport SET rows_done = rows_done WHERE id = %s", [lead_import_id])

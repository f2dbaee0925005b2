"""The per-customer locks that let several workers (and hosts) write one database without stepping on each other.

Each is a PostgreSQL advisory lock keyed ``(class, customer id)``, so work of different customers never waits
on it, and two writers of one customer take turns. Transaction-level: held until the caller's transaction
ends, freed with it (a killed worker's connection closing frees it too).

* ``CUSTOMER_UPLOADS`` (7301): one suppression upload of a customer is read at a time
  (``suppressions.services.pipeline``).
* ``CUSTOMER_PEOPLE`` (7312): a customer's contacts and accounts and the blocks matching makes on them. A
  lead import's batch takes it first (``campaigns.imports.services.locks.customer_merge_lock``, its
  ``_MERGE_LOCK_CLASS``), and so does every matching batch (``suppressions.services.matching``). So a
  matching batch never runs while an import batch of the same customer is between its merge and its
  commit: the batch either sees the import's contacts (it waited for their commit) or the import's own
  ``contacts_match`` sees the entries (committed before the matching began) — a contact is never left
  unmatched by both. Two matchers of one customer (an upload's match, a rematch) take turns batch by batch.

On the embedded SQLite, a single writer at a time is SQLite's own rule: these are no-ops there.
"""

from __future__ import annotations

from django.db import connection

CUSTOMER_UPLOADS = 7301
CUSTOMER_PEOPLE = 7312


def customer_lock(lock_class: int, customer_id: int, *, wait: bool = True) -> bool:
    """Take the transaction-level lock ``(lock_class, customer_id)``; return whether it is held (always, when
    waiting). Call it inside a transaction."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
        cursor.execute(f"SELECT {function}(%s, %s)", [lock_class, customer_id])
        return wait or bool(cursor.fetchone()[0])

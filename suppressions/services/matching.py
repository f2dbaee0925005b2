"""Turn active suppression entries into blocks on the contacts and accounts they match, set-based.

Each statement is one ``INSERT … SELECT`` of Block rows guarded by ``NOT EXISTS`` over every block (active
*or lifted*) with the same target, source and evidence entry. So:

* running it twice inserts nothing the second time;
* a worker killed half-way leaves whole committed batches behind, and the re-run fills in the rest;
* a block that ops lifted by hand is never re-created for the same entry.

The partial unique index on active blocks is the backstop (``ON CONFLICT DO NOTHING``) for two matchers
racing on the same entries. Work is split into batches of entry ids; each batch inserts its blocks and
recomputes the statuses of the leads they reach in one short transaction, so a full rematch of millions
of entries never holds an hour-long transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import Block, Customer
from campaigns.services import lead_statuses_blocks_added
from leadops.db import id_list, in_ids
from leadops.locks import CUSTOMER_PEOPLE, customer_lock
from suppressions.models import Entry, Upload
from suppressions.rules import OWNERS, WAYS, match_from_sql

logger = logging.getLogger(__name__)

MATCH_JOB = "suppressions.match"
DEFAULT_BATCH_SIZE = 200_000
_ANALYZE_AFTER = 5_000


def _batch_size(batch_size: int | None) -> int:
    return batch_size or getattr(settings, "SUPPRESSIONS_MATCH_BATCH_SIZE", DEFAULT_BATCH_SIZE)


_BLOCK_COLUMNS = (
    "target, lead_id, contact_id, account_id, phone_id, source, reason, reach, customer_id, campaign_id, "
    "actor_id, actor_job, created_at, evidence_type_id, evidence_id, evidence_text, note, "
    "lifted_at, lifted_by_id, lifted_by_job, lift_reason"
)


def _evidence_text_sql() -> str:
    # "upload crm-export.csv, line 12: +12025550143", or "entry #7: acme.com" for an entry typed in by hand.
    return (
        "CASE WHEN u.id IS NULL THEN 'entry #' || CAST(e.id AS TEXT) || ': ' || e.value "
        "ELSE 'upload ' || u.original_name || ', line ' || CAST(e.line AS TEXT) || ': ' || e.value END"
    )


_NO_ID = "CAST(NULL AS BIGINT)"


def _select_block(target: str, *, contact: str, account: str) -> str:
    return (
        f"SELECT '{target}' AS target, {_NO_ID} AS lead_id, {contact} AS contact_id, {account} AS account_id, "
        f"{_NO_ID} AS phone_id, %(source)s AS source, %(reason)s AS reason, %(reach)s AS reach, "
        f"e.customer_id, {_NO_ID} AS campaign_id, {_NO_ID} AS actor_id, %(job)s AS actor_job, "
        f"%(now)s AS created_at, %(ct)s AS evidence_type_id, e.id AS evidence_id, "
        f"{_evidence_text_sql()} AS evidence_text, '' AS note, CAST(NULL AS TIMESTAMP WITH TIME ZONE) AS lifted_at, "
        f"{_NO_ID} AS lifted_by_id, '' AS lifted_by_job, '' AS lift_reason"
    )


def _statements(*, entries_where: str, contacts_where: str, accounts_where: str) -> dict[str, list[str]]:
    """Return the SELECTs of missing blocks per entry kind, one per way of matching (``suppressions.rules.WAYS``):
    phone, email, and for domains two (contacts' email domains, accounts' websites)."""
    owners_where = {Block.Target.CONTACT: contacts_where, Block.Target.ACCOUNT: accounts_where}
    statements: dict[str, list[str]] = {}
    # Each statement is the SELECT of the blocks to add; ``_run_batch`` stages it, then inserts it.
    for way in WAYS:
        owner = f"{OWNERS[way.target][1]}.id"
        select = _select_block(
            way.target,
            contact=owner if way.target == Block.Target.CONTACT else _NO_ID,
            account=owner if way.target == Block.Target.ACCOUNT else _NO_ID,
        )
        tail = match_from_sql(way, entries_where=entries_where, owners_where=owners_where[way.target])
        statements.setdefault(way.kind, []).append(select + tail)
    return statements


@dataclass(frozen=True)
class MatchResult:
    blocks_created: int = 0
    leads_changed: int = 0
    batches: int = 0

    def __add__(self, other: MatchResult) -> MatchResult:
        return MatchResult(
            self.blocks_created + other.blocks_created,
            self.leads_changed + other.leads_changed,
            self.batches + other.batches,
        )


# The columns of the blocks a batch added that the status recompute reads (``lead_statuses_blocks_added``).
# What the status recompute reads of each new block (``campaigns.rules.leads_stopped_sql``): its target,
# reach and whether it is in force (``lifted_at``, ``ends_at``).
_ADDED_COLUMNS = (
    "target, lead_id, contact_id, account_id, phone_id, reach, customer_id, campaign_id, lifted_at, ends_at"
)


def _run_batch(*, customer_id: int, statements: list[str], params: dict[str, object]) -> MatchResult:
    """Insert one batch's blocks and recompute the leads they reach, in one transaction."""
    now = timezone.now()
    params = {
        **params,
        "customer": customer_id,
        # As the ORM writes it: the embedded SQLite keeps a timestamp in the text form of whoever wrote it.
        "now": connection.ops.adapt_datetimefield_value(now),
        "ct": ContentType.objects.get_for_model(Entry).pk,
        "source": Block.Source.SUPPRESSION,
        "reason": Block.Reason.SUPPRESSED,
        "reach": Block.Reach.CUSTOMER,
        "job": MATCH_JOB,
    }
    created = changed = 0
    postgresql = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        # Turn by turn with the customer's lead import batches and other matchers (``leadops.locks``).
        customer_lock(CUSTOMER_PEOPLE, customer_id)
        # The blocks this batch inserts, as the INSERT returned them (not "the blocks stamped now", which the
        # embedded SQLite, keeping each timestamp in its writer's text form, silently missed).
        cursor.execute(
            "CREATE TEMPORARY TABLE suppressions_added (target varchar(14), lead_id bigint, contact_id bigint, "
            "account_id bigint, phone_id bigint, reach varchar(8), customer_id bigint, campaign_id bigint, "
            "lifted_at timestamp with time zone, ends_at timestamp with time zone)"
        )
        for sql in statements:
            started = time.perf_counter()
            # Select the missing blocks first, then insert them: in one INSERT … SELECT the NOT EXISTS
            # reads the very table being filled, and with an empty or small block table the planner scans
            # it once per candidate row — quadratic (20 s instead of 2 s for 45,000 blocks).
            cursor.execute(f"CREATE TEMPORARY TABLE suppressions_match AS {sql}", params)
            insert = (
                f"INSERT INTO campaigns_block ({_BLOCK_COLUMNS}) SELECT {_BLOCK_COLUMNS} FROM suppressions_match "
                f"WHERE suppressions_match.customer_id = %(customer)s ON CONFLICT DO NOTHING RETURNING {_ADDED_COLUMNS}"
            )
            if postgresql:
                # Kept in the database: a data-modifying WITH hands the inserted rows straight on.
                cursor.execute(f"WITH added AS ({insert}) INSERT INTO suppressions_added SELECT * FROM added", params)
                inserted = cursor.rowcount
            else:
                cursor.execute(insert, params)
                rows = cursor.fetchall()
                cursor.executemany(
                    f"INSERT INTO suppressions_added ({_ADDED_COLUMNS}) VALUES ({', '.join(['%s'] * 10)})", rows
                )
                inserted = len(rows)
            cursor.execute("DROP TABLE suppressions_match")
            created += inserted
            logger.debug("match statement: %s blocks in %.3fs", inserted, time.perf_counter() - started)
        started = time.perf_counter()
        if created >= _ANALYZE_AFTER and postgresql:
            # Right after a big insert into a small or emptied block table the planner still thinks it is
            # nearly empty, and the next batch's look-ups of existing blocks (and the dial check's) plan for
            # that. When this batch grew the table by more than a fifth of what the statistics say, refresh
            # them; ANALYZE inside the transaction counts our own new rows.
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'campaigns_block'::regclass")
            if created > 0.2 * max(cursor.fetchone()[0], 0):
                cursor.execute("ANALYZE campaigns_block")
        if created:
            if postgresql:
                cursor.execute("ANALYZE suppressions_added")
            # Every block here reaches the customer's leads only (its reach is the customer).
            changed = lead_statuses_blocks_added(blocks="suppressions_added", customer_id=customer_id, now=now)
        cursor.execute("DROP TABLE suppressions_added")
        logger.debug("match recompute: %s leads changed in %.3fs", changed, time.perf_counter() - started)
    return MatchResult(blocks_created=created, leads_changed=changed, batches=1)


def _entry_batches(entries, batch_size: int) -> Iterator[tuple[int, int]]:
    """Yield inclusive ``(first id, last id)`` ranges of ``entries``, each about ``batch_size`` long."""
    last = 0
    while True:
        ids = list(entries.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[batch_size - 1 : batch_size])
        if ids:
            yield last + 1, ids[0]
            last = ids[0]
            continue
        if entries.filter(pk__gt=last).exists():
            yield last + 1, entries.filter(pk__gt=last).order_by("-pk").values_list("pk", flat=True)[0]
        return


def _match_entries(*, customer_id: int, entries, entries_where: str, params: dict, batch_size: int) -> MatchResult:
    statements = _statements(
        entries_where=f"{entries_where} AND e.id BETWEEN %(lo)s AND %(hi)s",
        contacts_where="TRUE",
        accounts_where="TRUE",
    )
    result = MatchResult()
    # Kind by kind: a batch of domains scans every contact email of the customer whatever its size, so
    # the (few) domain entries must not be spread over every batch of the (many) phone numbers.
    for kind, kind_statements in statements.items():
        for lo, hi in _entry_batches(entries.filter(kind=kind), _batch_size(batch_size)):
            batch_params = {**params, "lo": lo, "hi": hi}
            result += _run_batch(customer_id=customer_id, statements=kind_statements, params=batch_params)
    return result


def upload_match(*, upload: Upload, batch_size: int | None = None) -> MatchResult:
    """Block every contact and account of the upload's customer that its active entries match.

    Idempotent: a repeat call (or a re-run after a killed worker) creates only what is missing, and never
    re-creates a block that was lifted for the same entry.
    """
    return _match_entries(
        customer_id=upload.customer_id,
        entries=Entry.objects.active().filter(upload_id=upload.pk, customer_id=upload.customer_id),
        entries_where="e.upload_id = %(upload)s",
        params={"upload": upload.pk},
        batch_size=batch_size,
    )


def customer_rematch(*, customer: Customer, batch_size: int | None = None) -> MatchResult:
    """Match every active entry of ``customer`` against all its contacts and accounts, batch by batch."""
    return _match_entries(
        customer_id=customer.pk,
        entries=Entry.objects.active().filter(customer_id=customer.pk),
        entries_where="TRUE",
        params={},
        batch_size=batch_size,
    )


def rematch_all(*, batch_size: int | None = None) -> MatchResult:
    """Rematch every customer that has active entries (the nightly safety net)."""
    result = MatchResult()
    customer_ids = Entry.objects.active().order_by().values_list("customer_id", flat=True).distinct()
    for customer in Customer.objects.filter(pk__in=customer_ids).order_by("pk"):
        result += customer_rematch(customer=customer, batch_size=batch_size)
    return result


def contacts_match(*, customer: Customer, contact_ids: Iterable[int]) -> MatchResult:
    """Match new or edited contacts (and their accounts) against the customer's active entries.

    For lead imports: call it in the import's transaction, before the leads can be pulled. Idempotent.
    """
    ids = sorted(set(contact_ids))
    if not ids:
        return MatchResult()
    # One parameter whatever the number of ids (an array on PostgreSQL, JSON text on SQLite): a list bound
    # on SQLite is refused, and under DEBUG even an unused one breaks the statement's logging.
    statements = _statements(
        entries_where="TRUE",
        contacts_where=in_ids("c.id", "%(ids)s"),
        accounts_where=f"a.id IN (SELECT account_id FROM campaigns_contact WHERE {in_ids('id', '%(ids)s')})",
    )
    every_kind = [sql for kind_statements in statements.values() for sql in kind_statements]
    return _run_batch(customer_id=customer.pk, statements=every_kind, params={"ids": id_list(ids)})

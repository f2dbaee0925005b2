"""Every verdict kept: record each dial-check answer and each number a pull hands out, before it is given.

A verdict is written by one prepared ``INSERT`` in autocommit, after the answer is made and before the
response is sent: if the process dies before the row commits, the dialer got no answer, so nothing it was
told is missing from the record (``docs/compliance.md``). Nothing is buffered in memory. The reasons are
recorded from the answer as it was given, whatever checks made them: each reason's code, and the block and
suppression entry behind it when there is one.

On PostgreSQL the table is partitioned by calendar month (UTC) on ``at``: ``verdict_partitions_ensure``
makes the months ahead (daily, by beat) and ``verdict_partitions_detach`` detaches whole months older
than the retention (``LEADOPS_VERDICT_RETENTION_YEARS``, 5 by default: the Telemarketing Sales Rule's
record-keeping period), leaving each as a table of its own to archive and drop.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import ApiKey, User, Verdict
from campaigns.selectors.explaining import DialCheck, Reason
from leadops.db import prepared_cursor
from leadops.errors import LeadopsError

logger = logging.getLogger(__name__)

_COLUMNS = "at, kind, lead_id, number, api_key_id, caller_id, allowed, reasons"
# One statement text whatever the number of rows (so it is prepared once): the rows travel as one JSON array.
_INSERT_SQL = {
    "postgresql": f"""
INSERT INTO campaigns_verdict ({_COLUMNS})
SELECT CAST(%(at)s AS timestamptz), %(kind)s, r.lead, r.number, CAST(%(key)s AS bigint), CAST(%(caller)s AS bigint),
       r.allowed, r.reasons
FROM jsonb_to_recordset(CAST(%(rows)s AS jsonb)) AS r(lead bigint, number text, allowed boolean, reasons jsonb)
""",
    "sqlite": f"""
INSERT INTO campaigns_verdict ({_COLUMNS})
SELECT %(at)s, %(kind)s, json_extract(r.value, '$.lead'), json_extract(r.value, '$.number'), %(key)s, %(caller)s,
       json_extract(r.value, '$.allowed'), json(json_extract(r.value, '$.reasons'))
FROM json_each(%(rows)s) AS r
""",
}

# A dial check records one row: its values as parameters, its reasons as JSON text ("[]" for most).
_INSERT_ONE_SQL = {
    "postgresql": f"""
INSERT INTO campaigns_verdict ({_COLUMNS})
VALUES (%(at)s, %(kind)s, %(lead)s, %(number)s, %(key)s, NULL, %(allowed)s, CAST(%(reasons)s AS jsonb))
""",
    "sqlite": f"""
INSERT INTO campaigns_verdict ({_COLUMNS})
VALUES (%(at)s, %(kind)s, %(lead)s, %(number)s, %(key)s, NULL, %(allowed)s, json(%(reasons)s))
""",
}
_NO_REASONS = "[]"


def reason_record(reason: Reason) -> dict[str, object]:
    """Return what a verdict keeps of ``reason``: its code, and the block or entry behind it (None if none)."""
    return {"code": reason.code, "block_id": reason.block_id, "entry_id": reason.entry_id}


def _record(
    *, kind: str, rows: list[dict[str, object]], api_key: ApiKey | None, caller: User | None, at: datetime
) -> None:
    if not rows:
        return
    with prepared_cursor() as cursor:
        cursor.execute(
            _INSERT_SQL["postgresql" if connection.vendor == "postgresql" else "sqlite"],
            {
                "at": at if connection.vendor == "postgresql" else connection.ops.adapt_datetimefield_value(at),
                "kind": kind,
                "key": api_key.pk if api_key is not None else None,
                "caller": caller.pk if caller is not None else None,
                "rows": json.dumps(rows),
            },
        )


def verdict_record_dial_check(
    *, lead_id: int, check: DialCheck, api_key: ApiKey | None, at: datetime | None = None
) -> None:
    """Record the dial check's answer ``check`` for ``lead_id``, as given to ``api_key``. One statement.

    Call it before the answer leaves: a verdict is recorded if and only if it may have been given. A repeat
    call records the answer again (each answer given is one verdict).
    """
    at = at or timezone.now()
    postgresql = connection.vendor == "postgresql"
    with prepared_cursor() as cursor:
        cursor.execute(
            _INSERT_ONE_SQL["postgresql" if postgresql else "sqlite"],
            {
                "at": at if postgresql else connection.ops.adapt_datetimefield_value(at),
                "kind": Verdict.Kind.DIAL_CHECK,
                "lead": lead_id,
                "number": check.number,
                "key": api_key.pk if api_key is not None else None,
                "allowed": check.allowed,
                "reasons": json.dumps([reason_record(r) for r in check.reasons]) if check.reasons else _NO_REASONS,
            },
        )


@dataclass(frozen=True)
class HandedOut:
    """One number a pull hands out for a lead, and whether it may be dialled (with its reasons if not)."""

    lead_id: int
    number: str
    reasons: list[Reason]


def verdicts_record_pull(
    *, handed_out: Iterable[HandedOut], api_key: ApiKey | None, caller: User, at: datetime | None = None
) -> None:
    """Record each number a pull hands ``caller`` (through ``api_key``), dialable or not. One statement for
    the whole pull, none when it hands out nothing; call it before the pull's answer leaves."""
    rows = [
        {
            "lead": item.lead_id,
            "number": item.number,
            "allowed": not item.reasons,
            "reasons": [reason_record(r) for r in item.reasons],
        }
        for item in handed_out
    ]
    _record(kind=Verdict.Kind.PULL, rows=rows, api_key=api_key, caller=caller, at=at or timezone.now())


# --- Months, retention ----------------------------------------------------------------------------------


def retention_years() -> int:
    return int(getattr(settings, "LEADOPS_VERDICT_RETENTION_YEARS", 5))


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _partition_name(first: date) -> str:
    return f"campaigns_verdict_y{first.year}m{first.month:02d}"


def verdict_partitions_ensure(*, months_ahead: int = 3, today: date | None = None) -> list[str]:
    """Make the monthly partitions from this month to ``months_ahead`` months on, and return those it made.

    PostgreSQL only (the embedded SQLite keeps one table: returns ``[]``). A repeat call makes nothing. Refuses,
    saying so, a month whose verdicts already went to the default partition (beat did not run for months):
    they stay there, findable, and the month is left without a partition of its own.
    """
    if connection.vendor != "postgresql":
        return []
    today = today or timezone.now().date()
    first = date(today.year, today.month, 1)
    made = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'campaigns_verdict'::regclass"
        )
        existing = {row[0] for row in cursor.fetchall()}
        for _ in range(months_ahead + 1):
            name, following = _partition_name(first), _next_month(first)
            if name not in existing:
                cursor.execute(
                    "SELECT count(*) FROM campaigns_verdict_default WHERE at >= %s AND at < %s",
                    [_utc_midnight(first), _utc_midnight(following)],
                )
                if cursor.fetchone()[0]:
                    raise LeadopsError(
                        f"Verdicts of {first:%B %Y} are in the default partition already: its month cannot be made "
                        "a partition of its own. They are kept there; make the months ahead sooner."
                    )
                cursor.execute(
                    f"CREATE TABLE {name} PARTITION OF campaigns_verdict FOR VALUES FROM (%s) TO (%s)",
                    [_utc_midnight(first), _utc_midnight(following)],
                )
                made.append(name)
            first = following
    return made


def _utc_midnight(day: date) -> str:
    return f"{day.isoformat()}T00:00:00+00:00"


@dataclass(frozen=True)
class MonthPartition:
    name: str
    first_day: date
    rows: int


def verdict_partitions_past_retention(*, today: date | None = None) -> list[MonthPartition]:
    """Return the monthly partitions whose every verdict is older than the retention, oldest first."""
    if connection.vendor != "postgresql":
        return []
    today = today or timezone.now().date()
    try:
        cutoff = today.replace(year=today.year - retention_years())
    except ValueError:  # 29 February
        cutoff = today.replace(year=today.year - retention_years(), day=28)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'campaigns_verdict'::regclass AND c.relname ~ '^campaigns_verdict_y[0-9]{4}m[0-9]{2}$'"
        )
        names = sorted(row[0] for row in cursor.fetchall())
        old = []
        for name in names:
            first = date(int(name[-7:-3]), int(name[-2:]), 1)
            if _next_month(first) <= cutoff:
                cursor.execute(f"SELECT count(*) FROM {name}")
                old.append(MonthPartition(name=name, first_day=first, rows=cursor.fetchone()[0]))
    return old


def verdict_partitions_detach(*, actor: str, today: date | None = None) -> list[MonthPartition]:
    """Detach every monthly partition past the retention and return them: each stays a table of its own
    (``campaigns_verdict_y2021m03``), out of every query, to be archived (``pg_dump -t``) and dropped by
    hand. Nothing is deleted here. A repeat call detaches nothing more. ``actor`` names who asked (logged)."""
    old = verdict_partitions_past_retention(today=today)
    with transaction.atomic(), connection.cursor() as cursor:
        for partition in old:
            cursor.execute(f"ALTER TABLE campaigns_verdict DETACH PARTITION {partition.name}")
            logger.warning("%s detached %s (%s verdicts) from campaigns_verdict", actor, partition.name, partition.rows)
    return old

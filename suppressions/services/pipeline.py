"""Read an upload into the customer's active list: stream → normalise → COPY → one INSERT … ON CONFLICT.

Invariants:

* **All or nothing.** Reading, staging and inserting happen in one transaction; a crash, a bad file or a
  killed worker leaves the active list exactly as it was, and the upload can simply be read again.
* **Every value accounted for.** Each non-empty mapped cell (or a row with none) is one value read, and is
  accepted (a new active entry), a duplicate (already in the file or on the active list) or rejected
  (with line, column, raw value and reason). ``accepted + duplicate + rejected = values_read`` is a
  database constraint on ``Upload``.
* **Bounded memory.** Rows stream from the file into ``COPY`` in chunks; nothing holds the whole file.
  Deduplication is the database's job: the partial unique index on active entries makes it one
  ``INSERT … SELECT … ON CONFLICT DO NOTHING``, whose row count is the number accepted.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from django.contrib.contenttypes.models import ContentType
from django.db import InterfaceError, OperationalError, connection, connections, transaction
from django.utils import timezone

from campaigns.models import Block
from leadops.errors import LeadopsError
from leadops.normalizing import Kind, NormalizationError, ValueNormalizer
from suppressions.models import Entry, Upload
from suppressions.reading import AREA_CODE, AUTO, ColumnPlan, open_table, plan_columns

logger = logging.getLogger(__name__)

_CHUNK_ROWS = 100_000
_SWITCH_INTERVAL = 0.0005
_MAX_VALUE_LENGTH = Entry._meta.get_field("value").max_length
_PROGRESS_EVERY = 50_000
# Serialises the reading of uploads of one customer: two uploads racing on the same values would wait on
# each other's index entries in opposite orders (a deadlock); this makes the second wait its turn.
_CUSTOMER_LOCK_CLASS = 7301

_KINDS: Mapping[str, Kind] = {kind.value: kind for kind in (Kind.PHONE, Kind.EMAIL, Kind.DOMAIN)}


class ReadValue(NamedTuple):
    """One value of an upload after normalisation: ``kind`` and ``value`` when it is valid, else ``reason``."""

    line: int
    column: str
    raw: str
    kind: str
    value: str
    reason: str


def explicit_columns(mapping: Mapping[str, str] | None) -> dict[int | str, str] | None:
    """Return a stored column mapping as ``plan_columns`` takes it: ``"#2"`` is the second column."""
    if not mapping:
        return None
    columns: dict[int | str, str] = {}
    for column, kind in mapping.items():
        if kind in ("", "ignore"):
            continue
        if column.startswith("#") and column[1:].isdigit():
            columns[int(column[1:]) - 1] = kind
        else:
            columns[column] = kind
    return columns or None


def _column_name(plan: ColumnPlan, index: int) -> str:
    if plan.header and index < len(plan.header) and plan.header[index]:
        return plan.header[index]
    return f"#{index + 1}"


def read_values(
    source, *, filename: str, region: str, allow_broad_domains: bool, columns: Mapping[str, str] | None = None
) -> tuple[ColumnPlan, Iterator[ReadValue]]:
    """Return the file's column plan and an iterator over every value in it, normalised or refused.

    The iterator holds one row at a time; each distinct phone writing is parsed once.
    """
    table = open_table(source, filename=filename)
    try:
        plan = plan_columns(table.head(), explicit=explicit_columns(columns))
    except BaseException:
        table.close()
        raise
    # A suppression keeps a possible but unallocated number: blocking it is harmless, dropping it is not.
    normalizer = ValueNormalizer(region=region, allow_broad_domains=allow_broad_domains, allow_unallocated=True)
    return plan, _values(table, plan, normalizer)


def _values(table, plan: ColumnPlan, normalizer: ValueNormalizer) -> Iterator[ReadValue]:
    fields = [(index, field, _column_name(plan, index)) for index, field in plan.fields.items() if field != AREA_CODE]
    pair = plan.area_code_pair
    normalize = normalizer.normalize
    normalize_phone = normalizer.phones.normalize
    phone = Kind.PHONE.value
    with table:
        rows = iter(table)
        if plan.has_header:
            next(rows, None)
        for line, cells in rows:
            width = len(cells)
            found = False
            for index, field, column in fields:
                raw = cells[index] if index < width else ""
                if not raw:
                    continue
                if pair is not None and index == pair[1] and pair[0] < width and cells[pair[0]]:
                    raw = cells[pair[0]] + raw
                found = True
                kind = _KINDS.get(field)
                if kind is None:
                    if field != AUTO:
                        continue
                    kind = _plain_phone_kind(raw)
                try:
                    if kind is Kind.PHONE:
                        # The bulk of every file: straight to the phone normaliser and its cache.
                        yield ReadValue(line, column, raw, phone, normalize_phone(raw), "")
                        continue
                    normalized = normalize(raw, kind=kind)
                except NormalizationError as exc:
                    yield ReadValue(line, column, raw, "", "", exc.message)
                    continue
                if len(normalized.value) > _MAX_VALUE_LENGTH:
                    yield ReadValue(line, column, raw, "", "", f"The value is too long ({_MAX_VALUE_LENGTH} at most).")
                    continue
                yield ReadValue(line, column, raw, normalized.kind.value, normalized.value, "")
            if not found:
                yield ReadValue(line, "", "", "", "", "The row has no value in the columns being read.")


_PHONE_PUNCTUATION = str.maketrans("", "", "-.() /")
_MIN_PHONE_DIGITS = 7


def _plain_phone_kind(raw: str) -> Kind | None:
    """Return ``Kind.PHONE`` for a value that is only digits and phone punctuation, else None (detect it).

    ``detect_kind`` calls exactly these values phone numbers (seven digits or more, an optional leading
    ``+``); answering here skips its regular expressions for the 90 % of a typical file that is numbers.
    """
    digits = (raw[1:] if raw[0] == "+" else raw).translate(_PHONE_PUNCTUATION)
    if len(digits) >= _MIN_PHONE_DIGITS and digits.isascii() and digits.isdigit():
        return Kind.PHONE
    return None


def _copy_text(text: str) -> str:
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


class _Progress:
    """Publish rows read on a second, autocommitting connection: the upload's own transaction is invisible
    to the admin until it commits, and a progress bar stuck at 0 % for a million rows helps nobody."""

    def __init__(self, upload_id: int) -> None:
        self.upload_id = upload_id
        self.connection = connections.create_connection("default") if connection.vendor == "postgresql" else None

    def publish(self, rows_done: int) -> None:
        if self.connection is None:
            return
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE suppressions_upload SET rows_done = %s WHERE id = %s", [rows_done, self.upload_id]
                )
        except Exception:  # progress is a courtesy; never fail an upload over it
            logger.warning("Could not publish the progress of upload %s", self.upload_id, exc_info=True)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def _estimate_rows(upload: Upload) -> int:
    """Return about how many rows the file has (its line breaks), cheaply; 0 for a workbook."""
    if upload.original_name.lower().endswith(".xlsx"):
        return 0
    count = 0
    with upload.file.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            count += chunk.count(b"\n")
    return count


@dataclass
class ReadCounts:
    rows_read: int = 0
    values_read: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0


class _Chunk(NamedTuple):
    text: str
    rows_read: int
    valid: int
    rejected: int


def _chunks(values: Iterator[ReadValue], stop: threading.Event) -> Iterator[_Chunk]:
    """Yield the values as COPY text, ``_CHUNK_ROWS`` at a time, with running counts."""
    rows = valid = rejected = 0
    last_line = 0
    buffer: list[str] = []
    append = buffer.append
    for line, column, raw, kind, value, reason in values:
        if line != last_line:
            last_line = line
            rows += 1
        if reason:
            rejected += 1
            append(f"{line}\t\\N\t\\N\t{_copy_text(column)}\t{_copy_text(raw)}\t{_copy_text(reason)}\n")
        else:
            valid += 1
            append(f"{line}\t{kind}\t{_copy_text(value)}\t\\N\t\\N\t\\N\n")
        if len(buffer) >= _CHUNK_ROWS:
            yield _Chunk("".join(buffer), rows, valid, rejected)
            buffer.clear()
            if stop.is_set():
                return
    yield _Chunk("".join(buffer), rows, valid, rejected)


class _Producer(threading.Thread):
    """Read and normalise the file in a thread while the database inserts the previous chunk.

    Normalising is Python work and inserting is PostgreSQL work; overlapping them makes the upload take
    about as long as the slower of the two instead of their sum. The thread never touches the database.
    """

    def __init__(self, values: Iterator[ReadValue]) -> None:
        super().__init__(name="suppressions-reader", daemon=True)
        self.values = values
        self.queue: queue.Queue[_Chunk | BaseException | None] = queue.Queue(maxsize=2)
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            for chunk in _chunks(self.values, self.stop):
                if not self._put(chunk):
                    return
            self._put(None)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._put(exc)
        finally:
            close = getattr(self.values, "close", None)
            if close is not None:
                close()

    def _put(self, item) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[_Chunk]:
        # The main thread spends its time waiting on PostgreSQL; each time a wait ends it needs the GIL
        # back from the busy reader thread, by default after up to 5 ms. A COPY waits hundreds of times
        # per chunk, so hand the GIL over faster while the two work side by side (about 20 % of the
        # upload's time); the usual interval is restored at the end.
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(_SWITCH_INTERVAL)
        self.start()
        try:
            while (item := self.queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.stop.set()
            self.join(timeout=5)
            sys.setswitchinterval(switch_interval)


def stage_and_insert(
    *,
    upload_id: int,
    customer_id: int,
    values: Iterator[ReadValue],
    on_rows: Callable[[int], None] | None = None,
) -> ReadCounts:
    """Add the valid ``values`` to the customer's active list and record the rejected ones; return counts.

    Runs inside the caller's transaction: each chunk is COPYed into a temporary staging table, inserted
    with ``ON CONFLICT DO NOTHING`` (the rows it inserts are the accepted ones; earlier chunks are visible
    to later ones, so a value repeated anywhere in the file is a duplicate), and the staging table emptied.
    """
    now = timezone.now()
    counts = ReadCounts()
    published = 0
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE suppressions_staging "
            "(line integer, kind text, value text, col text, raw text, reason text)"
        )
        for chunk in _Producer(values):
            rejected_before = counts.rejected
            counts.rows_read, counts.rejected = chunk.rows_read, chunk.rejected
            counts.values_read = chunk.valid + chunk.rejected
            if not chunk.text:
                continue
            _write_staging(cursor, chunk.text)
            # Heap order is COPY order, so the first occurrence of a value in the file is the one kept.
            cursor.execute(
                "INSERT INTO suppressions_entry "
                "(customer_id, kind, value, upload_id, line, created_at, removed_by_job, remove_reason) "
                "SELECT %s, kind, value, %s, line, %s, '', '' FROM suppressions_staging WHERE kind IS NOT NULL "
                "ON CONFLICT (customer_id, kind, value) WHERE removed_at IS NULL DO NOTHING",
                [customer_id, upload_id, now],
            )
            counts.accepted += cursor.rowcount
            if chunk.rejected > rejected_before:
                cursor.execute(
                    'INSERT INTO suppressions_rejectedrow (upload_id, line, "column", raw_value, reason) '
                    "SELECT %s, line, col, raw, reason FROM suppressions_staging WHERE kind IS NULL",
                    [upload_id],
                )
            cursor.execute(
                "TRUNCATE suppressions_staging"
                if connection.vendor == "postgresql"
                else "DELETE FROM suppressions_staging"
            )
            if on_rows is not None and chunk.rows_read - published >= _PROGRESS_EVERY:
                published = chunk.rows_read
                on_rows(published)
        cursor.execute("DROP TABLE suppressions_staging")
    counts.duplicate = counts.values_read - counts.rejected - counts.accepted
    return counts


def _write_staging(cursor, text: str) -> None:
    if connection.vendor == "postgresql":
        with cursor.copy("COPY suppressions_staging (line, kind, value, col, raw, reason) FROM STDIN") as copy:
            copy.write(text)
        return
    # Databases without COPY (the embedded SQLite demo): plain INSERTs.
    rows = [
        [None if field == "\\N" else _copy_unescape(field) for field in line.split("\t")]
        for line in text.split("\n")
        if line
    ]
    cursor.executemany("INSERT INTO suppressions_staging VALUES (%s, %s, %s, %s, %s, %s)", rows)


def _copy_unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return text.replace("\\t", "\t").replace("\\n", "\n").replace("\\r", "\r").replace("\\\\", "\\")


def upload_read(*, upload_id: int) -> Upload:
    """Read the upload's file into its customer's active list, all or nothing, and record the counts.

    Guarded: only a queued upload, or one whose reading was interrupted (its transaction rolled back), is
    read; a repeat call on an upload that was read returns it unchanged. A file that cannot be read
    marks the upload failed with the reason and changes no entry.
    """
    with transaction.atomic():
        upload = Upload.objects.select_for_update().select_related("customer").get(pk=upload_id)
        if upload.status not in (Upload.Status.QUEUED, Upload.Status.READING):
            return upload
        upload.status = Upload.Status.READING
        upload.started_at = timezone.now()
        upload.rows_total = _estimate_rows(upload)
        upload.rows_done = 0
        upload.save(update_fields=["status", "started_at", "rows_total", "rows_done"])

    progress = _Progress(upload_id)
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_CUSTOMER_LOCK_CLASS, upload.customer_id])
            # Re-read under the lock: a duplicate delivery of the same task may have finished meanwhile.
            current = Upload.objects.filter(pk=upload_id).values_list("status", flat=True).get()
            if current != Upload.Status.READING:
                return Upload.objects.get(pk=upload_id)
            _, values = read_values(
                upload.file.path,
                filename=upload.original_name,
                region=upload.customer.phone_region,
                allow_broad_domains=upload.allow_broad_domains,
                columns=upload.column_mapping,
            )
            counts = stage_and_insert(
                upload_id=upload.pk, customer_id=upload.customer_id, values=values, on_rows=progress.publish
            )
            Upload.objects.filter(pk=upload_id).update(
                status=Upload.Status.MATCHING,
                rows_total=counts.rows_read,
                rows_done=counts.rows_read,
                values_read=counts.values_read,
                accepted=counts.accepted,
                duplicate=counts.duplicate,
                rejected=counts.rejected,
                read_at=timezone.now(),
                error="",
            )
    except LeadopsError as exc:
        upload_fail(upload_id=upload_id, error=exc.message)
    except (OperationalError, InterfaceError):
        # The database went away (restart, failover): nothing was committed and the upload stays
        # "reading", so the task's retry (or the sweeper) reads it again from the start.
        raise
    except Exception as exc:
        upload_fail(upload_id=upload_id, error=f"Unexpected error while reading: {exc.__class__.__name__}: {exc}")
        raise
    finally:
        progress.close()
    return Upload.objects.get(pk=upload_id)


def upload_fail(*, upload_id: int, error: str) -> None:
    """Mark the upload failed (its entries were rolled back with its transaction), saying why."""
    Upload.objects.filter(pk=upload_id).update(
        status=Upload.Status.FAILED,
        error=error,
        rows_done=0,
        values_read=0,
        accepted=0,
        duplicate=0,
        rejected=0,
        finished_at=timezone.now(),
    )


def upload_process(*, upload_id: int) -> Upload:
    """Read the upload, then match its new entries; each step is guarded so a re-run resumes where it stopped."""
    from suppressions.services.matching import upload_match

    upload = upload_read(upload_id=upload_id)
    if upload.status != Upload.Status.MATCHING:
        return upload
    upload_match(upload=upload)
    # Counted, not summed per run: a run killed half-way and its re-run must report the same number.
    blocks = Block.objects.filter(
        source=Block.Source.SUPPRESSION,
        evidence_type=ContentType.objects.get_for_model(Entry),
        evidence_id__in=Entry.objects.filter(upload_id=upload_id).values("pk"),
    )
    Upload.objects.filter(pk=upload_id, status=Upload.Status.MATCHING).update(
        status=Upload.Status.DONE, blocks_created=blocks.count(), finished_at=timezone.now()
    )
    return Upload.objects.get(pk=upload_id)

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
import os
import queue
import socket
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import InterfaceError, OperationalError, connection, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from campaigns.models import Block
from leadops.errors import LeadopsError
from leadops.locks import CUSTOMER_UPLOADS, customer_lock
from leadops.normalizing import Kind, NormalizationError, ValueNormalizer
from suppressions.models import Entry, Upload
from suppressions.reading import AREA_CODE, AUTO, ColumnPlan, estimate_rows, explicit_columns, open_table, plan_columns

logger = logging.getLogger(__name__)

_CHUNK_ROWS = 100_000
_MAX_VALUE_LENGTH = Entry._meta.get_field("value").max_length
_PROGRESS_EVERY = 50_000
# The reading of uploads of one customer is serialised (``leadops.locks.CUSTOMER_UPLOADS``): two uploads racing
# on the same values would wait on each other's index entries in opposite orders (a deadlock); the lock makes
# the second wait its turn.

_UNFINISHED = (Upload.Status.QUEUED, Upload.Status.READING, Upload.Status.MATCHING)

_KINDS: Mapping[str, Kind] = {kind.value: kind for kind in (Kind.PHONE, Kind.EMAIL, Kind.DOMAIN)}


class ReadValue(NamedTuple):
    """One value of an upload after normalisation: ``kind`` and ``value`` when it is valid, else ``reason``."""

    line: int
    column: str
    raw: str
    kind: str
    value: str
    reason: str


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
        plan = plan_columns(table.head(), explicit=explicit_columns(columns, skip=("", "ignore")))
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


class _Heartbeat(threading.Thread):
    """Beat for the reader's claim, and publish its progress, on a second, autocommitting connection.

    The upload's own transaction is invisible until it commits, so neither a progress bar nor a sweeper
    could tell a reader at work from a dead one. This thread writes ``heartbeat_at`` every
    ``SUPPRESSIONS_HEARTBEAT_SECONDS`` (and ``rows_done`` as soon as the reader reports it) for as long as
    the process lives: a SIGKILLed worker stops beating, and its claim goes stale. PostgreSQL only: the
    embedded SQLite has one writer at a time, so a second connection would wait for the reader.
    """

    def __init__(self, upload_id: int, token: str) -> None:
        super().__init__(name=f"suppressions-heartbeat-{upload_id}", daemon=True)
        self.upload_id = upload_id
        self.token = token
        self.rows_done: int | None = None
        self.wake = threading.Event()
        self.stopping = False

    @classmethod
    def start_for(cls, upload_id: int, token: str) -> _Heartbeat | None:
        if connection.vendor != "postgresql":
            return None
        heartbeat = cls(upload_id, token)
        heartbeat.start()
        return heartbeat

    def publish(self, rows_done: int) -> None:
        """Report rows read (from the reader's thread); the next beat, at once, writes them."""
        self.rows_done = rows_done
        self.wake.set()

    def stop(self) -> None:
        self.stopping = True
        self.wake.set()
        self.join(timeout=2)  # a beat waiting on a row lock ends by itself; never hold the reader up

    def run(self) -> None:
        beat = connections.create_connection("default")  # this thread's own connection, autocommitting
        try:
            while not self.stopping:
                self._beat(beat)
                self.wake.wait(settings.SUPPRESSIONS_HEARTBEAT_SECONDS)
                self.wake.clear()
        finally:
            beat.close()

    def _beat(self, beat) -> None:
        try:
            with beat.cursor() as cursor:
                # rows_done only while reading: once the read commits (status "matching") its exact count stands.
                cursor.execute(
                    "UPDATE suppressions_upload SET heartbeat_at = %s, rows_done = CASE "
                    "WHEN status = 'reading' AND CAST(%s AS integer) IS NOT NULL THEN %s ELSE rows_done END "
                    "WHERE id = %s AND claimed_by = %s",
                    [timezone.now(), self.rows_done, self.rows_done, self.upload_id, self.token],
                )
        except Exception:  # one missed beat is not a dead reader; many are, and the sweeper acts on that
            logger.warning("Could not write the heartbeat of upload %s", self.upload_id, exc_info=True)


def claim_token() -> str:
    """Return a name for one reader: where it runs (host and process), and a random part no other shares."""
    return f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:16]}"


_HOST = socket.gethostname()[:60]


def upload_claim(*, upload_id: int, token: str, now=None) -> bool:
    """Claim an unfinished upload for the reader ``token``; False when a live reader holds it or it is finished.

    One conditional UPDATE: it takes an unclaimed upload, or one whose claim has not beaten for
    ``SUPPRESSIONS_HEARTBEAT_STALE_SECONDS`` (its reader is dead). Two claims racing for one row are
    serialised by its row lock and the loser's WHERE no longer matches, so only one reader ever runs.
    A claim held by a process of this host that no longer exists (a pool child killed mid-task, whose task
    the broker hands straight back) is taken over at once, without waiting for its heartbeat to go stale.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.SUPPRESSIONS_HEARTBEAT_STALE_SECONDS)
    unfinished = Upload.objects.filter(pk=upload_id, status__in=_UNFINISHED)
    take = {"claimed_by": token, "heartbeat_at": now, "claims": F("claims") + 1}
    if unfinished.filter(Q(claimed_by="") | Q(heartbeat_at__lt=stale)).update(**take):
        return True
    holder = unfinished.values_list("claimed_by", flat=True).first()
    if holder and _process_gone(holder):
        # Compare and swap on the dead holder's token: of two readers taking it over, one wins.
        return bool(unfinished.filter(claimed_by=holder).update(**take))
    return False


def _process_gone(token: str) -> bool:
    """Whether the claim ``token`` names a process of this host that no longer exists."""
    host, _, rest = token.partition(":")
    pid = rest.partition(":")[0]
    if host != _HOST or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, as another user
        return False
    return False


def upload_release(*, upload_id: int, token: str) -> None:
    """Give the claim up (only if ``token`` still holds it); a failure is logged: the claim then goes stale."""
    try:
        Upload.objects.filter(pk=upload_id, claimed_by=token).update(claimed_by="")
    except Exception:
        logger.exception("Could not release the claim on upload %s; it lapses when its heartbeat goes stale", upload_id)


class _ClaimLost(Exception):
    """Another reader took the claim over (this one's heartbeat went stale): its work must not commit."""


class _CustomerBusy(Exception):
    """Another upload of the customer is being read and the caller would rather not wait (the web request)."""


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


class _QuickGilHandover:
    """Hand the GIL between threads every 0.5 ms instead of 5 while at least one upload is being read.

    The main thread spends an upload waiting on PostgreSQL; each time a wait ends it needs the GIL back from
    the busy reader thread (``_Producer``), by default after up to 5 ms, and a COPY waits hundreds of times
    per chunk. It earns its place: ``bench/suppressions.py``'s file of 300,000 rows read in 2.40 s at best
    and 3.87 s at the median with it, 3.13 s and 4.73 s without (ten interleaved pairs, one process, on
    the shared 2-CPU machine while it was quiet; when other work loaded it, the two were alike: 4.57 s
    against 4.40 s, 1,000,000 rows 18.2 s against 17.6 s, medians).

    The interval is the interpreter's, for every thread of the process (a shorter one only makes threads
    take turns more often: nothing else changes), so it is scoped: the first upload
    to start sets it and the last one to end puts back what it was, whatever the order in which uploads
    read in parallel threads end and whether they fail (``tests/suppressions/test_pipeline.py``).
    """

    INTERVAL = 0.0005

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._readers = 0
        self._saved = 0.0

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            if self._readers == 0:
                self._saved = sys.getswitchinterval()
                sys.setswitchinterval(self.INTERVAL)
            self._readers += 1
        try:
            yield
        finally:
            with self._lock:
                self._readers -= 1
                if self._readers == 0:
                    sys.setswitchinterval(self._saved)


_quick_gil_handover = _QuickGilHandover()


def quick_gil_handover() -> AbstractContextManager[None]:
    """Hand the GIL over every 0.5 ms while the block runs (``_QuickGilHandover``): for any work whose main
    thread waits on the database while a thread of its own reads (an upload, a lead import). Nested and
    parallel uses share one count: the interval is put back when the last one ends."""
    return _quick_gil_handover.held()


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
        with _quick_gil_handover.held():
            self.start()
            try:
                while (item := self.queue.get()) is not None:
                    if isinstance(item, BaseException):
                        raise item
                    yield item
            finally:
                self.stop.set()
                self.join(timeout=5)


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


def upload_read(
    *,
    upload_id: int,
    claim: str | None = None,
    wait: bool = True,
    on_rows: Callable[[int], None] | None = None,
) -> Upload:
    """Read the upload's file into its customer's active list, all or nothing, and record the counts.

    Guarded: only a queued upload, or one whose reading was interrupted (its transaction rolled back), is
    read; a repeat call on an upload that was read returns it unchanged. A file that cannot be read
    marks the upload failed with the reason and changes no entry.

    ``claim`` is the token of the claim the caller holds (``upload_claim``); without one this call claims
    the upload itself, and returns it unchanged when a live reader holds it. The read commits only while
    its claim holds. ``wait=False`` (the web request) does not wait behind another upload of the customer
    being read: the upload is left queued for the worker instead.
    """
    if claim is None:
        token = claim_token()
        if not upload_claim(upload_id=upload_id, token=token):
            return Upload.objects.get(pk=upload_id)
        try:
            return upload_read(upload_id=upload_id, claim=token, wait=wait, on_rows=on_rows)
        finally:
            upload_release(upload_id=upload_id, token=token)

    with transaction.atomic():
        upload = Upload.objects.select_for_update().select_related("customer").get(pk=upload_id)
        if upload.status not in (Upload.Status.QUEUED, Upload.Status.READING) or upload.claimed_by != claim:
            return upload
        upload.status = Upload.Status.READING
        upload.started_at = timezone.now()
        upload.rows_total = estimate_rows(upload.file, filename=upload.original_name)
        upload.rows_done = 0
        upload.save(update_fields=["status", "started_at", "rows_total", "rows_done"])

    try:
        with transaction.atomic():
            if not customer_lock(CUSTOMER_UPLOADS, upload.customer_id, wait=wait):
                raise _CustomerBusy
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
                upload_id=upload.pk, customer_id=upload.customer_id, values=values, on_rows=on_rows
            )
            committed = Upload.objects.filter(pk=upload_id, claimed_by=claim).update(
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
            if not committed:
                raise _ClaimLost
    except _CustomerBusy:
        # Back in the queue, as if never picked up: the worker reads it after the customer's other upload.
        Upload.objects.filter(pk=upload_id, claimed_by=claim, status=Upload.Status.READING).update(
            status=Upload.Status.QUEUED, started_at=None, rows_total=0, heartbeat_at=None
        )
    except _ClaimLost:
        logger.warning(
            "Upload %s was claimed by another reader while %s read it; its read was undone", upload_id, claim
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
    """Read the upload, then match its new entries; each step is guarded so a re-run resumes where it stopped.

    The whole run holds the upload's claim and beats for it (``_Heartbeat``): a second delivery of the
    task while this one lives returns at once, and one after this reader died takes the claim over.
    """
    from suppressions.services.matching import upload_match

    token = claim_token()
    if not upload_claim(upload_id=upload_id, token=token):
        return Upload.objects.get(pk=upload_id)
    heartbeat = _Heartbeat.start_for(upload_id, token)
    try:
        upload = upload_read(upload_id=upload_id, claim=token, on_rows=heartbeat.publish if heartbeat else None)
        if upload.status != Upload.Status.MATCHING:
            return upload
        upload_match(upload=upload)
        # Counted, not summed per run: a run killed half-way and its re-run must report the same number.
        blocks = Block.objects.filter(
            customer_id=upload.customer_id,
            source=Block.Source.SUPPRESSION,
            evidence_type=ContentType.objects.get_for_model(Entry),
            evidence_id__in=Entry.objects.filter(customer_id=upload.customer_id, upload_id=upload_id).values("pk"),
        )
        # Done and unclaimed in one statement: whoever sees it done never sees it still claimed.
        Upload.objects.filter(pk=upload_id, status=Upload.Status.MATCHING).update(
            status=Upload.Status.DONE, blocks_created=blocks.count(), finished_at=timezone.now(), claimed_by=""
        )
        return Upload.objects.get(pk=upload_id)
    finally:
        if heartbeat is not None:
            heartbeat.stop()
        upload_release(upload_id=upload_id, token=token)

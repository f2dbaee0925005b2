"""Accept an upload: store the file and its record, read a small file at once, and hand the rest to a worker.

From the moment the customer is told "received", no lead matching the file may be called. A file up to
``SUPPRESSIONS_SYNC_READ_MAX_BYTES`` is read in the request, so its entries are committed (and in force
through the live check) before the response; a larger one is queued, and until it is read (or fails) it
holds its customer's calls: the pull hands out none of its leads and the dial check refuses them with
``suppression_upload_pending`` (``suppressions.selectors.uploads_pending_exist``). Matching always runs in
the worker: the live check covers committed entries until it has.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from campaigns.models import Customer, User
from leadops.errors import LeadopsError
from leadops.outbox.services import enqueue_on_commit
from leadops.storage import TABLE_SUFFIXES
from suppressions.models import Upload

_KINDS = {"phone", "email", "domain", "auto", "ignore", "area_code"}


def upload_create(
    *,
    customer: Customer,
    file: File,
    original_name: str,
    uploaded_by: User | None,
    column_mapping: dict[str, str] | None = None,
    allow_broad_domains: bool = False,
    enqueue: bool = True,
    read_now: bool | None = None,
) -> Upload:
    """Store ``file`` under a random name, record the upload, read it now if it is small, and enqueue the rest.

    A file of at most ``sync_read_limit()`` bytes (or any with ``read_now=True``) is read here: its
    entries commit before this returns, and the upload comes back "matching" (or "failed" with the reason).
    A larger one comes back "queued" and holds its customer's calls until a worker has read it. If another
    upload of the customer is being read, a small one is queued too rather than waiting in the request.
    The task is enqueued through the outbox: a broker that is down delays it, and fails nothing.
    Each call is a new upload (uploading the same file twice adds nothing the second time: every value is
    a duplicate). ``enqueue=False`` is for a caller that processes the upload itself (the management
    command); nothing is read here then.
    """
    from suppressions.services.pipeline import upload_read

    name = Path(original_name or getattr(file, "name", "") or "upload").name[:255]
    if Path(name).suffix.lower() not in TABLE_SUFFIXES:
        raise LeadopsError("Upload a CSV, TSV, TXT or XLSX file.", field="file")
    mapping = {str(column): str(kind) for column, kind in (column_mapping or {}).items()}
    if unknown := sorted(set(mapping.values()) - _KINDS):
        raise LeadopsError(f"Unknown column kind: {', '.join(unknown)}.", field="column_mapping")
    if allow_broad_domains and uploaded_by is not None and not uploaded_by.has_perm("suppressions.allow_broad_domains"):
        raise LeadopsError("Only ops may allow free-mail domains and public suffixes.", field="allow_broad_domains")
    with transaction.atomic():
        upload = Upload(
            customer=customer,
            uploaded_by=uploaded_by,
            original_name=name,
            allow_broad_domains=allow_broad_domains,
            column_mapping=mapping,
            created_at=timezone.now(),
        )
        upload.file.save(name, file, save=False)
        upload.full_clean(exclude=["file"])
        upload.save()
    if not enqueue:
        return upload
    if read_now is None:
        read_now = upload.file.size <= sync_read_limit(name)
    if read_now:
        # Committed queued first, so the upload holds the customer's calls even if this process dies mid-read.
        upload = upload_read(upload_id=upload.pk, wait=False)
    if upload.status != Upload.Status.FAILED:
        upload_enqueue(upload=upload)
    return upload


def sync_read_limit(name: str) -> int:
    """Return the largest file (bytes) read in the request, about a second's work.

    Measured (PostgreSQL, 2 busy cores): a CSV of phone numbers reads at about 70,000 rows (0.8 MB) a second;
    a workbook is compressed and parsed cell by cell, about 9,000 rows (0.1 MB) a second: an eighth.
    """
    limit = settings.SUPPRESSIONS_SYNC_READ_MAX_BYTES
    return limit // 8 if name.lower().endswith(".xlsx") else limit


def upload_enqueue(*, upload: Upload) -> None:
    """Process ``upload`` in a worker once the current transaction commits (at once outside one)."""
    from suppressions import tasks

    enqueue_on_commit(tasks.upload_process, upload.pk)

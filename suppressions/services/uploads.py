"""Accept an upload: store the file and its record, and hand the heavy work to a Celery task."""

from __future__ import annotations

from pathlib import Path

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from campaigns.models import Customer, User
from leadops.errors import LeadopsError
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
) -> Upload:
    """Store ``file`` under a random name, record the upload, and enqueue its processing on commit.

    Nothing is read here: a million-row file is the worker's job, not the web request's. Each call is a
    new upload (uploading the same file twice adds nothing the second time: every value is a duplicate).
    ``enqueue=False`` is for a caller that processes the upload itself (the management command).
    """
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
        if enqueue:
            upload_enqueue(upload=upload)
    return upload


def upload_enqueue(*, upload: Upload) -> None:
    """Process ``upload`` in a worker once the current transaction commits (at once outside one)."""
    from suppressions import tasks

    upload_id = upload.pk
    transaction.on_commit(lambda: tasks.upload_process.delay(upload_id))

"""Start a lead import: store the file, record the import, and enqueue its processing after commit."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import IO

from django.core.files import File
from django.db import transaction

from campaigns.imports.models import LeadImport
from campaigns.imports.services.importing import explicit_mapping, plan_lead_columns
from campaigns.models import Campaign, User
from leadops.errors import LeadopsError
from leadops.outbox.services import enqueue_on_commit
from leadops.storage import TABLE_SUFFIXES
from suppressions.reading import open_table

MAX_BYTES = 200 * 1024 * 1024


def lead_import_create(
    *,
    campaign: Campaign,
    stream: IO[bytes],
    filename: str,
    actor: User | None,
    source: str = "",
    column_mapping: Mapping[str, str] | None = None,
    confirm: bool = True,
    enqueue: bool = True,
) -> LeadImport:
    """Store the file under a random name and enqueue the import once the transaction commits.

    With ``confirm=False`` the import waits in preview until ``lead_import_confirm``; with ``enqueue=False``
    it is queued for no worker: the caller runs it (``lead_import_run``), alone. Refuse, with nothing
    stored, a file that is not CSV/TSV/XLSX, is empty or too large, cannot be read as a table (a binary file
    renamed ``.csv``), names no lead column, or has a header row and no values; or a mapping to a field that
    does not exist.
    """
    suffix = Path(filename).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise LeadopsError(f"'{filename}' is not a CSV, TSV or XLSX file.", field="file")
    size = getattr(stream, "size", None)
    if size is not None and size > MAX_BYTES:
        raise LeadopsError("The file is larger than 200 MB: split it into smaller files.", field="file")
    explicit_mapping(column_mapping)
    file_check(stream, filename=filename, mapping=column_mapping)
    with transaction.atomic():
        lead_import = LeadImport(
            campaign=campaign,
            uploaded_by=actor,
            original_name=Path(filename).name[:255],
            source=source[:120],
            column_mapping=dict(column_mapping or {}),
            status=LeadImport.Status.QUEUED if confirm else LeadImport.Status.PREVIEW,
        )
        lead_import.file.save(filename, File(stream, name=filename), save=False)
        if lead_import.file.size == 0:
            lead_import.file.delete(save=False)
            raise LeadopsError(f"'{filename}' is empty.", field="file")
        lead_import.save()
        if confirm and enqueue:
            lead_import_enqueue(lead_import=lead_import)
    return lead_import


def file_check(stream: IO[bytes], *, filename: str, mapping: Mapping[str, str] | None) -> None:
    """Refuse, naming the reason, a file the import could never read: not a table (a binary file renamed
    ``.csv``), or a header row and no values. Leave ``stream`` where it was.

    A table whose columns the reader does not recognise is kept: the preview says so and offers the mapping.
    """
    start = stream.tell()
    try:
        with open_table(stream, filename=filename) as table:
            head = table.head()
    except LeadopsError as exc:
        raise LeadopsError(exc.message, field="file") from exc
    finally:
        stream.seek(start)
    try:
        plan, _ = plan_lead_columns(head, mapping=mapping)
    except LeadopsError:
        return
    if plan.has_header and len(head) < 2:
        raise LeadopsError(
            f"'{Path(filename).name}': the file has a header row and no values. Export the rows too, then upload it.",
            field="file",
        )


def lead_import_remap(*, lead_import: LeadImport, column_mapping: Mapping[str, str]) -> LeadImport:
    """Change the column mapping of an import still in preview."""
    if lead_import.status != LeadImport.Status.PREVIEW:
        raise LeadopsError("Only an import awaiting confirmation can be re-mapped.", field="column_mapping")
    explicit_mapping(column_mapping)
    lead_import.column_mapping = dict(column_mapping)
    lead_import.save(update_fields=["column_mapping"])
    return lead_import


def lead_import_confirm(*, lead_import: LeadImport) -> LeadImport:
    """Queue an import that was awaiting confirmation; a repeat call changes nothing."""
    with transaction.atomic():
        updated = LeadImport.objects.filter(pk=lead_import.pk, status=LeadImport.Status.PREVIEW).update(
            status=LeadImport.Status.QUEUED
        )
        if updated:
            lead_import_enqueue(lead_import=lead_import)
    lead_import.refresh_from_db()
    return lead_import


def lead_import_enqueue(*, lead_import: LeadImport) -> None:
    from campaigns.imports.tasks import lead_import_process

    enqueue_on_commit(lead_import_process, lead_import.pk)

"""CRM records from a file, for CRMs without webhooks: each row becomes an upsert event.

The file is read with the shared reader. Known headers (id, name, domain/website, email, phone, object
type) fill the record; every other column becomes a property named by its header, lower-cased without
punctuation ("Lifecycle Stage" → ``lifecyclestage``, as HubSpot names it). Event ids are derived from the
file's content and line, so uploading the same file twice stores nothing new.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import IO

from leadops.errors import LeadopsError
from suppressions.crm.models import CrmConnection, ObjectType
from suppressions.crm.services.events import ReceiveResult, crm_events_receive, validate_events
from suppressions.reading import AliasFamily, ColumnAliases, header_key, open_table

CRM_ALIASES = ColumnAliases(
    (
        AliasFamily(
            "external_id",
            names=(
                "id",
                "record id",
                "external id",
                "company id",
                "contact id",
                "deal id",
                "hubspot id",
                "salesforce id",
                "crm id",
                "object id",
            ),
        ),
        AliasFamily("object_type", names=("object type", "type", "object", "record type")),
        AliasFamily("name", names=("name", "company name", "account name", "deal name", "full name", "contact name")),
        AliasFamily(
            "domain",
            names=("domain", "website", "company domain", "company domain name", "url", "web site"),
            endings=("domain", "website"),
        ),
        AliasFamily("email", names=("email", "e-mail", "email address"), endings=("email",)),
        AliasFamily(
            "phone", names=("phone", "phone number", "mobile", "mobile phone", "telephone"), endings=("phone",)
        ),
    )
)


@dataclass
class FileResult:
    received: ReceiveResult
    rows: int
    rejected: list[tuple[int, str]] = field(default_factory=list)


def crm_records_upload(*, connection: CrmConnection, stream: IO[bytes], filename: str, object_type: str) -> FileResult:
    """Read a file of CRM records into upsert events and store them (processing follows in Celery).

    ``object_type`` applies to rows without an object-type column. A row with no id, domain or email to
    identify it is rejected with its line; nothing is stored if the file cannot be read.
    """
    if object_type not in ObjectType.values:
        raise LeadopsError(f"'{object_type}' is not company, contact or deal.", field="object_type")
    digest = hashlib.sha256()
    events: list[dict] = []
    rejected: list[tuple[int, str]] = []
    rows = 0
    with open_table(stream, filename=filename) as table:
        head = table.head()
        if not head:
            raise LeadopsError("The file has no rows.", field="file")
        header = head[0].cells
        fields = {i: CRM_ALIASES.field_for(cell) for i, cell in enumerate(header)}
        if not any(fields.values()):
            raise LeadopsError(
                "The first row names no CRM column (for example 'Record ID', 'Name', 'Domain', 'Email').",
                field="file",
            )
        rows_iter = iter(table)
        next(rows_iter, None)
        for line_number, cells in rows_iter:
            rows += 1
            digest.update(repr(cells).encode())
            event: dict = {"action": "upsert", "object_type": object_type, "properties": {}}
            for index, cell in enumerate(cells):
                if not cell or index >= len(header):
                    continue
                known = fields.get(index)
                if known in ("email", "phone"):
                    event.setdefault(f"{known}s", []).append(cell)
                elif known:
                    event[known] = cell
                elif header[index]:
                    event["properties"][header_key(header[index])] = cell
            identity = event.get("external_id") or event.get("domain") or next(iter(event.get("emails", [])), "")
            if not identity:
                rejected.append((line_number, "no id, domain or email identifies the record"))
                continue
            event["external_id"] = str(identity)
            event["object_type"] = str(event["object_type"]).strip().lower()
            if event["object_type"] not in ObjectType.values:
                rejected.append((line_number, f"object type '{event['object_type']}' is not company/contact/deal"))
                continue
            event["id"] = f"file-{digest.hexdigest()[:16]}-{line_number}"
            events.append(event)
    validate_events(events)
    received = crm_events_receive(connection=connection, events=events)
    return FileResult(received=received, rows=rows, rejected=rejected)

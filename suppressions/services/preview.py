"""What an upload would do, before ops confirm it: the first values of its file, read as the upload would read
them, each said accepted, duplicate or rejected. Nothing is written; it sits with the services because it
runs their reading (``pipeline.read_values``), as a lead import's preview does.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

from campaigns.models import Customer
from suppressions.models import Entry
from suppressions.reading import AREA_CODE
from suppressions.services.pipeline import read_values


@dataclass(frozen=True)
class PreviewRow:
    line: int
    column: str
    raw: str
    kind: str
    value: str
    outcome: str  # "accepted", "duplicate" or "rejected"
    reason: str


@dataclass(frozen=True)
class UploadPreview:
    """What an upload would do, from the first values of its file: shown before ops confirm it."""

    has_header: bool
    columns: list[tuple[str, str]]  # (column, what it is read as)
    rows: list[PreviewRow]
    sample_size: int
    accepted: int
    duplicate: int
    rejected: int


def upload_preview(
    *,
    customer: Customer,
    path: str,
    filename: str,
    column_mapping: dict[str, str] | None = None,
    allow_broad_domains: bool = False,
    show: int = 20,
    sample: int = 1_000,
) -> UploadPreview:
    """Read the first ``sample`` values of the file and say what would become of each (nothing is written).

    Duplicates are counted against the sample itself and the customer's active list. Raise
    ``LeadopsError`` (``UnreadableFile``) when the file cannot be read.
    """
    plan, values = read_values(
        path,
        filename=filename,
        region=customer.phone_region,
        allow_broad_domains=allow_broad_domains,
        columns=column_mapping,
    )
    taken = list(islice(values, sample))
    close = getattr(values, "close", None)
    if close is not None:
        close()
    valid = {(item.kind, item.value) for item in taken if not item.reason}
    on_list: set[tuple[str, str]] = set()
    for kind in {kind for kind, _ in valid}:
        wanted = [value for k, value in valid if k == kind]
        on_list |= {
            (kind, value)
            for value in Entry.objects.active()
            .filter(customer=customer, kind=kind, value__in=wanted)
            .values_list("value", flat=True)
        }
    seen: set[tuple[str, str]] = set()
    rows = []
    for item in taken:
        if item.reason:
            outcome = "rejected"
        elif (item.kind, item.value) in seen or (item.kind, item.value) in on_list:
            outcome = "duplicate"
        else:
            outcome = "accepted"
            seen.add((item.kind, item.value))
        rows.append(PreviewRow(item.line, item.column, item.raw, item.kind, item.value, outcome, item.reason))
    columns = [
        (plan.header[index] if plan.has_header and index < len(plan.header) else f"#{index + 1}", field)
        for index, field in plan.fields.items()
    ]
    if plan.area_code_pair is not None:
        columns.append((f"#{plan.area_code_pair[0] + 1}", AREA_CODE))
    return UploadPreview(
        has_header=plan.has_header,
        columns=columns,
        rows=rows[:show],
        sample_size=len(rows),
        accepted=sum(row.outcome == "accepted" for row in rows),
        duplicate=sum(row.outcome == "duplicate" for row in rows),
        rejected=sum(row.outcome == "rejected" for row in rows),
    )

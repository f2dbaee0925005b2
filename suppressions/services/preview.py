"""What an upload would do, before ops confirm it: the first values of its file, read as the upload would read
them, each said accepted, duplicate or rejected, and what the accepted ones would do to the pool (the leads
they match that leave it, per campaign). Nothing is written; it sits with the services because it runs their
reading (``pipeline.read_values``), as a lead import's preview does.

A file longer than the sample is previewed on its first ``sample`` values: the counts are scaled by the
file's rows over the sample's and marked estimates (``UploadPreview.estimated``).
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from itertools import islice

from django.db.models import Q, QuerySet

from campaigns.models import Account, ContactEmail, ContactPhone, Customer, Lead
from campaigns.selectors.impact import PoolChange, pool_change
from leadops.errors import LeadopsError
from suppressions.models import Entry
from suppressions.reading import AREA_CODE, open_table
from suppressions.services.pipeline import read_values

HEADER_ONLY = "Nothing to upload: the file has a header row and no values."


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
    pool: PoolChange | None = None
    # A sample of a longer file: the counts above are the whole file's, scaled from the sample, and say "about".
    estimated: bool = False
    rows_sampled: int = 0
    rows_total: int = 0


def upload_preview(
    *,
    customer: Customer,
    path: str,
    filename: str,
    column_mapping: dict[str, str] | None = None,
    allow_broad_domains: bool = False,
    show: int = 20,
    sample: int = 1_000,
    impact: bool = True,
) -> UploadPreview:
    """Read the first ``sample`` values of the file and say what would become of each (nothing is written).

    Duplicates are counted against the sample itself and the customer's active list. With ``impact``, also
    what the accepted values would do to the customer's pool. Raise ``LeadopsError`` (``UnreadableFile``) when
    the file cannot be read, and when it has a header row and no value (``HEADER_ONLY``).
    """
    plan, values = read_values(
        path,
        filename=filename,
        region=customer.phone_region,
        allow_broad_domains=allow_broad_domains,
        columns=column_mapping,
    )
    taken = list(islice(values, sample + 1))
    exhausted = len(taken) <= sample
    taken = taken[:sample]
    close = getattr(values, "close", None)
    if close is not None:
        close()
    if plan.has_header and not taken:
        raise LeadopsError(HEADER_ONLY, field="file", code="header_only")
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
    counts = {outcome: sum(row.outcome == outcome for row in rows) for outcome in ("accepted", "duplicate", "rejected")}
    rows_sampled = len({row.line for row in rows})
    factor, rows_total = 1.0, rows_sampled
    if not exhausted and rows_sampled:
        rows_total = max(rows_sampled, _rows_in(path, filename=filename) - (1 if plan.has_header else 0))
        factor = rows_total / rows_sampled
    pool = None
    if impact:
        accepted = {(row.kind, row.value) for row in rows if row.outcome == "accepted"}
        pool = pool_change(leaving=leads_matched_by(customer=customer, values=accepted)).scaled(factor)
    return UploadPreview(
        has_header=plan.has_header,
        columns=columns,
        rows=rows[:show],
        sample_size=len(rows),
        accepted=round(counts["accepted"] * factor),
        duplicate=round(counts["duplicate"] * factor),
        rejected=round(counts["rejected"] * factor),
        pool=pool,
        estimated=factor != 1,
        rows_sampled=rows_sampled,
        rows_total=rows_total,
    )


def _rows_in(path: str, *, filename: str) -> int:
    """Return how many rows the file has: its line breaks (a text file), or its rows read one by one (a
    workbook, whose rows are compressed)."""
    if not filename.lower().endswith(".xlsx"):
        with open(path, "rb") as stream:
            count = sum(chunk.count(b"\n") for chunk in iter(functools.partial(stream.read, 1 << 20), b""))
        return count
    with open_table(path, filename=filename) as table:
        return sum(1 for _ in table)


def leads_matched_by(*, customer: Customer, values: set[tuple[str, str]]) -> QuerySet[Lead]:
    """Return the customer's leads that new entries of ``values`` (``(kind, value)``) would match, in the ways
    of ``suppressions.rules.WAYS``: a contact's number, email or email domain, its account's website (a domain
    covers its subdomains)."""
    phones = [v for k, v in values if k == Entry.Kind.PHONE]
    emails = [v for k, v in values if k == Entry.Kind.EMAIL]
    domains = [v for k, v in values if k == Entry.Kind.DOMAIN]
    if not values:
        return Lead.objects.none()
    contacts = Q(contact_id__in=ContactPhone.objects.filter(phone__e164__in=phones).values("contact_id"))
    contacts |= Q(contact_id__in=ContactEmail.objects.filter(email__in=emails).values("contact_id"))
    if domains:
        under = functools.reduce(operator.or_, [Q(domain=d) | Q(domain__endswith=f".{d}") for d in domains])
        contacts |= Q(contact_id__in=ContactEmail.objects.filter(under).values("contact_id"))
        sites = Account.objects.filter(under, customer=customer).exclude(domain="")
        contacts |= Q(contact__account_id__in=sites.values("pk"))
    return Lead.objects.filter(contacts, customer=customer)

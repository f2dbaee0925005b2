"""Opt-out deadlines: every opt-out's receipt, the time from receipt to force, and any not yet in force.

Since April 2025 the Telemarketing Sales Rule gives 10 business days to honour an opt-out. leadops reads each
channel's own receipt time, so nothing here is assumed:

| channel | received | in force |
|---|---|---|
| a "Do not call" disposition | the call's ``created_at`` | its block's ``created_at`` (same transaction) |
| a portal mark | the mark is its block (``created_at``) | at once |
| an upload's rows | the upload's ``created_at`` | ``read_at``: its entries committed, which stops calls at once |
| a CRM event | its ``received_at`` | ``processed_at``: its rules ran and made their blocks |

What is not yet in force: uploads queued, being read or failed (a failed upload added nothing; it stays listed
until it is removed, once sent again), and CRM events pending or failed. Each carries its deadline, the 10th US
business day after the day it was received (``leadops.business_days``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from campaigns.models import Block, Call, Customer
from leadops.business_days import business_days_after, business_days_between
from suppressions.crm.models import CrmEvent
from suppressions.models import Upload

DEADLINE_BUSINESS_DAYS = 10
WARN_WITHIN_BUSINESS_DAYS = 2


@dataclass(frozen=True)
class OptOutNotInForce:
    channel: str
    customer: str
    received_at: datetime
    deadline: date
    business_days_left: int  # negative once late
    words: str

    @property
    def is_late(self) -> bool:
        return self.business_days_left < 0

    @property
    def needs_attention(self) -> bool:
        return self.business_days_left <= WARN_WITHIN_BUSINESS_DAYS


def _deadline(received_at: datetime) -> date:
    return business_days_after(timezone.localdate(received_at), DEADLINE_BUSINESS_DAYS)


def _item(channel: str, customer: Customer, received_at: datetime, what: str, today: date) -> OptOutNotInForce:
    deadline = _deadline(received_at)
    left = business_days_between(today, deadline)
    when = timezone.localtime(received_at).strftime("%Y-%m-%d %H:%M %Z")
    if left < 0:
        due = f"{-left} business day{'s' if left != -1 else ''} late (deadline {deadline:%Y-%m-%d})"
    else:
        due = f"due by {deadline:%Y-%m-%d}, {left} business day{'s' if left != 1 else ''} left"
    return OptOutNotInForce(
        channel=channel,
        customer=customer.name,
        received_at=received_at,
        deadline=deadline,
        business_days_left=left,
        words=f"{what}, received {when}, is not in force: {due}.",
    )


def optouts_not_in_force(*, customers: QuerySet[Customer], today: date | None = None) -> list[OptOutNotInForce]:
    """Return every opt-out of ``customers`` received and not yet in force, most urgent first."""
    today = today or timezone.localdate()
    found = []
    uploads = Upload.objects.filter(
        customer__in=customers,
        status__in=[Upload.Status.QUEUED, Upload.Status.READING, Upload.Status.FAILED],
        removed_at__isnull=True,
    ).select_related("customer")
    for upload in uploads:
        state = "failed (nothing was added)" if upload.status == Upload.Status.FAILED else upload.get_status_display()
        what = f"{upload.customer}'s suppression upload {upload.original_name} ({state.lower()})"
        found.append(_item("suppression upload", upload.customer, upload.created_at, what, today))
    events = CrmEvent.objects.filter(
        connection__customer__in=customers, status__in=[CrmEvent.Status.PENDING, CrmEvent.Status.FAILED]
    ).select_related("connection__customer")
    for event in events:
        what = f"{event.connection.customer}'s CRM event {event.event_id} ({event.get_status_display().lower()})"
        found.append(_item("CRM event", event.connection.customer, event.received_at, what, today))
    return sorted(found, key=lambda item: (item.deadline, item.received_at))


@dataclass(frozen=True)
class ReceiptToForce:
    """How long a channel's opt-outs took from receipt to force, for one customer (or all: ``customer`` None)."""

    channel: str
    customer: str | None
    count: int
    average: timedelta | None
    longest: timedelta | None

    @property
    def words(self) -> str:
        if not self.count:
            return "none received"
        return f"{self.count:,} received: on average {_span(self.average)}, at most {_span(self.longest)}"


def _span(value: timedelta | None) -> str:
    seconds = max(0.0, value.total_seconds()) if value is not None else 0.0
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _delays(rows: QuerySet, *, received: str, in_force: str, customer: str, receipt: str = "pk") -> QuerySet:
    delay = ExpressionWrapper(F(in_force) - F(received), output_field=DurationField())
    return rows.annotate(delay=delay, owner=F(customer), receipt=F(receipt)).order_by()


def receipt_to_force(*, customers: QuerySet[Customer], since: datetime) -> list[ReceiptToForce]:
    """Return, per channel, the time from receipt to force of the opt-outs received since ``since``: overall, then
    per customer (of ``customers``), as measured from the records (module docstring)."""
    call_type = ContentType.objects.get_for_model(Call)
    calls = Call.objects.filter(pk=OuterRef("evidence_id"))
    dispositions = Block.objects.filter(
        source=Block.Source.DISPOSITION, reason=Block.Reason.DO_NOT_CALL, evidence_type=call_type
    ).annotate(
        received=Subquery(calls.values("created_at")[:1]), lead_customer=Subquery(calls.values("lead__customer_id")[:1])
    )
    channels = {
        "Do not call disposition": _delays(
            dispositions.filter(received__gte=since, lead_customer__in=customers.values("pk")),
            received="received",
            in_force="created_at",
            customer="lead_customer",
            receipt="evidence_id",  # one call may make two blocks (the number, the contact's use of it)
        ),
        "portal mark": _delays(
            Block.objects.filter(
                source=Block.Source.CUSTOMER_DNC,
                actor__customer__isnull=False,
                created_at__gte=since,
                customer__in=customers,
            ),
            received="created_at",
            in_force="created_at",
            customer="customer_id",
        ),
        "suppression upload": _delays(
            Upload.objects.filter(read_at__isnull=False, created_at__gte=since, customer__in=customers),
            received="created_at",
            in_force="read_at",
            customer="customer_id",
        ),
        "CRM event": _delays(
            CrmEvent.objects.filter(
                processed_at__isnull=False, received_at__gte=since, connection__customer__in=customers
            ),
            received="received_at",
            in_force="processed_at",
            customer="connection__customer_id",
        ),
    }
    names = dict(customers.values_list("pk", "name"))
    found = []
    for channel, rows in channels.items():
        counted = {"count": Count("receipt", distinct=True), "average": Avg("delay"), "longest": Max("delay")}
        overall = rows.aggregate(**counted)
        found.append(ReceiptToForce(channel=channel, customer=None, **overall))
        per = rows.values("owner").annotate(**counted)
        for row in sorted(per, key=lambda r: names.get(r["owner"], "")):
            found.append(
                ReceiptToForce(
                    channel=channel,
                    customer=names.get(row["owner"], "?"),
                    count=row["count"],
                    average=row["average"],
                    longest=row["longest"],
                )
            )
    return found

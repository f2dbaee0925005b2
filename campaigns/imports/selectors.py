"""Reads of lead import that other layers ask for through what they registered."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, F
from django.db.models.functions import TruncDate

from campaigns.imports.models import LeadImportIssue


def junk_rows_counted(
    customer_id: int | None, campaign_ids: tuple[int, ...] | None, start: datetime | None, end: datetime | None
) -> list[tuple]:
    """Return the junk rows of imports made from ``start`` to ``end``, counted by (customer id, campaign id, import
    source, day): the lead report's junk column (``campaigns.selectors.reports.junk_counter_register``)."""
    rows = LeadImportIssue.objects.filter(kind=LeadImportIssue.Kind.JUNK)
    if customer_id is not None:
        rows = rows.filter(lead_import__campaign__customer_id=customer_id)
    if campaign_ids is not None:
        rows = rows.filter(lead_import__campaign_id__in=campaign_ids)
    if start is not None:
        rows = rows.filter(lead_import__created_at__gte=start)
    if end is not None:
        rows = rows.filter(lead_import__created_at__lt=end)
    return [
        (row["customer"], row["lead_import__campaign_id"], row["lead_import__source"], row["day"], row["n"])
        for row in rows.values(
            "lead_import__campaign_id",
            "lead_import__source",
            customer=F("lead_import__campaign__customer_id"),
            day=TruncDate("lead_import__created_at"),
        )
        .annotate(n=Count("pk"))
        .order_by()
    ]

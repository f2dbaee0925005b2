"""One lead or campaign by id, with what its readers need next, in one prepared statement (``leadops.db``).

``customer_id`` limits the search to that customer's rows: the dialer API passes its key's customer, so a
lead of another customer is not found, exactly like a lead that does not exist.
"""

from __future__ import annotations

from campaigns.models import Campaign, Lead
from leadops.db import Related, can_be_an_id, prepared_cursor

_WITHIN = "(CAST(%(customer)s AS bigint) IS NULL OR {alias}.customer_id = CAST(%(customer)s AS bigint))"

_CAMPAIGN = Related(Campaign, "ca", "customer")
_CAMPAIGN_SQL = f"{_CAMPAIGN.sql} WHERE ca.id = CAST(%(id)s AS bigint) AND {_WITHIN.format(alias='ca')}"

_LEAD = Related(Lead, "l", "contact__account", "campaign", "customer")
_LEAD_SQL = f"{_LEAD.sql} WHERE l.id = CAST(%(id)s AS bigint) AND {_WITHIN.format(alias='l')}"


def _one(related: Related, sql: str, pk: int, customer_id: int | None):
    if not can_be_an_id(pk):
        return None
    with prepared_cursor() as cursor:
        cursor.execute(sql, {"id": pk, "customer": customer_id})
        row = cursor.fetchone()
    return related.load(row) if row else None


def campaign_with_customer(campaign_id: int, *, customer_id: int | None = None) -> Campaign | None:
    """Return the campaign with its customer, or None (also when it is not ``customer_id``'s)."""
    return _one(_CAMPAIGN, _CAMPAIGN_SQL, campaign_id, customer_id)


def lead_with_relations(lead_id: int, *, customer_id: int | None = None) -> Lead | None:
    """Return the lead with its contact and account, campaign and customer, or None (also when it is not
    ``customer_id``'s)."""
    return _one(_LEAD, _LEAD_SQL, lead_id, customer_id)

"""One lead or campaign by id, with what its readers need next, in one prepared statement (``leadops.db``).

``customer_id`` limits the search to that customer's rows: the dialer API passes its key's customer, so a
lead of another customer is not found, exactly like a lead that does not exist.
"""

from __future__ import annotations

from campaigns.models import Campaign, Lead, User
from leadops.db import Related, can_be_an_id, prepared_cursor

_WITHIN = "(CAST(%(customer)s AS bigint) IS NULL OR {alias}.customer_id = CAST(%(customer)s AS bigint))"

_CAMPAIGN = Related(Campaign, "ca", "customer")

# A caller is one of the agency's users, never a customer's; active or not: the services refuse an inactive
# one as not approved for the campaign (``campaigns.dialer.pool``, ``campaigns.services.calls``).
_CALLER = Related(User, "u")
_IS_CALLER = "u.customer_id IS NULL"
_CALLER_SQL = f"{_CALLER.sql} WHERE u.username = %s AND {_IS_CALLER}"
# The campaign a pull draws from and the caller it leases to.
_CAMPAIGN_AND_CALLER_SQL = f"""
SELECT {_CAMPAIGN.columns}, {_CALLER.columns}
FROM {_CAMPAIGN.tables}
LEFT JOIN campaigns_user u ON u.username = %(username)s AND {_IS_CALLER}
WHERE ca.id = CAST(%(id)s AS bigint) AND {_WITHIN.format(alias="ca")}
"""

_LEAD = Related(Lead, "l", "contact__account", "campaign", "customer")
_LEAD_SQL = f"{_LEAD.sql} WHERE l.id = CAST(%(id)s AS bigint) AND {_WITHIN.format(alias='l')}"


def _one(related: Related, sql: str, pk: int, customer_id: int | None):
    if not can_be_an_id(pk):
        return None
    with prepared_cursor() as cursor:
        cursor.execute(sql, {"id": pk, "customer": customer_id})
        row = cursor.fetchone()
    return related.load(row) if row else None


def lead_with_relations(lead_id: int, *, customer_id: int | None = None) -> Lead | None:
    """Return the lead with its contact and account, campaign and customer, or None (also when it is not
    ``customer_id``'s)."""
    return _one(_LEAD, _LEAD_SQL, lead_id, customer_id)


def campaign_and_caller(
    campaign_id: int, username: str, *, customer_id: int | None = None
) -> tuple[Campaign, User | None] | None:
    """Return the campaign with its customer and the agency's user ``username``, active or not (None when the
    agency has no such user), in one statement; None when there is no such campaign (of ``customer_id``)."""
    if not can_be_an_id(campaign_id):
        return None
    with prepared_cursor() as cursor:
        cursor.execute(_CAMPAIGN_AND_CALLER_SQL, {"id": campaign_id, "customer": customer_id, "username": username})
        row = cursor.fetchone()
    if row is None:
        return None
    caller = row[_CAMPAIGN.width :]
    return _CAMPAIGN.load(row[: _CAMPAIGN.width]), _CALLER.load(caller) if caller[0] is not None else None


def caller_named(username: str) -> User | None:
    """Return the agency's user ``username``, active or not (callers are never a customer's users), or None."""
    with prepared_cursor() as cursor:
        cursor.execute(_CALLER_SQL, [username])
        row = cursor.fetchone()
    return _CALLER.load(row) if row else None

"""What a key may see: the agency's key every customer's data, a customer's key its own only.

Each endpoint finds its one campaign or lead with one prepared statement (see ``leadops.db``) that joins
what the endpoint reads next, as ``select_related`` would; anything outside the key's scope is ``None``,
which the views answer with 404, so another customer's lead is indistinguishable from no lead.
"""

from __future__ import annotations

from campaigns.models import ApiKey, Campaign, Lead, User
from leadops.db import Related, prepared_cursor

_BIGINT_MAX = 2**63 - 1
# ``%(customer)s`` is the key's customer, NULL for the agency's key.
_SCOPE = "(CAST(%(customer)s AS bigint) IS NULL OR {alias}.customer_id = CAST(%(customer)s AS bigint))"

_CAMPAIGN = Related(Campaign, "ca", "customer")
_CAMPAIGN_SQL = f"{_CAMPAIGN.sql} WHERE ca.id = CAST(%(id)s AS bigint) AND {_SCOPE.format(alias='ca')}"

_LEAD = Related(Lead, "l", "contact__account", "campaign", "customer")
_LEAD_SQL = f"{_LEAD.sql} WHERE l.id = CAST(%(id)s AS bigint) AND {_SCOPE.format(alias='l')}"


def _fetch(related: Related, sql: str, api_key: ApiKey, pk: int):
    if not 0 < pk <= _BIGINT_MAX:  # no such row, and no statement the index cannot serve
        return None
    with prepared_cursor() as cursor:
        cursor.execute(sql, {"id": pk, "customer": api_key.customer_id})
        row = cursor.fetchone()
    return related.load(row) if row else None


def campaign_for_key(api_key: ApiKey, campaign_id: int) -> Campaign | None:
    """Return the campaign, with its customer, if ``api_key`` may see it."""
    return _fetch(_CAMPAIGN, _CAMPAIGN_SQL, api_key, campaign_id)


def lead_for_key(api_key: ApiKey, lead_id: int) -> Lead | None:
    """Return the lead, with its contact and account, campaign and customer, if ``api_key`` may see it."""
    return _fetch(_LEAD, _LEAD_SQL, api_key, lead_id)


_CALLER = Related(User, "u")
_CALLER_SQL = f"{_CALLER.sql} WHERE u.username = %s AND u.is_active AND u.customer_id IS NULL"


def caller_named(username: str) -> User | None:
    """Return the agency's active user ``username`` (callers are never a customer's users), or None."""
    with prepared_cursor() as cursor:
        cursor.execute(_CALLER_SQL, [username])
        row = cursor.fetchone()
    return _CALLER.load(row) if row else None

"""What a key may see: the agency's key every customer's data, a customer's key its own only.

Each endpoint finds its one campaign or lead with one prepared statement (``campaigns.selectors.loading``)
limited to the key's customer; anything outside the key's scope is ``None``, which the views answer with
404, so another customer's lead is indistinguishable from no lead.
"""

from __future__ import annotations

from campaigns.models import ApiKey, Campaign, Lead, User
from campaigns.selectors.loading import campaign_with_customer, lead_with_relations
from leadops.db import Related, prepared_cursor


def campaign_for_key(api_key: ApiKey, campaign_id: int) -> Campaign | None:
    """Return the campaign, with its customer, if ``api_key`` may see it."""
    return campaign_with_customer(campaign_id, customer_id=api_key.customer_id)


def lead_for_key(api_key: ApiKey, lead_id: int) -> Lead | None:
    """Return the lead, with its contact and account, campaign and customer, if ``api_key`` may see it."""
    return lead_with_relations(lead_id, customer_id=api_key.customer_id)


_CALLER = Related(User, "u")
_CALLER_SQL = f"{_CALLER.sql} WHERE u.username = %s AND u.is_active AND u.customer_id IS NULL"


def caller_named(username: str) -> User | None:
    """Return the agency's active user ``username`` (callers are never a customer's users), or None."""
    with prepared_cursor() as cursor:
        cursor.execute(_CALLER_SQL, [username])
        row = cursor.fetchone()
    return _CALLER.load(row) if row else None

"""What a key may see: the agency's key every customer's data, a customer's key its own only.

Each endpoint finds its one campaign or lead with one prepared statement (``campaigns.selectors.loading``)
limited to the key's customer; anything outside the key's scope is ``None``, which the views answer with
404, so another customer's lead is indistinguishable from no lead.
"""

from __future__ import annotations

from campaigns.models import ApiKey, Lead
from campaigns.selectors.loading import lead_with_relations


def lead_for_key(api_key: ApiKey, lead_id: int) -> Lead | None:
    """Return the lead, with its contact and account, campaign and customer, if ``api_key`` may see it."""
    return lead_with_relations(lead_id, customer_id=api_key.customer_id)

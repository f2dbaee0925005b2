"""What a key may see: the agency's key every customer's data, a customer's key its own only."""

from __future__ import annotations

from django.db.models import QuerySet

from campaigns.models import ApiKey, Campaign, Lead


def campaigns_for_key(api_key: ApiKey) -> QuerySet[Campaign]:
    campaigns = Campaign.objects.select_related("customer")
    return campaigns if api_key.customer_id is None else campaigns.filter(customer_id=api_key.customer_id)


def leads_for_key(api_key: ApiKey) -> QuerySet[Lead]:
    leads = Lead.objects.select_related("contact__account", "campaign", "customer")
    return leads if api_key.customer_id is None else leads.filter(customer_id=api_key.customer_id)

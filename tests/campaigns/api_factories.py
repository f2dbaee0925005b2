"""Factories for the lead pool, calls and the dialer API: callers, campaigns with their dispositions,
API keys, and whole pools of leads made in a few set-based statements."""

from __future__ import annotations

import factory
from django.utils import timezone

from campaigns.models import (
    Account,
    ApiKey,
    CallerApproval,
    Campaign,
    Contact,
    ContactPhone,
    Customer,
    Disposition,
    Lead,
    LeadStatus,
    PhoneNumber,
)
from campaigns.services.api_keys import api_key_create
from campaigns.services.directory import default_dispositions
from tests.campaigns.factories import CampaignFactory, CustomerFactory, LeadFactory, UserFactory


class CallerFactory(UserFactory):
    """An agency rep who works through the dialer: no customer, no admin; ``approved_for=[campaign, …]``
    approves them for those campaigns (approved by a job, so no ops user is made)."""

    username = factory.Sequence(lambda n: f"caller{n}")
    is_staff = False

    @factory.post_generation
    def approved_for(self, create, campaigns, **kwargs):
        if create and campaigns:
            CallerApproval.objects.bulk_create(
                CallerApproval(caller=self, campaign=campaign, approved_by_job="tests") for campaign in campaigns
            )


class DialerCampaignFactory(CampaignFactory):
    """An active campaign with the default disposition catalogue, as ``campaign_create`` seeds it."""

    class Meta:
        skip_postgeneration_save = True

    cooldown_hours = 24
    attempt_cap = 3

    @factory.post_generation
    def dispositions(self, create, extracted, **kwargs):
        if create:
            Disposition.objects.bulk_create(default_dispositions(self))


class DialerLeadFactory(LeadFactory):
    campaign = factory.SubFactory(DialerCampaignFactory)


def disposition(campaign: Campaign, code: str) -> Disposition:
    return Disposition.objects.get(campaign=campaign, code=code)


def api_key_for(customer: Customer | None = None) -> tuple[ApiKey, str]:
    """Return an API key (the agency's unless ``customer``) and the full key to send."""
    return api_key_create(name="Dialer", customer=customer, actor=None)


def pool_create(*, campaign: Campaign, size: int, first_number: int = 3_000_000) -> list[Lead]:
    """Create ``size`` Eligible leads in ``campaign``, each contact with its own number, in a few statements.

    Priorities cycle 0..4 so the pool order is not the insertion order.
    """
    now = timezone.now()
    customer = campaign.customer
    account = Account.objects.create(customer=customer, name=f"Pool of {campaign}", domain="")
    contacts = Contact.objects.bulk_create(
        Contact(customer=customer, account=account, first_name=f"Lead{i}", last_name="Pool", created_at=now)
        for i in range(size)
    )
    phones = PhoneNumber.objects.bulk_create(
        PhoneNumber(e164=f"+1202{first_number + i}", created_at=now) for i in range(size)
    )
    ContactPhone.objects.bulk_create(
        ContactPhone(contact=contact, phone=phone) for contact, phone in zip(contacts, phones, strict=True)
    )
    return Lead.objects.bulk_create(
        Lead(
            customer=customer,
            campaign=campaign,
            contact=contact,
            status=LeadStatus.ELIGIBLE,
            priority=i % 5,
            created_at=now,
        )
        for i, contact in enumerate(contacts)
    )


__all__ = [
    "CallerFactory",
    "CustomerFactory",
    "DialerCampaignFactory",
    "DialerLeadFactory",
    "api_key_for",
    "disposition",
    "pool_create",
]

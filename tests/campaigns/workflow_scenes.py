"""Scenes the workflow tests share: a clinic whose switchboard is shared, built with the factories."""

from __future__ import annotations

from dataclasses import dataclass, field

from campaigns.models import Account, Campaign, ContactPhone, Lead, LeadStatus, PhoneNumber
from tests.campaigns.factories import (
    AccountFactory,
    CampaignFactory,
    ContactFactory,
    ContactPhoneFactory,
    LeadFactory,
    PhoneNumberFactory,
)


@dataclass
class Switchboard:
    """Maria has the switchboard and a mobile; Tom and Grace only the switchboard; all at one clinic, in one
    campaign. Zoe, of another customer, shares the same switchboard."""

    campaign: Campaign
    other_campaign: Campaign
    account: Account
    board: PhoneNumber
    mobile: PhoneNumber
    maria: Lead
    tom: Lead
    grace: Lead
    zoe: Lead
    tom_other: Lead
    leads: list[Lead] = field(default_factory=list)


def lead_at(account: Account, campaign: Campaign, phones: list[PhoneNumber], *, first_name: str, **fields) -> Lead:
    contact = ContactFactory(account=account, first_name=first_name, last_name="Clinic")
    for phone in phones:
        ContactPhoneFactory(contact=contact, phone=phone, kind=ContactPhone.Kind.OFFICE)
    return LeadFactory(campaign=campaign, contact=contact, with_phone=False, **fields)


def switchboard_scene() -> Switchboard:
    campaign = CampaignFactory(name="Clinic outreach")
    other_campaign = CampaignFactory(customer=campaign.customer, name="Pharmacy partners")
    account = AccountFactory(customer=campaign.customer, name="Riverside Family Clinic")
    board = PhoneNumberFactory(e164="+12025550143")
    mobile = PhoneNumberFactory(e164="+16465550188")
    maria = lead_at(account, campaign, [board, mobile], first_name="Maria")
    tom = lead_at(account, campaign, [board], first_name="Tom")
    grace = lead_at(account, campaign, [board], first_name="Grace")
    tom_other = LeadFactory(campaign=other_campaign, contact=tom.contact, with_phone=False)
    other = CampaignFactory(name="Solar")
    zoe = lead_at(AccountFactory(customer=other.customer), other, [board], first_name="Zoe")
    return Switchboard(
        campaign=campaign,
        other_campaign=other_campaign,
        account=account,
        board=board,
        mobile=mobile,
        maria=maria,
        tom=tom,
        grace=grace,
        zoe=zoe,
        tom_other=tom_other,
        leads=[maria, tom, grace, zoe, tom_other],
    )


def statuses(*leads: Lead) -> list[str]:
    return [Lead.objects.get(pk=lead.pk).status for lead in leads]


def disqualified_ids(leads) -> set[int]:
    return set(
        Lead.objects.filter(pk__in=[lead.pk for lead in leads], status=LeadStatus.DISQUALIFIED).values_list(
            "pk", flat=True
        )
    )

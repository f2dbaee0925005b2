"""A caller acts only within the campaigns they are approved for: the services' half of what the admin shows
them (``campaigns.selectors.scope``), so that no way in (the admin, a command, a later API) can do more.

A workflow a caller starts on rows they may see is correct whoever starts it, and does what it does for ops:
disqualifying a contact for its customer stops its leads in the customer's other campaigns too, and a number
marked Do Not Call platform-wide stops every contact that shares it. What the caller may not do is name rows
they may not see (a contact with no lead in their campaigns, a number none of their contacts has), a campaign
they are not approved for, or another customer.

``caller_role`` says which campaign the block's sentence names them in ("approved caller for …").
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from campaigns.models import Account, Campaign, Contact, Customer, Lead, PhoneNumber, User
from campaigns.selectors.callers import approved_campaigns
from campaigns.selectors.scope import sees_everything, visible
from campaigns.services.actors import Actor
from leadops.errors import LeadopsError


def acting_caller(actor: Actor) -> User | None:
    """Return ``actor`` when they act as an approved caller (an agency user who does not work every campaign);
    None for ops and for jobs. A customer's own user is not a caller (the portal scopes them itself)."""
    if isinstance(actor, User) and actor.customer_id is None and not sees_everything(actor):
        return actor
    return None


def _refuse(caller: User, what: str) -> LeadopsError:
    return LeadopsError(
        f"{caller.get_username()} is not approved for a campaign of {what}: nothing was changed.",
        field="selection",
        code="caller_not_approved",
    )


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def check_caller_sees(caller: User | None, rows: QuerySet, *, what: str) -> None:
    """Refuse (``caller_not_approved``) when ``rows`` hold one the caller may not see; nothing for ops (None).

    One query, whatever the size of the selection.
    """
    if caller is None:
        return
    hidden = rows.order_by().exclude(pk__in=visible(rows.model.objects.all(), caller).values("pk")).count()
    if hidden:
        raise _refuse(caller, f"{_plural(hidden, what)} of this selection" if hidden > 1 else f"one of these {what}s")


def check_caller_campaign(caller: User | None, campaign: Campaign | None) -> None:
    """Refuse a caller naming a campaign they are not approved for (a block for one campaign)."""
    if caller is None or campaign is None:
        return
    if not approved_campaigns(caller).filter(pk=campaign.pk).exists():
        raise LeadopsError(
            f"{caller.get_username()} is not approved for the campaign {campaign}: nothing was changed.",
            field="campaign",
            code="caller_not_approved",
        )


def check_caller_customer(caller: User | None, customer: Customer | None) -> None:
    """Refuse a caller naming a customer none of their campaigns is for (a number Do Not Call for one customer)."""
    if caller is None or customer is None:
        return
    if not approved_campaigns(caller).filter(customer_id=customer.pk).exists():
        raise LeadopsError(
            f"{caller.get_username()} works no campaign of {customer}: nothing was changed.",
            field="customer",
            code="caller_not_approved",
        )


def caller_role(
    caller: User | None,
    *,
    contacts: QuerySet[Contact] | None = None,
    accounts: QuerySet[Account] | None = None,
    phones: QuerySet[PhoneNumber] | None = None,
    campaign: Campaign | None = None,
) -> Campaign | None:
    """Return the campaign a caller acts for on this selection: ``campaign`` when the workflow names one, else
    the first by name of their approved campaigns with a lead of the selection; None for ops and jobs."""
    if caller is None:
        return None
    if campaign is not None:
        return campaign
    leads = Lead.objects.filter(campaign_id=OuterRef("pk"))
    if contacts is not None:
        leads = leads.filter(contact_id__in=contacts.order_by().values("pk"))
    elif accounts is not None:
        leads = leads.filter(contact__account_id__in=accounts.order_by().values("pk"))
    elif phones is not None:
        leads = leads.filter(contact__phones__phone_id__in=phones.order_by().values("pk"))
    return approved_campaigns(caller).filter(Exists(leads)).order_by("name", "pk").first()

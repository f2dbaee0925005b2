"""What an agency user may see, written once: the admin's querysets, its custom views, list filters,
autocomplete and pickers, and the services' checks all ask here.

* Ops (``campaigns.work_every_campaign``) and superusers see everything: every function returns the queryset
  it was given, unfiltered (so a list page of a million rows still counts from the planner's estimate).
* Every other agency user, an approved caller, sees what the campaigns they are approved for *now* reach:
  those campaigns and their dispositions, their leads, the contacts of those leads and their accounts,
  numbers and email addresses, those leads' calls and meetings, the blocks on any of them whose reach covers
  one of those leads (a number block of another customer is not theirs), and the agency users who called
  or are approved for those campaigns. Nothing else: no other campaign, of the same customer or another.
* A customer's user, or an inactive one, sees nothing here (the portal has its own scope,
  ``campaigns.portal.selectors.owned``).

Each rule is a condition on the model's rows over the subquery of the user's approved campaigns, so it costs
no statement of its own and a revocation is seen by the next query. ``audience_for`` is how such a user
reads a block's sentence (``campaigns.selectors.explaining.CallerAudience``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from campaigns.models import (
    Account,
    Block,
    Call,
    CallerApproval,
    Campaign,
    Contact,
    ContactEmail,
    ContactPhone,
    Customer,
    Disposition,
    Lead,
    Meeting,
    PhoneNumber,
    User,
)
from campaigns.rules import In, block_reach_covers, blocks_on_any
from campaigns.selectors.callers import approved_campaigns, sees_every_campaign
from campaigns.selectors.explaining import OPS, CallerAudience


def sees_everything(user: User) -> bool:
    """Return whether ``user`` sees every row of the back office (agency ops and superusers)."""
    return sees_every_campaign(user)


def _leads(campaigns: QuerySet) -> QuerySet[Lead]:
    return Lead.objects.filter(campaign_id__in=campaigns)


def _contact_has_a_lead(campaigns: QuerySet, contact_ref: str = "pk") -> Exists:
    return Exists(_leads(campaigns).filter(contact_id=OuterRef(contact_ref)))


def _blocks(campaigns: QuerySet) -> Q:
    leads = _leads(campaigns)
    contacts = leads.values("contact_id")
    on_what_they_see = blocks_on_any(
        lead=In(leads.values("pk")),
        contact=In(contacts),
        account=In(leads.values("contact__account_id")),
        phone=In(ContactPhone.objects.filter(contact_id__in=contacts).values("phone_id")),
    )
    covers_their_leads = block_reach_covers(
        customer_ref=In(Campaign.objects.filter(pk__in=campaigns).values("customer_id")), campaign_ref=In(campaigns)
    )
    return on_what_they_see & covers_their_leads


def _users(campaigns: QuerySet) -> Q:
    return Q(
        Exists(Call.objects.filter(caller_id=OuterRef("pk"), lead__campaign_id__in=campaigns))
        | Exists(CallerApproval.objects.in_force().filter(caller_id=OuterRef("pk"), campaign_id__in=campaigns))
    )


# Model → the condition on its rows that a caller approved for ``campaigns`` sees them.
RULES: dict[type[Model], Callable[[QuerySet], Q]] = {
    Campaign: lambda campaigns: Q(pk__in=campaigns),
    Disposition: lambda campaigns: Q(campaign_id__in=campaigns),
    Customer: lambda campaigns: Q(Exists(Campaign.objects.filter(pk__in=campaigns, customer_id=OuterRef("pk")))),
    Lead: lambda campaigns: Q(campaign_id__in=campaigns),
    Contact: lambda campaigns: Q(_contact_has_a_lead(campaigns)),
    Account: lambda campaigns: Q(Exists(_leads(campaigns).filter(contact__account_id=OuterRef("pk")))),
    ContactPhone: lambda campaigns: Q(_contact_has_a_lead(campaigns, "contact_id")),
    ContactEmail: lambda campaigns: Q(_contact_has_a_lead(campaigns, "contact_id")),
    PhoneNumber: lambda campaigns: Q(
        Exists(
            ContactPhone.objects.filter(phone_id=OuterRef("pk")).filter(_contact_has_a_lead(campaigns, "contact_id"))
        )
    ),
    Call: lambda campaigns: Q(lead__campaign_id__in=campaigns),
    Meeting: lambda campaigns: Q(lead__campaign_id__in=campaigns),
    Block: _blocks,
    User: _users,
}


def condition(model: type[Model], user: User) -> Q | None:
    """Return the condition on ``model``'s rows that ``user`` sees one: None for ops (every row), a condition no
    row meets for a model without a rule."""
    if sees_everything(user):
        return None
    rule = RULES.get(model)
    if rule is None:
        return Q(pk__in=[])
    return rule(approved_campaigns(user).values("pk"))


def visible(queryset: QuerySet, user: User) -> QuerySet:
    """Return the rows of ``queryset`` that ``user`` may see: all of them for ops, none of a model without a rule
    for anyone else."""
    seen = condition(queryset.model, user)
    return queryset if seen is None else queryset.filter(seen)


def is_scoped(model: type[Model]) -> bool:
    """Return whether a caller may see some rows of ``model`` (it has a rule here)."""
    return model in RULES


def campaigns_visible_to(user: User) -> QuerySet[Campaign]:
    return visible(Campaign.objects.all(), user)


def customers_visible_to(user: User) -> QuerySet[Customer]:
    return visible(Customer.objects.all(), user)


def leads_visible_to(user: User) -> QuerySet[Lead]:
    return visible(Lead.objects.all(), user)


def contacts_visible_to(user: User) -> QuerySet[Contact]:
    return visible(Contact.objects.all(), user)


def accounts_visible_to(user: User) -> QuerySet[Account]:
    return visible(Account.objects.all(), user)


def phones_visible_to(user: User) -> QuerySet[PhoneNumber]:
    return visible(PhoneNumber.objects.all(), user)


def blocks_visible_to(user: User) -> QuerySet[Block]:
    return visible(Block.objects.all(), user)


def audience_for(user: User) -> str | CallerAudience:
    """Return how ``user`` reads block sentences: ``OPS`` for ops, else a ``CallerAudience`` of the campaigns they
    are approved for (one query)."""
    if sees_everything(user):
        return OPS
    pairs = list(approved_campaigns(user).values_list("pk", "customer_id"))
    return CallerAudience(
        campaign_ids=frozenset(pk for pk, _ in pairs), customer_ids=frozenset(customer for _, customer in pairs)
    )

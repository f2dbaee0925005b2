"""What a workflow will change, before it runs: the confirmation pages' "what will change" reads.

Nothing here writes. Every answer is a few set-based queries whatever the size of the selection: a
switchboard shared by 5,000 contacts costs the same handful of statements as a direct line.

Mark Phone DNC is predicted with the status rule of ``campaigns.rules`` evaluated as if the
new number blocks existed: a lead leaves the pool when no number is left that no active block stops and
that is not one of the numbers being marked (``dialable_phones(...).exclude(phone in marked)``). Only the
numbers change, so every other part of the rule keeps its current answer.

Given the ``user`` who will confirm, each answer is what they may read (``campaigns.selectors.scope``): an
approved caller sees the leads, contacts and campaigns of the campaigns they are approved for, and of the rest
only how many (a contact's other campaigns, the other customers sharing a number). What the workflow does is
the same whoever confirms it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from campaigns.models import (
    Account,
    Block,
    Campaign,
    Contact,
    ContactPhone,
    Customer,
    Lead,
    LeadStatus,
    PhoneNumber,
    User,
)
from campaigns.rules import In, active_blocks_on, dialable_phones, lead_stopped_by, leads_reached_by
from campaigns.selectors.scope import campaigns_visible_to, condition, sees_everything, visible

CONTACTS_SHOWN_PER_NUMBER = 50
NUMBERS_SHOWN = 20
LEADS_SHOWN = 100


@dataclass(frozen=True)
class CampaignImpact:
    """How many leads of one campaign leave the pool: Eligible ones and Waiting ones."""

    campaign_id: int
    campaign: str
    customer: str
    eligible: int
    waiting: int

    @property
    def leaving(self) -> int:
        return self.eligible + self.waiting


@dataclass
class Impact:
    campaigns: list[CampaignImpact] = field(default_factory=list)
    # Leads that leave the pool in campaigns the reader does not work: counted, never named (0 for ops).
    not_seen: int = 0

    @property
    def leaving(self) -> int:
        """Return how many leads of the campaigns shown leave the pool."""
        return sum(c.leaving for c in self.campaigns)


def _seen_by(campaigns: list[CampaignImpact], user: User | None) -> tuple[list[CampaignImpact], int]:
    """Return the campaigns ``user`` works among ``campaigns``, and how many leads leave in the others (one
    query for an approved caller, none for ops)."""
    if user is None or sees_everything(user) or not campaigns:
        return campaigns, 0
    ids = {c.campaign_id for c in campaigns}
    mine = set(campaigns_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    return [c for c in campaigns if c.campaign_id in mine], sum(
        c.leaving for c in campaigns if c.campaign_id not in mine
    )


def _impact(leads: QuerySet[Lead], user: User | None) -> Impact:
    shown, not_seen = _seen_by(_by_campaign(leads), user)
    return Impact(campaigns=shown, not_seen=not_seen)


def _by_campaign(leads: QuerySet[Lead]) -> list[CampaignImpact]:
    """Return, per campaign, how many of ``leads`` are in the pool now (Eligible or Waiting). One query."""
    rows = (
        leads.exclude(status=LeadStatus.DISQUALIFIED)
        .order_by()
        .values("campaign_id", "campaign__name", "campaign__customer__name")
        .annotate(
            eligible=Count("pk", filter=Q(status=LeadStatus.ELIGIBLE)),
            waiting=Count("pk", filter=Q(status=LeadStatus.WAITING)),
        )
    )
    impacts = [
        CampaignImpact(
            campaign_id=row["campaign_id"],
            campaign=row["campaign__name"],
            customer=row["campaign__customer__name"],
            eligible=row["eligible"],
            waiting=row["waiting"],
        )
        for row in rows
    ]
    return sorted(impacts, key=lambda c: (c.customer, c.campaign))


def _within_reach(leads: QuerySet[Lead], *, reach: str, campaign: Campaign | None) -> QuerySet[Lead]:
    if reach == Block.Reach.CAMPAIGN:
        return leads.filter(campaign=campaign) if campaign is not None else leads.none()
    return leads


def contacts_disqualify_impact(
    *,
    contacts: QuerySet[Contact],
    reach: str = Block.Reach.CUSTOMER,
    campaign: Campaign | None = None,
    user: User | None = None,
) -> Impact:
    """Return how many leads, per campaign, leave the pool when ``contacts`` are disqualified with ``reach``.

    A contact belongs to one customer, so a customer-wide block reaches all its leads.
    """
    leads = Lead.objects.filter(contact_id__in=contacts.order_by().values("pk"))
    return _impact(_within_reach(leads, reach=reach, campaign=campaign), user)


def accounts_disqualify_impact(
    *,
    accounts: QuerySet[Account],
    reach: str = Block.Reach.CUSTOMER,
    campaign: Campaign | None = None,
    user: User | None = None,
) -> Impact:
    """Return how many leads, per campaign, leave the pool when ``accounts`` are disqualified with ``reach``."""
    leads = Lead.objects.filter(
        contact_id__in=Contact.objects.filter(account_id__in=accounts.order_by().values("pk")).values("pk")
    )
    return _impact(_within_reach(leads, reach=reach, campaign=campaign), user)


def leads_in_pool_impact(leads: QuerySet[Lead], *, user: User | None = None) -> Impact:
    """Return how many of ``leads``, per campaign, are in the pool now (and leave it when disqualified)."""
    return _impact(leads, user)


# --- Mark Phone DNC ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SharingContact:
    """A contact that has one of the numbers, and what the mark does to its leads."""

    contact: Contact
    kind: str
    leads_leaving: int
    other_numbers: int

    @property
    def stays_reachable(self) -> bool:
        return self.leads_leaving == 0


@dataclass
class NumberImpact:
    phone: PhoneNumber
    contacts_total: int
    accounts_total: int
    customers_total: int
    contacts: list[SharingContact] = field(default_factory=list)
    already_dnc: bool = False
    # How many of the contacts sharing it the reader may see (all of them for ops).
    contacts_seen: int = 0

    @property
    def contacts_not_shown(self) -> int:
        """Return how many of the contacts the reader may see are not listed."""
        return self.contacts_seen - len(self.contacts)

    @property
    def contacts_not_seen(self) -> int:
        """Return how many of the contacts sharing it are not the reader's to see (their campaigns are others')."""
        return self.contacts_total - self.contacts_seen


@dataclass
class PhoneDncImpact(Impact):
    numbers: list[NumberImpact] = field(default_factory=list)
    numbers_total: int = 0
    leads: list[Lead] = field(default_factory=list)

    @property
    def leads_not_shown(self) -> int:
        """Return how many of the leads leaving in the campaigns shown are not listed."""
        return self.leaving - len(self.leads)


def leads_losing_their_last_number(
    *, phone_ids: Iterable[int] | QuerySet, reach: str = Block.Reach.PLATFORM, customer: Customer | None = None
) -> QuerySet[Lead]:
    """Return the leads now in the pool that become Disqualified when ``phone_ids`` are marked DNC.

    A lead leaves when none of its contact's numbers stays dialable once the marked numbers are stopped;
    within ``reach`` only (a customer-wide mark touches that customer's leads only).
    """
    sharing = ContactPhone.objects.filter(phone_id__in=phone_ids).values("contact_id")
    leads = Lead.objects.filter(contact_id__in=sharing).exclude(status=LeadStatus.DISQUALIFIED)
    if reach == Block.Reach.CUSTOMER:
        leads = leads.filter(customer=customer)
    still_dialable = dialable_phones(
        contact_ref=OuterRef("contact_id"),
        customer_ref=OuterRef(OuterRef("customer_id")),
        campaign_ref=OuterRef(OuterRef("campaign_id")),
    ).exclude(phone_id__in=phone_ids)
    return leads.filter(~Exists(still_dialable))


def phone_dnc_impact(
    *,
    phones: QuerySet[PhoneNumber],
    reach: str = Block.Reach.PLATFORM,
    customer: Customer | None = None,
    contacts_shown: int = CONTACTS_SHOWN_PER_NUMBER,
    leads_shown: int = LEADS_SHOWN,
    user: User | None = None,
) -> PhoneDncImpact:
    """Return every contact sharing each of ``phones`` and the leads that leave the pool, without writing.

    Per number: how many contacts, accounts and customers share it, and the first ``contacts_shown``
    contacts with how many of their leads leave (0 when another clean number keeps them reachable). Overall:
    the leaving leads per campaign and the first ``leads_shown`` of them. For ``user`` (an approved caller) only
    the contacts, leads and campaigns they may see are listed; the rest is counted.
    """
    phone_ids = list(phones.order_by().values_list("pk", flat=True))
    leaving = leads_losing_their_last_number(phone_ids=phone_ids, reach=reach, customer=customer)
    shown, not_seen = _seen_by(_by_campaign(leaving), user)
    impact = PhoneDncImpact(campaigns=shown, not_seen=not_seen, numbers_total=len(phone_ids))
    listed = leaving if user is None else visible(leaving, user)
    impact.leads = list(
        listed.select_related("contact__account", "campaign", "customer").order_by(
            "campaign__name", "contact__last_name", "contact__first_name", "pk"
        )[:leads_shown]
    )
    dnc_reaches = Q(reach=Block.Reach.PLATFORM)
    if reach == Block.Reach.CUSTOMER:
        dnc_reaches |= Q(reach=Block.Reach.CUSTOMER, customer=customer)
    already = set(
        Block.objects.active()
        .filter(dnc_reaches, target=Block.Target.PHONE, phone_id__in=phone_ids, reason=Block.Reason.DO_NOT_CALL)
        .values_list("phone_id", flat=True)
    )
    shown_phones = PhoneNumber.objects.filter(pk__in=phone_ids).order_by("e164")[:NUMBERS_SHOWN]
    for phone in shown_phones:
        impact.numbers.append(
            _number_impact(phone, leaving=leaving, phone_ids=phone_ids, contacts_shown=contacts_shown, user=user)
        )
        impact.numbers[-1].already_dnc = phone.pk in already
    return impact


def _number_impact(
    phone: PhoneNumber, *, leaving: QuerySet[Lead], phone_ids: list[int], contacts_shown: int, user: User | None
) -> NumberImpact:
    links = ContactPhone.objects.filter(phone=phone)
    seen = None if user is None else condition(ContactPhone, user)
    totals = links.aggregate(
        contacts=Count("contact_id", distinct=True),
        accounts=Count("contact__account_id", distinct=True),
        customers=Count("contact__customer_id", distinct=True),
        seen=Count("contact_id", distinct=True, filter=seen),
    )
    if seen is not None:
        links = links.filter(seen)
    leads_leaving = (
        leaving.filter(contact_id=OuterRef("contact_id"))
        .order_by()
        .values("contact_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    other_numbers = (
        ContactPhone.objects.filter(contact_id=OuterRef("contact_id"))
        .exclude(phone_id__in=phone_ids)
        .order_by()
        .values("contact_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        links.select_related("contact__account", "contact__customer")
        .annotate(
            leads_leaving=Coalesce(Subquery(leads_leaving, output_field=IntegerField()), Value(0)),
            other_numbers=Coalesce(Subquery(other_numbers, output_field=IntegerField()), Value(0)),
        )
        # Those who leave the pool first: they are what the confirmation is about.
        .order_by("-leads_leaving", "contact__account__name", "contact__last_name", "contact_id")[:contacts_shown]
    )
    return NumberImpact(
        phone=phone,
        contacts_total=totals["contacts"],
        accounts_total=totals["accounts"],
        customers_total=totals["customers"],
        contacts_seen=totals["seen"],
        contacts=[
            SharingContact(
                contact=row.contact,
                kind=row.get_kind_display(),
                leads_leaving=row.leads_leaving,
                other_numbers=row.other_numbers,
            )
            for row in rows
        ],
    )


# --- Undisqualify -----------------------------------------------------------------------------------


def blocks_behind(
    *, contacts: QuerySet[Contact] | None = None, accounts: QuerySet[Account] | None = None
) -> QuerySet[Block]:
    """Return the active blocks behind ``contacts`` (or every contact of ``accounts``): on the accounts, the
    contacts, their leads, their numbers and their use of a number.

    A UNION of one indexed lookup per target kind (``campaigns.rules.active_blocks_on``). A number block stops
    every contact sharing the number, so lifting it lifts it for them all; the confirmation page says so.
    """
    if accounts is not None:
        account_ids = accounts.order_by().values("pk")
        contact_ids = Contact.objects.filter(account_id__in=account_ids).values("pk")
    elif contacts is not None:
        contact_ids = contacts.order_by().values("pk")
        account_ids = Contact.objects.filter(pk__in=contact_ids).values("account_id")
    else:
        return Block.objects.none()
    return active_blocks_on(
        account=In(account_ids),
        contact=In(contact_ids),
        lead=In(Lead.objects.filter(contact_id__in=contact_ids).values("pk")),
        phone=In(ContactPhone.objects.filter(contact_id__in=contact_ids).values("phone_id")),
    )


def sharers_of_blocked_numbers(blocks: QuerySet[Block]) -> dict[int, int]:
    """Return, per phone id of the number blocks among ``blocks``, how many contacts share that number."""
    phone_ids = blocks.filter(target=Block.Target.PHONE).values("phone_id")
    return dict(
        ContactPhone.objects.filter(phone_id__in=phone_ids)
        .order_by()
        .values_list("phone_id")
        .annotate(n=Count("contact_id"))
    )


# --- A rule or a list about to change: who leaves the pool, who comes back --------------------------


SAMPLE_SHOWN = 10


@dataclass
class PoolChange:
    """What a change not yet made does to the pool: the leads that leave it, per campaign, how many of them a
    caller holds right now, the leads that come back, and a few of each by name. ``estimated`` when the
    figures come from a sample scaled up (a big file), so every page says "about"."""

    campaigns: list[CampaignImpact] = field(default_factory=list)
    leased_now: int = 0
    coming_back: int = 0
    leaving_sample: list[Lead] = field(default_factory=list)
    back_sample: list[Lead] = field(default_factory=list)
    estimated: bool = False

    @property
    def leaving(self) -> int:
        return sum(c.leaving for c in self.campaigns)

    def scaled(self, factor: float) -> PoolChange:
        """Return these figures multiplied by ``factor`` (a sample's share of the whole), marked estimated."""
        if factor == 1:
            return self
        return PoolChange(
            campaigns=[
                CampaignImpact(
                    campaign_id=c.campaign_id,
                    campaign=c.campaign,
                    customer=c.customer,
                    eligible=round(c.eligible * factor),
                    waiting=round(c.waiting * factor),
                )
                for c in self.campaigns
            ],
            leased_now=round(self.leased_now * factor),
            coming_back=round(self.coming_back * factor),
            leaving_sample=self.leaving_sample,
            back_sample=self.back_sample,
            estimated=True,
        )


def leads_coming_back(*, lifted: QuerySet[Block]) -> QuerySet[Lead]:
    """Return the Disqualified leads that ``lifted`` (active blocks about to be lifted) alone stop: no other
    active block stops them and a number is left to dial, so lifting them brings the leads back to the pool."""
    others = Block.objects.active().exclude(pk__in=lifted.order_by().values("pk"))
    dialable = dialable_phones(
        contact_ref=OuterRef("contact_id"),
        customer_ref=OuterRef(OuterRef("customer_id")),
        campaign_ref=OuterRef(OuterRef("campaign_id")),
    )
    return (
        leads_reached_by(lifted)
        .filter(status=LeadStatus.DISQUALIFIED)
        .exclude(lead_stopped_by(others))
        .filter(Exists(dialable))
    )


def pool_change(*, leaving: QuerySet[Lead], coming_back: QuerySet[Lead] | None = None) -> PoolChange:
    """Return what happens to the pool when ``leaving`` (any leads; those in the pool now leave it) are stopped
    and ``coming_back`` are freed. A handful of queries whatever the numbers."""
    in_pool = leaving.exclude(status=LeadStatus.DISQUALIFIED)
    back = coming_back if coming_back is not None else Lead.objects.none()
    named = ("contact__account", "campaign")
    return PoolChange(
        campaigns=_by_campaign(in_pool),
        leased_now=in_pool.filter(leased_to__isnull=False).count(),
        coming_back=back.count(),
        leaving_sample=list(in_pool.select_related(*named).order_by("pk")[:SAMPLE_SHOWN]),
        back_sample=list(back.select_related(*named).order_by("pk")[:SAMPLE_SHOWN]),
    )

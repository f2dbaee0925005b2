"""The Account Details page: an account, a page of its contacts with their numbers, emails and leads, and
every block (active and lifted) on any of them, each with its sentence.

The number of queries does not grow with the number of contacts: one per kind of row for the page shown.
Why a lead is stopped is ``explain_many`` for the page's leads; a Disqualified lead that no block
explains (a suppression whose matching has not run yet) falls back to ``explain`` itself, so a catch-all
is never shown. Each campaign says who is approved to call it, and each lead who holds its lease and until when.

An approved caller (``user`` without ``work_every_campaign``) reads the page within their scope
(``campaigns.selectors.scope``): the account's contacts with a lead in one of their campaigns, those leads,
the blocks on them that reach their leads, worded for them; of the account's leads in other campaigns only
how many there are.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q

from campaigns.models import Account, Block, CallerApproval, ContactEmail, ContactPhone, Lead, LeadStatus, User
from campaigns.rules import In, block_on, blocks_on_any
from campaigns.selectors.explaining import (
    OPS,
    SENTENCE_RELATIONS,
    Audience,
    CallerAudience,
    block_badge,
    block_rank,
    block_sentence,
    explain,
    explain_many,
    reason_badge,
    waiting_sentence,
)
from campaigns.selectors.scope import audience_for, visible

CONTACTS_PER_PAGE = 25
BLOCK_RELATIONS = (*SENTENCE_RELATIONS, "lifted_by", "evidence_type")


@dataclass(frozen=True)
class Badge:
    """A reason, short: a few words that link (``block_id``) or expand (``sentence``) to its one sentence."""

    words: str
    sentence: str
    block_id: int | None = None


def leads_reasons(leads: list[Lead], *, audience: Audience = OPS) -> dict[int, list[Badge]]:
    """Return, per lead (in order), what stops it as badges with their sentences: ``explain_many`` for the page,
    and ``explain`` itself for a Disqualified lead that no block explains (a suppression not matched yet)."""
    found = explain_many(leads, audience=audience)
    reasons = {}
    for lead in leads:
        mine = found[lead.pk]
        if not mine and lead.status == LeadStatus.DISQUALIFIED:
            mine = explain(lead, audience=audience)
        reasons[lead.pk] = [
            Badge(words=reason_badge(r, audience=audience), sentence=r.message, block_id=r.block_id) for r in mine
        ]
    return reasons


def callers_by_campaign(campaign_ids) -> dict[int, list[User]]:
    """Return, per campaign id, the callers approved for it now, by name (one query; none for no campaign)."""
    campaign_ids = set(campaign_ids)
    found: dict[int, list[User]] = defaultdict(list)
    if not campaign_ids:
        return found
    for approval in (
        CallerApproval.objects.in_force()
        .filter(campaign_id__in=campaign_ids)
        .select_related("caller")
        .order_by("caller__first_name", "caller__last_name", "caller__username")
    ):
        found[approval.campaign_id].append(approval.caller)
    return found


@dataclass(frozen=True)
class BlockRow:
    block: Block
    sentence: str
    badge: str = ""
    # Whether the reader may read the block's own words (its evidence, its lift reason): not an approved caller's
    # when the block was made outside their campaigns (``CallerAudience.made_within``).
    full: bool = True

    @property
    def is_active(self) -> bool:
        return self.block.lifted_at is None


@dataclass
class NumberRow:
    link: ContactPhone
    stopped_by: list[Badge] = field(default_factory=list)

    @property
    def dialable(self) -> bool:
        return not self.stopped_by


@dataclass
class LeadRow:
    lead: Lead
    reasons: list[Badge] = field(default_factory=list)

    @property
    def waiting(self) -> str:
        return waiting_sentence(self.lead) if self.lead.status == LeadStatus.WAITING else ""


@dataclass
class ContactRow:
    contact: object
    numbers: list[NumberRow] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    leads: list[LeadRow] = field(default_factory=list)
    # The blocks on the contact, its leads and numbers, as badges: each sentence is printed once, in ``blocks``.
    blocks: list[BlockRow] = field(default_factory=list)


@dataclass
class StatusCount:
    campaign: str
    eligible: int
    waiting: int
    disqualified: int
    callers: list[User] = field(default_factory=list)


@dataclass
class AccountDetails:
    account: Account
    account_blocks: list[BlockRow]
    leads_by_campaign: list[StatusCount]
    page: Page
    contacts: list[ContactRow]
    # The account's leads in campaigns the reader does not work (always 0 for ops): counted, never shown.
    leads_not_seen: int = 0
    # Every block on the page's contacts, their leads and numbers, once each (a shared number's Do Not Call is
    # one block however many contacts share it): the one place its sentence is printed.
    blocks: list[BlockRow] = field(default_factory=list)


def _leads_by_campaign(account: Account, audience: Audience) -> tuple[list[StatusCount], int]:
    """Return the account's leads by campaign the reader works, with each campaign's callers, and how many of its
    leads are in campaigns they do not work. Two queries."""
    rows = (
        Lead.objects.filter(contact__account=account)
        .order_by()
        .values("campaign_id", "campaign__name")
        .annotate(
            eligible=Count("pk", filter=Q(status=LeadStatus.ELIGIBLE)),
            waiting=Count("pk", filter=Q(status=LeadStatus.WAITING)),
            disqualified=Count("pk", filter=Q(status=LeadStatus.DISQUALIFIED)),
        )
        .order_by("campaign__name")
    )
    seen, not_seen = [], 0
    for row in rows:
        if isinstance(audience, CallerAudience) and row["campaign_id"] not in audience.campaign_ids:
            not_seen += row["eligible"] + row["waiting"] + row["disqualified"]
        else:
            seen.append(row)
    callers = callers_by_campaign(row["campaign_id"] for row in seen)
    counts = [
        StatusCount(
            campaign=row["campaign__name"],
            eligible=row["eligible"],
            waiting=row["waiting"],
            disqualified=row["disqualified"],
            callers=callers.get(row["campaign_id"], []),
        )
        for row in seen
    ]
    return counts, not_seen


def _block_row(block: Block, audience: Audience) -> BlockRow:
    full = not isinstance(audience, CallerAudience) or audience.made_within(block)
    return BlockRow(
        block=block,
        sentence=block_sentence(block, audience=audience),
        badge=block_badge(block, audience=audience),
        full=full,
    )


def account_details(
    account: Account, *, user: User | None = None, page_number: int | str = 1, per_page: int = CONTACTS_PER_PAGE
) -> AccountDetails:
    """Return one page of ``account``'s details as ``user`` may read them (everything when None or ops); a
    constant number of queries whatever its size."""

    def seen(queryset):
        return queryset if user is None else visible(queryset, user)

    audience = OPS if user is None else audience_for(user)
    leads_by_campaign, leads_not_seen = _leads_by_campaign(account, audience)
    account_blocks = list(
        seen(Block.objects.filter(target=Block.Target.ACCOUNT, account=account)).select_related(*BLOCK_RELATIONS)
    )
    paginator = Paginator(seen(account.contacts.order_by("last_name", "first_name", "pk")), per_page)
    page = paginator.get_page(page_number)
    contacts = list(page.object_list)
    contact_ids = [c.pk for c in contacts]

    links = list(ContactPhone.objects.filter(contact_id__in=contact_ids).select_related("phone").order_by("pk"))
    emails = ContactEmail.objects.filter(contact_id__in=contact_ids).values_list("contact_id", "email")
    leads = list(
        seen(Lead.objects.filter(contact_id__in=contact_ids))
        .select_related("campaign", "customer", "leased_to")
        .order_by("campaign__name", "pk")
    )
    phone_ids = {link.phone_id for link in links}
    # Number blocks of other customers are none of this page's business; platform ones are everyone's.
    this_customer = Q(reach=Block.Reach.PLATFORM) | Q(customer_id=account.customer_id)
    subject = {"lead": In([lead.pk for lead in leads]), "contact": In(contact_ids), "phone": In(phone_ids)}
    blocks = list(
        seen(
            Block.objects.filter(
                blocks_on_any((Block.Target.LEAD, Block.Target.CONTACT, Block.Target.CONTACT_PHONE), **subject)
                | (block_on(Block.Target.PHONE, **subject) & this_customer)
            )
        ).select_related(*BLOCK_RELATIONS)
    )

    rows = {c.pk: ContactRow(contact=c) for c in contacts}
    for contact in contacts:
        contact.account = account
    for contact_id, email in emails:
        rows[contact_id].emails.append(email)
    by_contact_phone: dict[tuple[int, int], list[Block]] = defaultdict(list)
    by_phone: dict[int, list[Block]] = defaultdict(list)
    by_contact: dict[int, list[Block]] = defaultdict(list)
    by_lead: dict[int, list[Block]] = defaultdict(list)
    for block in blocks:
        if block.target == Block.Target.PHONE:
            by_phone[block.phone_id].append(block)
        elif block.target == Block.Target.CONTACT_PHONE:
            by_contact_phone[(block.contact_id, block.phone_id)].append(block)
            by_contact[block.contact_id].append(block)
        elif block.target == Block.Target.CONTACT:
            by_contact[block.contact_id].append(block)
        else:
            by_lead[block.lead_id].append(block)

    links_by_contact: dict[int, list[ContactPhone]] = defaultdict(list)
    for link in links:
        links_by_contact[link.contact_id].append(link)
        number_blocks = sorted(
            [b for b in by_phone[link.phone_id] + by_contact_phone[(link.contact_id, link.phone_id)] if b.is_active],
            key=block_rank,
        )
        rows[link.contact_id].numbers.append(
            NumberRow(
                link=link,
                stopped_by=[
                    Badge(words=block_badge(b, audience=audience), sentence="", block_id=b.pk) for b in number_blocks
                ],
            )
        )

    lead_ids_by_contact: dict[int, list[int]] = defaultdict(list)
    for lead in leads:
        lead.contact = rows[lead.contact_id].contact
        lead_ids_by_contact[lead.contact_id].append(lead.pk)
    reasons = leads_reasons(leads, audience=audience)
    for lead in leads:
        rows[lead.contact_id].leads.append(LeadRow(lead=lead, reasons=reasons[lead.pk]))

    block_rows: dict[int, BlockRow] = {}

    def once(block: Block) -> BlockRow:
        if block.pk not in block_rows:
            block_rows[block.pk] = _block_row(block, audience)
        return block_rows[block.pk]

    for contact_id, row in rows.items():
        mine = by_contact[contact_id] + [b for pk in lead_ids_by_contact[contact_id] for b in by_lead[pk]]
        mine += [b for link in links_by_contact[contact_id] for b in by_phone[link.phone_id]]
        row.blocks = [once(b) for b in sorted(set(mine), key=lambda b: (b.lifted_at is not None, block_rank(b)))]
    return AccountDetails(
        account=account,
        account_blocks=[
            _block_row(b, audience)
            for b in sorted(account_blocks, key=lambda b: (b.lifted_at is not None, block_rank(b)))
        ],
        leads_by_campaign=leads_by_campaign,
        page=page,
        contacts=list(rows.values()),
        leads_not_seen=leads_not_seen,
        blocks=sorted(block_rows.values(), key=lambda r: (not r.is_active, block_rank(r.block))),
    )

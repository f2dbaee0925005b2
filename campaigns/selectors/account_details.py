"""The Account Details page: an account, a page of its contacts with their numbers, emails and leads, and
every block (active and lifted) on any of them, each with its sentence.

The number of queries does not grow with the number of contacts: one per kind of row for the page shown.
Why a lead is stopped is ``explain_many`` for the page's leads; a Disqualified lead that no block
explains (a suppression whose matching has not run yet) falls back to ``explain`` itself, so a catch-all
is never shown.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q

from campaigns.models import Account, Block, ContactEmail, ContactPhone, Lead, LeadStatus
from campaigns.rules import In, block_on, blocks_on_any
from campaigns.selectors.explaining import block_rank, block_sentence, explain, explain_many

CONTACTS_PER_PAGE = 25
BLOCK_RELATIONS = (
    "actor",
    "lifted_by",
    "customer",
    "campaign",
    "phone",
    "contact",
    "account",
    "lead__contact",
    "evidence_type",
)


def leads_reasons(leads: list[Lead]) -> dict[int, list[str]]:
    """Return, per lead (in order), the sentences of what stops it: ``explain_many`` for the page, and
    ``explain`` itself for a Disqualified lead that no block explains (a suppression not matched yet)."""
    found = explain_many(leads)
    reasons = {}
    for lead in leads:
        sentences = [r.message for r in found[lead.pk]]
        if not sentences and lead.status == LeadStatus.DISQUALIFIED:
            sentences = [r.message for r in explain(lead)]
        reasons[lead.pk] = sentences
    return reasons


@dataclass(frozen=True)
class BlockRow:
    block: Block
    sentence: str

    @property
    def is_active(self) -> bool:
        return self.block.lifted_at is None


@dataclass
class NumberRow:
    link: ContactPhone
    stopped_by: list[str] = field(default_factory=list)

    @property
    def dialable(self) -> bool:
        return not self.stopped_by


@dataclass
class LeadRow:
    lead: Lead
    reasons: list[str] = field(default_factory=list)


@dataclass
class ContactRow:
    contact: object
    numbers: list[NumberRow] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    leads: list[LeadRow] = field(default_factory=list)
    blocks: list[BlockRow] = field(default_factory=list)


@dataclass
class StatusCount:
    campaign: str
    eligible: int
    waiting: int
    disqualified: int


@dataclass
class AccountDetails:
    account: Account
    account_blocks: list[BlockRow]
    leads_by_campaign: list[StatusCount]
    page: Page
    contacts: list[ContactRow]


def account_details(
    account: Account, *, page_number: int | str = 1, per_page: int = CONTACTS_PER_PAGE
) -> AccountDetails:
    """Return one page of ``account``'s details; a constant number of queries whatever its size."""
    leads_by_campaign = [
        StatusCount(
            campaign=row["campaign__name"],
            eligible=row["eligible"],
            waiting=row["waiting"],
            disqualified=row["disqualified"],
        )
        for row in Lead.objects.filter(contact__account=account)
        .order_by()
        .values("campaign__name")
        .annotate(
            eligible=Count("pk", filter=Q(status=LeadStatus.ELIGIBLE)),
            waiting=Count("pk", filter=Q(status=LeadStatus.WAITING)),
            disqualified=Count("pk", filter=Q(status=LeadStatus.DISQUALIFIED)),
        )
        .order_by("campaign__name")
    ]
    account_blocks = list(
        Block.objects.filter(target=Block.Target.ACCOUNT, account=account).select_related(*BLOCK_RELATIONS)
    )
    paginator = Paginator(account.contacts.order_by("last_name", "first_name", "pk"), per_page)
    page = paginator.get_page(page_number)
    contacts = list(page.object_list)
    contact_ids = [c.pk for c in contacts]

    links = list(ContactPhone.objects.filter(contact_id__in=contact_ids).select_related("phone").order_by("pk"))
    emails = ContactEmail.objects.filter(contact_id__in=contact_ids).values_list("contact_id", "email")
    leads = list(
        Lead.objects.filter(contact_id__in=contact_ids)
        .select_related("campaign", "customer")
        .order_by("campaign__name", "pk")
    )
    phone_ids = {link.phone_id for link in links}
    # Number blocks of other customers are none of this page's business; platform ones are everyone's.
    this_customer = Q(reach=Block.Reach.PLATFORM) | Q(customer_id=account.customer_id)
    subject = {"lead": In([lead.pk for lead in leads]), "contact": In(contact_ids), "phone": In(phone_ids)}
    blocks = list(
        Block.objects.filter(
            blocks_on_any((Block.Target.LEAD, Block.Target.CONTACT, Block.Target.CONTACT_PHONE), **subject)
            | (block_on(Block.Target.PHONE, **subject) & this_customer)
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
            NumberRow(link=link, stopped_by=[block_sentence(b) for b in number_blocks])
        )

    lead_ids_by_contact: dict[int, list[int]] = defaultdict(list)
    for lead in leads:
        lead.contact = rows[lead.contact_id].contact
        lead_ids_by_contact[lead.contact_id].append(lead.pk)
    reasons = leads_reasons(leads)
    for lead in leads:
        rows[lead.contact_id].leads.append(LeadRow(lead=lead, reasons=reasons[lead.pk]))

    for contact_id, row in rows.items():
        mine = by_contact[contact_id] + [b for pk in lead_ids_by_contact[contact_id] for b in by_lead[pk]]
        mine += [b for link in links_by_contact[contact_id] for b in by_phone[link.phone_id]]
        row.blocks = [
            BlockRow(block=b, sentence=block_sentence(b))
            for b in sorted(set(mine), key=lambda b: (b.lifted_at is not None, block_rank(b)))
        ]
    return AccountDetails(
        account=account,
        account_blocks=[
            BlockRow(block=b, sentence=block_sentence(b))
            for b in sorted(account_blocks, key=lambda b: (b.lifted_at is not None, block_rank(b)))
        ],
        leads_by_campaign=leads_by_campaign,
        page=page,
        contacts=list(rows.values()),
    )

"""The ops workflows of the back office: Disqualify, Mark Phone DNC, Customer Do Not Call, Undisqualify.

Each workflow writes its blocks set-based (one INSERT for a selection of any size, then one status
recompute for every lead they reach), so disqualifying an account of 2,000 contacts or marking a
switchboard shared by 5,000 contacts is a handful of statements. ``block_create`` stays the one-block
path (and the call services use it); these are its many-targets counterpart and follow the same rules:
never two active blocks for the same target, source, reach and evidence; a repeat call changes nothing.

What a workflow *will* change, before it runs, is ``campaigns.selectors.impact``'s question.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from campaigns.models import DISQUALIFY_REASONS, Account, Block, Campaign, Contact, Customer, PhoneNumber, User
from campaigns.selectors.explaining import SENTENCE_RELATIONS, end_words
from campaigns.services.actors import Actor, actor_fields, actor_may
from campaigns.services.blocks import EXPIRY_JOB, blocks_lift, leads_reached_by
from campaigns.services.caller_scope import (
    acting_caller,
    caller_role,
    check_caller_campaign,
    check_caller_customer,
    check_caller_sees,
)
from campaigns.services.inserting import rows_insert_select
from campaigns.services.statuses import lead_statuses_recompute
from campaigns.services.undisqualify import (
    LIFT_PERMISSION,
    Kept,
    UndisqualifyResult,
    disqualified_leads_reached,
    leads_back_in_pool,
    why_actor_may_not_lift,
)
from leadops.db import id_list, ids_query
from leadops.errors import LeadopsError

DISQUALIFY_REACHES = (Block.Reach.CUSTOMER, Block.Reach.CAMPAIGN)
PHONE_DNC_REACHES = (Block.Reach.PLATFORM, Block.Reach.CUSTOMER)


@dataclass
class BlocksMade:
    """What a workflow recorded: the active blocks for the selection, and how many of them are new."""

    blocks: list[Block] = field(default_factory=list)
    created: int = 0
    leads_changed: int = 0


def _check_reason(reason: str, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    if reason not in allowed:
        labels = ", ".join(str(Block.Reason(r).label) for r in allowed)
        raise LeadopsError(f"Choose one of: {labels}.", field="reason")


def _scope_for(
    *, customer_ids: set[int], reach: str, campaign: Campaign | None
) -> tuple[Customer | None, Campaign | None]:
    """Return the (customer, campaign) a block of ``reach`` records for targets of ``customer_ids``."""
    if reach == Block.Reach.PLATFORM:
        return None, None
    if len(customer_ids) > 1:
        raise LeadopsError("Choose contacts or accounts of one customer at a time.", field="selection")
    if reach == Block.Reach.CAMPAIGN:
        if campaign is None:
            raise LeadopsError("Choose the campaign.", field="campaign")
        if customer_ids and campaign.customer_id not in customer_ids:
            raise LeadopsError(f"The campaign {campaign} is not this customer's.", field="campaign")
        return campaign.customer, campaign
    if not customer_ids:
        raise LeadopsError("A customer-wide block needs its customer.", field="customer")
    return Customer.objects.get(pk=next(iter(customer_ids))), None


def _blocks_create_many(
    *,
    target: str,
    target_ids: list[int],
    source: str,
    reason: str,
    reach: str,
    customer: Customer | None,
    campaign: Campaign | None,
    actor: Actor,
    note: str = "",
    note_shown: bool = False,
    evidence_text: str = "",
    caller_campaign: Campaign | None = None,
    ends_at: datetime | None = None,
) -> BlocksMade:
    """Record one block per target id (no evidence) and recompute every lead they reach, set-based.

    A target that already has a block in force of this source and reach keeps it: the partial unique
    constraint makes ``ON CONFLICT DO NOTHING`` skip it, also against a concurrent transaction. Unless that
    block ends before ``ends_at`` (or the new ones have no end): the longer one replaces it, and the shorter
    is lifted saying so. One whose end has passed but that the expiry job has not lifted yet is lifted by
    expiry first. ``ends_at`` (in the future) ends the new blocks by themselves.
    """
    column = {
        Block.Target.CONTACT: "contact_id",
        Block.Target.ACCOUNT: "account_id",
        Block.Target.PHONE: "phone_id",
        Block.Target.LEAD: "lead_id",
    }[target]
    same = {
        "target": target,
        "source": source,
        "reach": reach,
        "customer": customer,
        "campaign": campaign,
        "evidence_type__isnull": True,
    }
    now = timezone.now()
    if ends_at is not None and ends_at <= now:
        raise LeadopsError("A block's end must be in the future.", field="ends_at")
    template = Block(
        target=target,
        source=source,
        reason=reason,
        reach=reach,
        customer=customer,
        campaign=campaign,
        note=note,
        note_shown=note_shown,
        evidence_text=evidence_text,
        caller_campaign=caller_campaign,
        ends_at=ends_at,
        created_at=now,
        **actor_fields(actor, user_field="actor", job_field="actor_job"),
    )
    targets = sorted(set(target_ids))
    with transaction.atomic():
        # The blocks already there that end: one that ended is lifted by expiry, one that ends sooner than the new
        # ones is replaced. Most selections have none (one statement).
        ending = list(
            Block.objects.active()
            .filter(**same, **{f"{column}__in": ids_query(targets)}, ends_at__isnull=False)
            .values_list("pk", "ends_at")
        )
        ended = [pk for pk, end in ending if end <= now]
        shorter = [pk for pk, end in ending if end > now and (ends_at is None or end < ends_at)]
        if ended:
            blocks_lift(
                blocks=Block.objects.filter(pk__in=ended),
                actor=EXPIRY_JOB,
                reason="Lifted by expiry: the end it was made with has passed.",
                now=now,
            )
        if shorter:
            longer = f"until {end_words(ends_at)}" if ends_at is not None else "without an end"
            blocks_lift(
                blocks=Block.objects.filter(pk__in=shorter),
                actor=actor,
                reason=f"Replaced by a block {longer}.",
                now=now,
            )
        created = _blocks_insert(template, column=column, target_ids=targets)
        changed = 0
        if created:
            changed = lead_statuses_recompute(
                leads=leads_reached_by(Block.objects.filter(pk__in=ids_query(created))), now=now
            )
        mine = Block.objects.active().filter(**same, **{f"{column}__in": ids_query(targets)})
        blocks = list(mine.select_related(*SENTENCE_RELATIONS))
    return BlocksMade(blocks=blocks, created=len(created), leads_changed=changed)


def _blocks_insert(template: Block, *, column: str, target_ids: list[int]) -> list[int]:
    """Insert one copy of ``template`` per id in ``target_ids`` as its ``column``, skipping a target that
    already has such an active block, in one statement; return the ids of the blocks inserted."""
    if transaction.get_connection().vendor == "postgresql":
        ids = "SELECT unnest(CAST(%s AS bigint[])) AS target_id"
    else:
        ids = "SELECT value AS target_id FROM json_each(%s)"
    return rows_insert_select(
        template,
        columns={column: "t.target_id"},
        select_from=f"FROM ({ids}) t WHERE TRUE",
        params=[id_list(target_ids)],
        skip_conflicts=True,
    )


def contacts_disqualify(
    *,
    contacts: QuerySet[Contact],
    reason: str,
    reach: str = Block.Reach.CUSTOMER,
    campaign: Campaign | None = None,
    actor: Actor,
    note: str = "",
    note_shown: bool = False,
    ends_at: datetime | None = None,
) -> BlocksMade:
    """Disqualify ``contacts`` for their customer, or for one ``campaign``, with one of ``DISQUALIFY_REASONS``;
    until ``ends_at`` when given ("do not call for 90 days"), when the blocks end by themselves.

    Every lead of those contacts within the reach leaves the pool (Disqualified). A repeat call finds the
    blocks there and changes nothing. An approved caller disqualifies only contacts with a lead in a campaign they
    are approved for, and for one campaign only one of those (else ``caller_not_approved``, nothing changed);
    for the customer, it stops the contact's leads in the customer's other campaigns too, as it does for ops.
    """
    return _disqualify(
        target=Block.Target.CONTACT,
        rows=contacts,
        reason=reason,
        reach=reach,
        campaign=campaign,
        actor=actor,
        note=note,
        note_shown=note_shown,
        ends_at=ends_at,
    )


def accounts_disqualify(
    *,
    accounts: QuerySet[Account],
    reason: str,
    reach: str = Block.Reach.CUSTOMER,
    campaign: Campaign | None = None,
    actor: Actor,
    note: str = "",
    note_shown: bool = False,
    ends_at: datetime | None = None,
) -> BlocksMade:
    """Disqualify whole ``accounts`` (until ``ends_at`` when given): every lead of every contact there, now and
    imported later, leaves the pool within the reach. One block per account. A repeat call changes nothing. An
    approved caller disqualifies only accounts with a lead in a campaign they are approved for (see
    ``contacts_disqualify``)."""
    return _disqualify(
        target=Block.Target.ACCOUNT,
        rows=accounts,
        reason=reason,
        reach=reach,
        campaign=campaign,
        actor=actor,
        note=note,
        note_shown=note_shown,
        ends_at=ends_at,
    )


def _disqualify(
    *,
    target: str,
    rows: QuerySet,
    reason: str,
    reach: str,
    campaign: Campaign | None,
    actor: Actor,
    note: str,
    note_shown: bool,
    ends_at: datetime | None,
) -> BlocksMade:
    _check_reason(reason, DISQUALIFY_REASONS)
    if reach not in DISQUALIFY_REACHES:
        raise LeadopsError("Disqualify for the customer or for one campaign.", field="reach")
    caller = acting_caller(actor)
    check_caller_sees(caller, rows, what=target)
    pairs = list(rows.order_by().values_list("pk", "customer_id"))
    customer, campaign = _scope_for(customer_ids={c for _, c in pairs}, reach=reach, campaign=campaign)
    check_caller_campaign(caller, campaign)
    selection = {"contacts" if target == Block.Target.CONTACT else "accounts": rows}
    return _blocks_create_many(
        target=target,
        target_ids=[pk for pk, _ in pairs],
        source=Block.Source.OPS_DISQUALIFY,
        reason=reason,
        reach=reach,
        customer=customer,
        campaign=campaign,
        actor=actor,
        note=note,
        note_shown=note_shown,
        caller_campaign=caller_role(caller, campaign=campaign, **selection),
        ends_at=ends_at,
    )


def phone_numbers_mark_dnc(
    *,
    phones: QuerySet[PhoneNumber],
    actor: Actor,
    reach: str = Block.Reach.PLATFORM,
    customer: Customer | None = None,
    note: str = "",
    note_shown: bool = False,
) -> BlocksMade:
    """Put ``phones`` on the Do-Not-Call list: platform-wide by default (the person asked), or for one customer.

    Every contact with such a number loses it; a contact left with no clean number has its leads
    Disqualified, one with another clean number stays in the pool through that one. A repeat call changes
    nothing. An approved caller marks only numbers of contacts they may see (a lead in a campaign they are
    approved for), and for one customer only a customer of those campaigns (else ``caller_not_approved``); the
    mark stops every contact sharing the number, whoever makes it.
    """
    if reach not in PHONE_DNC_REACHES:
        raise LeadopsError("Mark the numbers DNC platform-wide or for one customer.", field="reach")
    if reach == Block.Reach.CUSTOMER and customer is None:
        raise LeadopsError("Choose the customer the numbers are DNC for.", field="customer")
    caller = acting_caller(actor)
    check_caller_sees(caller, phones, what="number")
    if reach == Block.Reach.CUSTOMER:
        check_caller_customer(caller, customer)
    return _blocks_create_many(
        target=Block.Target.PHONE,
        target_ids=list(phones.order_by().values_list("pk", flat=True)),
        source=Block.Source.OPS_PHONE_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=reach,
        customer=customer if reach == Block.Reach.CUSTOMER else None,
        campaign=None,
        actor=actor,
        note=note,
        note_shown=note_shown,
        caller_campaign=caller_role(caller, phones=phones),
    )


def customer_dnc_mark(
    *,
    contacts: QuerySet[Contact] | None = None,
    accounts: QuerySet[Account] | None = None,
    actor: Actor,
    note: str = "",
    note_shown: bool = False,
    ends_at: datetime | None = None,
) -> BlocksMade:
    """Record the customer's own Do Not Call instruction for ``contacts`` or ``accounts`` (one of the two),
    until ``ends_at`` when given ("call back after the budget cycle").

    The block's source is "customer" and its reach the customer: the customer's portal will lift it, as
    ops may on the customer's word. A customer's own user (the portal) marks only that customer's contacts
    and accounts. A repeat call changes nothing.
    """
    if (contacts is None) == (accounts is None):
        raise LeadopsError("Mark either contacts or accounts Do Not Call.", field="selection")
    target, selection = (Block.Target.CONTACT, contacts) if contacts is not None else (Block.Target.ACCOUNT, accounts)
    rows = list(selection.order_by().values_list("pk", "customer_id"))
    customer, _ = _scope_for(customer_ids={c for _, c in rows}, reach=Block.Reach.CUSTOMER, campaign=None)
    if isinstance(actor, User) and actor.customer_id is not None and actor.customer_id != customer.pk:
        raise LeadopsError("You can mark only your own contacts and accounts Do Not Call.", field="selection")
    caller = acting_caller(actor)
    check_caller_sees(caller, selection, what=target)
    return _blocks_create_many(
        target=target,
        target_ids=[pk for pk, _ in rows],
        source=Block.Source.CUSTOMER_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.CUSTOMER,
        customer=customer,
        campaign=None,
        actor=actor,
        note=note,
        note_shown=note_shown,
        caller_campaign=caller_role(caller, **{"contacts" if contacts is not None else "accounts": selection}),
        ends_at=ends_at,
    )


def blocks_undisqualify(*, blocks: QuerySet[Block], actor: Actor, reason: str) -> UndisqualifyResult:
    """Lift the active ones of ``blocks`` that ``actor`` may lift; report the others with why.

    The contact and account counterpart of ``lead_undisqualify``: the caller chooses the blocks (those
    behind a contact or an account, see ``campaigns.selectors.impact.blocks_behind``). A platform-wide Do
    Not Call needs the 'lift platform DNC' permission. A repeat call finds nothing left and changes nothing.
    """
    if not (reason or "").strip():
        raise LeadopsError("Say why the blocks are lifted.", field="reason")
    if actor_may(actor, LIFT_PERMISSION):
        # Only one who may lift could lift something outside their campaigns; anyone else is told per block.
        check_caller_sees(acting_caller(actor), blocks, what="block")
    result = UndisqualifyResult()
    with transaction.atomic():
        active = list(
            Block.objects.filter(pk__in=blocks.active().values("pk"))
            .select_for_update(of=("self",))
            .order_by("pk")
            .select_related("actor", "customer", "campaign", "contact", "account", "phone", "lead__contact")
        )
        liftable = []
        for block in active:
            why = why_actor_may_not_lift(block, actor=actor)
            if why:
                result.kept.append(Kept(block=block, why=why))
            else:
                liftable.append(block.pk)
        if liftable:
            disqualified_before = disqualified_leads_reached(liftable)
            blocks_lift(blocks=Block.objects.filter(pk__in=liftable), actor=actor, reason=reason)
            result.came_back = leads_back_in_pool(disqualified_before)
            result.lifted = list(
                Block.objects.filter(pk__in=liftable).select_related(
                    "actor", "customer", "campaign", "contact", "account", "phone", "lead__contact"
                )
            )
    return result

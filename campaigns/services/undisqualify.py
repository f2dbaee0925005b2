"""Undisqualify: unwind every block behind a lead in one step, and say what could not be lifted."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet

from campaigns.models import Block, Lead, LeadStatus
from campaigns.rules import leads_reached_by
from campaigns.selectors.explaining import blocks_stopping_many, explain, explain_many
from campaigns.services.actors import Actor, actor_may
from campaigns.services.blocks import blocks_lift
from campaigns.services.caller_scope import acting_caller, check_caller_sees
from campaigns.services.statuses import lead_statuses_recompute
from leadops.db import ids_query
from leadops.errors import LeadopsError

LIFT_PERMISSION = "campaigns.lift_block"
LIFT_PLATFORM_DNC_PERMISSION = "campaigns.lift_platform_dnc"


@dataclass
class Kept:
    block: Block | None
    why: str


@dataclass
class UndisqualifyResult:
    lifted: list[Block] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)
    status: str = ""
    # Every lead the whole undisqualify brought back into a pool, whichever it was started from: one lifted
    # number shared by five contacts frees five contacts' leads (ids, in order).
    came_back: list[int] = field(default_factory=list)


def disqualified_leads_reached(block_ids: list[int]) -> list[int]:
    """Return the ids of the Disqualified leads ``block_ids`` may reach (one statement; ``leads_reached_by``)."""
    if not block_ids:
        return []
    reached = leads_reached_by(Block.objects.filter(pk__in=ids_query(block_ids)))
    return list(Lead.objects.filter(pk__in=reached, status=LeadStatus.DISQUALIFIED).values_list("pk", flat=True))


def leads_back_in_pool(lead_ids: list[int]) -> list[int]:
    """Return which of ``lead_ids`` (Disqualified before a lift) are no longer Disqualified."""
    if not lead_ids:
        return []
    return sorted(
        Lead.objects.filter(pk__in=ids_query(lead_ids))
        .exclude(status=LeadStatus.DISQUALIFIED)
        .values_list("pk", flat=True)
    )


def why_actor_may_not_lift(block: Block, *, actor: Actor) -> str:
    """Return why ``actor`` may not lift ``block``, or an empty string when it may."""
    if not actor_may(actor, LIFT_PERMISSION):
        return "You do not have the permission to lift blocks (ask an Ops user)."
    if block.is_platform_dnc and not actor_may(actor, LIFT_PLATFORM_DNC_PERMISSION):
        return (
            "The person asked not to be called: lifting a platform-wide Do-Not-Call needs the "
            "'lift platform DNC' permission (Ops lead)."
        )
    return ""


def _undisqualify(
    *, leads: QuerySet[Lead], actor: Actor, reason: str, block_ids: Collection[int] | None
) -> tuple[list[Lead], dict[int, UndisqualifyResult]]:
    """Lift, in the caller's transaction, the blocks behind ``leads`` that ``actor`` may lift; recompute them.

    Return the leads (locked, in primary-key order, with their contact, campaign and customer) and each one's
    result: what was lifted, which blocks were kept and why, and the status now.
    """
    if not (reason or "").strip():
        raise LeadopsError("Say why the lead is undisqualified.", field="reason")
    if actor_may(actor, LIFT_PERMISSION):
        # Only one who may lift could lift something outside their campaigns; anyone else is told below, per block.
        check_caller_sees(acting_caller(actor), leads, what="lead")
    locked = list(
        Lead.objects.select_for_update(of=("self",))
        .filter(pk__in=leads.order_by().values("pk"))
        .select_related("contact__account", "campaign", "customer")
        .order_by("pk")
    )
    ids = [lead.pk for lead in locked]
    wanted = set(block_ids) if block_ids is not None else None
    results: dict[int, UndisqualifyResult] = {}
    liftable: dict[int, list[int]] = {}
    stopping = blocks_stopping_many(locked)
    for lead in locked:
        result = results[lead.pk] = UndisqualifyResult()
        for block in stopping[lead.pk][0]:
            if wanted is not None and block.pk not in wanted:
                continue
            why = why_actor_may_not_lift(block, actor=actor)
            if why:
                result.kept.append(Kept(block=block, why=why))
            else:
                liftable.setdefault(lead.pk, []).append(block.pk)
    to_lift = sorted({pk for pks in liftable.values() for pk in pks})
    disqualified_before = disqualified_leads_reached(to_lift)
    if to_lift:
        blocks_lift(blocks=Block.objects.filter(pk__in=ids_query(to_lift)), actor=actor, reason=reason)
        lifted = {block.pk: block for block in Block.objects.filter(pk__in=ids_query(to_lift))}
        for lead_id, pks in liftable.items():
            results[lead_id].lifted = [lifted[pk] for pk in pks]
    # Recompute even when nothing was lifted, so the status returned is the blocks' answer.
    selection = Lead.objects.filter(pk__in=ids_query(ids))
    lead_statuses_recompute(leads=selection)
    for pk, status in selection.values_list("pk", "status"):
        results[pk].status = status
    came_back = leads_back_in_pool(disqualified_before)
    for result in results.values():
        result.came_back = came_back
    return locked, results


def leads_undisqualify(
    *, leads: QuerySet[Lead], actor: Actor, reason: str, block_ids: Collection[int] | None = None
) -> dict[int, UndisqualifyResult]:
    """Lift the blocks behind each lead of ``leads`` that ``actor`` may lift, recompute, and report the rest.

    Return each lead's result by its id. ``block_ids`` narrows the lift to some of the blocks (all when
    omitted). A customer's suppression or CRM block is lifted for its target only, as an exception: the
    customer's entry stays on its list, and rematching never re-creates a block someone lifted for the same
    evidence. A lead that keeps no block is told what no lift can fix (no number to dial). One transaction:
    the same few statements whatever the number of leads (one lift, one recompute), and a failure leaves
    every block and lead as it was. A repeat call finds nothing left to lift and changes nothing.
    """
    with transaction.atomic():
        locked, results = _undisqualify(leads=leads, actor=actor, reason=reason, block_ids=block_ids)
        unexplained = [lead for lead in locked if not results[lead.pk].kept]
        for lead_id, reasons in explain_many(unexplained).items():
            results[lead_id].kept.extend(Kept(block=None, why=r.message) for r in reasons if r.block is None)
    return results


def lead_undisqualify(
    *, lead: Lead, actor: Actor, reason: str, block_ids: Collection[int] | None = None
) -> UndisqualifyResult:
    """Lift the blocks behind ``lead`` that ``actor`` may lift, recompute, and report the rest.

    ``leads_undisqualify`` for one lead, with ``explain``'s whole answer for what no lift can fix: a
    suppression entry whose matching has not run yet, an upload not yet in force, no number to dial. A
    repeat call finds nothing left to lift and changes nothing.
    """
    with transaction.atomic():
        locked, results = _undisqualify(
            leads=Lead.objects.filter(pk=lead.pk), actor=actor, reason=reason, block_ids=block_ids
        )
        if not locked:
            raise Lead.DoesNotExist(f"Lead {lead.pk} no longer exists.")
        result = results[lead.pk]
        if not result.kept:
            result.kept.extend(Kept(block=None, why=r.message) for r in explain(locked[0]) if r.block is None)
    return result

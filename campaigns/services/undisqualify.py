"""Undisqualify: unwind every block behind a lead in one step, and say what could not be lifted."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from django.db import transaction

from campaigns.models import Block, Lead
from campaigns.selectors.explaining import blocks_stopping, explain
from campaigns.services.actors import Actor, actor_may
from campaigns.services.blocks import blocks_lift
from campaigns.services.statuses import lead_statuses_recompute
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


def lead_undisqualify(
    *, lead: Lead, actor: Actor, reason: str, block_ids: Collection[int] | None = None
) -> UndisqualifyResult:
    """Lift the blocks behind ``lead`` that ``actor`` may lift, recompute, and report the rest.

    ``block_ids`` narrows the lift to some of the blocks (all when omitted). A customer's suppression or
    CRM block is lifted for this target only, as an exception: the customer's entry stays on its list, and
    rematching never re-creates a block someone lifted for the same evidence. A repeat call finds nothing
    left to lift and changes nothing.
    """
    if not (reason or "").strip():
        raise LeadopsError("Say why the lead is undisqualified.", field="reason")
    result = UndisqualifyResult()
    with transaction.atomic():
        lead = (
            Lead.objects.select_for_update(of=("self",))
            .select_related("contact__account", "campaign", "customer")
            .get(pk=lead.pk)
        )
        blocks, _ = blocks_stopping(lead)
        if block_ids is not None:
            wanted = set(block_ids)
            blocks = [b for b in blocks if b.pk in wanted]
        liftable: list[Block] = []
        for block in blocks:
            why = why_actor_may_not_lift(block, actor=actor)
            if why:
                result.kept.append(Kept(block=block, why=why))
            else:
                liftable.append(block)
        if liftable:
            blocks_lift(blocks=Block.objects.filter(pk__in=[b.pk for b in liftable]), actor=actor, reason=reason)
            result.lifted = list(Block.objects.filter(pk__in=[b.pk for b in liftable]))
        # Recompute even when nothing was lifted, so the status returned is the blocks' answer.
        lead_statuses_recompute(leads=Lead.objects.filter(pk=lead.pk))
        lead.refresh_from_db(fields=["status"])
        result.status = lead.status
        if not result.kept:
            result.kept.extend(Kept(block=None, why=r.message) for r in explain(lead) if r.block is None)
    return result

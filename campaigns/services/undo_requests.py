"""A customer asks the agency to lift a block on one of its leads; ops answer with Undisqualify or decline.

A request never lifts anything by itself: ``undo_request_lift`` runs the Undisqualify workflow's service
(``lead_undisqualify``) on the one block asked about, as the ops user answering, and records the answer only
when that block was lifted. Every step is recorded on the request: who asked, why, who answered, when, how.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.models import Block, Lead, UndoRequest, User
from campaigns.selectors.explaining import CUSTOMER, block_sentence, blocks_stopping
from campaigns.services.actors import actor_label
from campaigns.services.undisqualify import lead_undisqualify
from leadops.errors import LeadopsError

logger = logging.getLogger(__name__)

REASON_MAX = 2000


def undo_request_create(*, lead: Lead, block: Block, reason: str, actor: User) -> UndoRequest:
    """Record that ``actor`` (a user of the lead's customer) asks the agency to lift ``block``, which stops
    ``lead`` now, for ``reason``. Refused when the block does not stop the lead or is asked about already."""
    reason = (reason or "").strip()
    if not reason:
        raise LeadopsError("Say why the agency should lift it.", field="reason")
    if len(reason) > REASON_MAX:
        raise LeadopsError(f"The reason is longer than {REASON_MAX} characters.", field="reason")
    if actor.customer_id is None or actor.customer_id != lead.customer_id:
        raise LeadopsError("Only the lead's customer's users may ask to lift its blocks.", field="lead")
    stopping, _ = blocks_stopping(lead)
    if block.pk not in {b.pk for b in stopping}:
        raise LeadopsError("That reason no longer stops this lead: there is nothing to lift.", field="block")
    sentence = block_sentence(next(b for b in stopping if b.pk == block.pk), lead=lead, audience=CUSTOMER)
    try:
        with transaction.atomic():
            request = UndoRequest.objects.create(
                customer_id=lead.customer_id,
                lead=lead,
                block=block,
                sentence=sentence,
                reason=reason,
                requested_by=actor,
            )
    except IntegrityError as exc:
        raise LeadopsError("You have asked about this already; the agency has not answered yet.") from exc
    logger.info("Undo request #%s for lead #%s made by %s", request.pk, lead.pk, actor_label(actor))
    return request


def _open(request: UndoRequest) -> UndoRequest:
    locked = UndoRequest.objects.select_for_update().get(pk=request.pk)
    if locked.state != UndoRequest.State.OPEN:
        raise LeadopsError(f"This request was answered already ({locked.get_state_display().lower()}).")
    return locked


def undo_request_lift(*, request: UndoRequest, actor: User, reason: str) -> UndoRequest:
    """Answer ``request`` with Undisqualify: lift the block asked about (with ``reason``, which the customer
    reads) as ``actor``, then record the answer. Refused, with nothing changed, when the block cannot be lifted
    by ``actor`` (the workflow's own checks) or was lifted already (then decline, saying so)."""
    reason = (reason or "").strip()
    if not reason:
        raise LeadopsError("Say why it is lifted: the customer reads it.", field="reason")
    with transaction.atomic():
        locked = _open(request)
        if locked.block.lifted_at is not None:
            raise LeadopsError("That block was lifted already: decline the request and say so.", field="reason")
        result = lead_undisqualify(lead=locked.lead, actor=actor, reason=reason, block_ids=[locked.block_id])
        if locked.block_id not in {block.pk for block in result.lifted}:
            why = "; ".join(kept.why for kept in result.kept if kept.block is not None) or "it could not be lifted"
            raise LeadopsError(f"Not lifted: {why}", field="reason")
        locked.state, locked.answer = UndoRequest.State.LIFTED, reason
        locked.answered_by, locked.answered_at = actor, timezone.now()
        locked.save(update_fields=["state", "answer", "answered_by", "answered_at"])
    logger.info("Undo request #%s answered (lifted) by %s", locked.pk, actor_label(actor))
    return locked


def undo_request_decline(*, request: UndoRequest, actor: User, answer: str) -> UndoRequest:
    """Decline ``request`` with ``answer`` (the customer reads it); nothing is lifted."""
    answer = (answer or "").strip()
    if not answer:
        raise LeadopsError("Say why it is declined: the customer reads it.", field="answer")
    with transaction.atomic():
        locked = _open(request)
        locked.state, locked.answer = UndoRequest.State.DECLINED, answer
        locked.answered_by, locked.answered_at = actor, timezone.now()
        locked.save(update_fields=["state", "answer", "answered_by", "answered_at"])
    logger.info("Undo request #%s declined by %s", locked.pk, actor_label(actor))
    return locked

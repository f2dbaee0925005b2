"""What a call does to a lead: record it, apply its disposition's effect, and set meeting outcomes.

The admin (issue 4) and the dialer API call these same functions. Every one locks the lead row first, so
two writes on one lead never interleave, and ends with the one status recompute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from campaigns.models import (
    Block,
    Call,
    Campaign,
    ContactPhone,
    Disposition,
    Lead,
    Meeting,
    PhoneNumber,
    User,
)
from campaigns.rules import UNQUALIFY_REASONS, leads_reached_by, unqualifies_lead
from campaigns.selectors.callers import caller_is_approved, may_work_campaign, sees_every_campaign
from campaigns.selectors.explaining import day_words
from campaigns.services.actors import Actor, actor_fields, actor_may
from campaigns.services.blocks import BlockTarget, block_create, blocks_lift
from campaigns.services.caller_scope import acting_caller, check_caller_sees
from campaigns.services.inserting import rows_insert_select
from campaigns.services.statuses import lead_statuses_recompute
from leadops.db import id_list, ids_query, in_ids
from leadops.errors import LeadopsError
from leadops.normalizing import NormalizationError, format_phone, normalize_phone

# A booked meeting keeps the lead out of the pool until someone sets the outcome; "Waiting" needs an end
# date, so the wait is long enough never to run out by itself.
MEETING_WAIT = timedelta(days=3650)

NUMBER_EFFECTS = frozenset(
    {Disposition.Effect.DO_NOT_CALL, Disposition.Effect.WRONG_NUMBER, Disposition.Effect.INVALID_NUMBER}
)


REOPEN_PERMISSION = "campaigns.reopen_lead"


def _lock_lead(lead: Lead | int) -> Lead:
    pk = lead.pk if isinstance(lead, Lead) else lead
    return Lead.objects.select_for_update(of=("self",)).select_related("campaign", "customer", "contact").get(pk=pk)


def _dialled_phone(lead: Lead, number: str) -> PhoneNumber | None:
    """Return the contact's ``PhoneNumber`` for ``number`` in any writing, None when no number was given."""
    if not (number or "").strip():
        return None
    try:
        e164 = normalize_phone(number, lead.customer.phone_region)
    except NormalizationError as exc:
        raise LeadopsError(exc.message, field="number", code="invalid_number") from exc
    link = ContactPhone.objects.filter(contact_id=lead.contact_id, phone__e164=e164).select_related("phone").first()
    if link is None:
        raise LeadopsError(
            f"{format_phone(e164)} is not one of {lead.contact}'s numbers.", field="number", code="unknown_number"
        )
    return link.phone


def _check_may_call(lead: Lead, caller: User) -> Campaign | None:
    """A call is recorded by the caller holding the lead's lease, a caller approved for its campaign, or ops;
    return the campaign the caller works as its approved caller (None for ops), the role its blocks name.

    The lead row is locked: a revocation that gave the lease back has committed, or waits for this call. A lease
    is only ever an approved caller's (the pull refuses anyone else), so holding one needs no other question.
    """
    if lead.leased_to_id == caller.pk:
        return lead.campaign
    if sees_every_campaign(caller):
        return None
    if caller_is_approved(caller=caller, campaign_id=lead.campaign_id):
        return lead.campaign
    raise _not_approved(lead, caller, why="is not approved", tail=" and does not hold this lead's lease")


def _not_approved(lead: Lead, caller: User, *, why: str, tail: str = "") -> LeadopsError:
    return LeadopsError(
        f"{caller.get_username()} {why} to call the campaign {lead.campaign} (#{lead.campaign_id}){tail}.",
        field="caller",
        code="caller_not_approved",
    )


def _replayed_call(*, caller: User, idempotency_key: str, lead: Lead, disposition: Disposition) -> Call | None:
    call = Call.objects.filter(caller=caller, idempotency_key=idempotency_key).first()
    if call is None:
        return None
    if call.lead_id != lead.pk or call.disposition_id != disposition.pk:
        raise LeadopsError(
            "This Idempotency-Key was already used for another call; use a new key for a new call.",
            field="idempotency_key",
            code="conflict",
        )
    return call


def _cooldown(lead: Lead, now: datetime) -> dict[str, object]:
    hours = lead.campaign.cooldown_hours
    if not hours:
        return {"waiting_until": None, "waiting_reason": Lead.WaitingReason.NONE}
    return {"waiting_until": now + timedelta(hours=hours), "waiting_reason": Lead.WaitingReason.COOLDOWN}


def _disposition_named(lead: Lead, code: str) -> Disposition:
    """Return the disposition ``code`` of the lead's campaign (switched off or not: ``call_record`` says)."""
    disposition = Disposition.objects.filter(campaign_id=lead.campaign_id, code=code).first()
    if disposition is None:
        raise _not_offered(lead, code)
    return disposition


def _not_offered(lead: Lead, code: str) -> LeadopsError:
    return LeadopsError(
        f"'{code}' is not a disposition of the campaign {lead.campaign}.",
        field="disposition",
        code="unknown_disposition",
    )


def call_record(
    *,
    lead: Lead,
    caller: User,
    disposition: Disposition | str,
    number: str = "",
    notes: str = "",
    callback_at: datetime | None = None,
    idempotency_key: str = "",
    actor: Actor,
    now: datetime | None = None,
) -> tuple[Call, bool]:
    """Record a call by ``caller`` on ``lead`` and apply its disposition's effect; return ``(call, created)``.

    Invariants: every call is kept; the lease ends (whoever held it) and ``last_attempt_at`` moves on; a
    no-connect counts toward the campaign's attempt cap and reaching it disqualifies the lead (Unreachable);
    other effects cool the lead down, wait for a callback or meeting, or block the lead, the number or the
    contact as the disposition says. A call on an expired lease is recorded like any other.

    A repeat with the same ``(caller, idempotency_key)`` returns the first call and changes nothing; the
    same key with another lead or disposition is refused (``conflict``). Without a key each call counts.
    ``disposition`` is a ``Disposition`` or its code (the dialer's word for it); one the lead's campaign
    does not offer, or has switched off, is refused (``unknown_disposition``). Only the caller holding the
    lead's lease or one who may work its campaign (approved for it, or ops) records a call on it; anyone
    else is refused (``caller_not_approved``).
    """
    now = now or timezone.now()
    idempotency_key = (idempotency_key or "").strip()
    if len(idempotency_key) > Call._meta.get_field("idempotency_key").max_length:
        raise LeadopsError("The Idempotency-Key is longer than 100 characters.", field="idempotency_key")
    if caller.customer_id is not None:
        raise LeadopsError(f"{caller.get_username()} is not one of the agency's callers.", field="caller")
    if not caller.is_active:
        raise _not_approved(lead, caller, why="is inactive and not approved")
    if isinstance(disposition, str):
        disposition = _disposition_named(lead, disposition)
    with transaction.atomic():
        if idempotency_key and (
            replay := _replayed_call(caller=caller, idempotency_key=idempotency_key, lead=lead, disposition=disposition)
        ):
            return replay, False
        lead = _lock_lead(lead)
        # A concurrent request with the same key may have committed while this one waited for the lock.
        if idempotency_key and (
            replay := _replayed_call(caller=caller, idempotency_key=idempotency_key, lead=lead, disposition=disposition)
        ):
            return replay, False
        role = _check_may_call(lead, caller)
        if disposition.campaign_id != lead.campaign_id or not disposition.is_active:
            raise _not_offered(lead, disposition.code)
        phone = _dialled_phone(lead, number)
        if phone is None and disposition.effect in NUMBER_EFFECTS:
            raise LeadopsError(f"Say which number was dialled for '{disposition.label}'.", field="number")
        if disposition.effect == Disposition.Effect.CALLBACK and (callback_at is None or callback_at <= now):
            raise LeadopsError("A callback needs a time in the future.", field="callback_at")
        call = Call(
            lead=lead,
            caller=caller,
            phone=phone,
            disposition=disposition,
            notes=notes or "",
            callback_at=callback_at,
            created_at=now,
            idempotency_key=idempotency_key,
        )
        call.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                call.save()
        except IntegrityError:
            if not idempotency_key:
                raise
            return Call.objects.get(caller=caller, idempotency_key=idempotency_key), False
        # The blocks name the one who recorded the call in their role, when it is the caller themselves.
        acts_as = role if isinstance(actor, User) and actor.pk == caller.pk else None
        _apply_effect(lead=lead, call=call, actor=actor, role=acts_as, now=now)
        lead_statuses_recompute(leads=Lead.objects.filter(pk=lead.pk), now=now, stages=True)
    return call, True


def _apply_effect(*, lead: Lead, call: Call, actor: Actor, role: Campaign | None, now: datetime) -> None:
    disposition = call.disposition
    effect = disposition.effect
    campaign = lead.campaign
    fields: dict[str, object] = {"last_attempt_at": now, "leased_to": None, "updated_at": now}
    if effect == Disposition.Effect.CALLBACK:
        fields.update(waiting_until=call.callback_at, waiting_reason=Lead.WaitingReason.CALLBACK)
    elif effect == Disposition.Effect.MEETING_BOOKED:
        fields.update(waiting_until=now + MEETING_WAIT, waiting_reason=Lead.WaitingReason.MEETING)
    else:
        fields.update(_cooldown(lead, now))
    if effect == Disposition.Effect.NO_CONNECT:
        fields["attempts"] = F("attempts") + 1
    Lead.objects.filter(pk=lead.pk).update(**fields)

    by_call = {"actor": actor, "evidence": call, "evidence_text": disposition.label, "caller_campaign": role}
    if effect == Disposition.Effect.NO_CONNECT and lead.attempts + 1 >= campaign.attempt_cap:
        block_create(
            target=BlockTarget(lead=lead),
            source=Block.Source.UNREACHABLE,
            reason=Block.Reason.UNREACHABLE,
            reach=Block.Reach.CAMPAIGN,
            campaign=campaign,
            **by_call,
        )
    elif effect == Disposition.Effect.NOT_INTERESTED:
        block_create(
            target=BlockTarget(lead=lead),
            source=Block.Source.DISPOSITION,
            reason=Block.Reason.NOT_INTERESTED,
            reach=Block.Reach.CAMPAIGN,
            campaign=campaign,
            **by_call,
        )
    elif effect == Disposition.Effect.NOT_NOW:
        # "Try again in N days": out of the pool until then, when the block ends by itself.
        block_create(
            target=BlockTarget(lead=lead),
            source=Block.Source.DISPOSITION,
            reason=Block.Reason.CALL_LATER,
            reach=Block.Reach.CAMPAIGN,
            campaign=campaign,
            ends_at=now + timedelta(days=disposition.block_days),
            now=now,
            **by_call,
        )
    elif effect == Disposition.Effect.DO_NOT_CALL:
        # The person asked: the number is off limits for every customer, and the contact for this one.
        block_create(
            target=BlockTarget(phone=call.phone),
            source=Block.Source.DISPOSITION,
            reason=Block.Reason.DO_NOT_CALL,
            reach=Block.Reach.PLATFORM,
            **by_call,
        )
        block_create(
            target=BlockTarget(contact=lead.contact),
            source=Block.Source.DISPOSITION,
            reason=Block.Reason.DO_NOT_CALL,
            reach=Block.Reach.CUSTOMER,
            **by_call,
        )
    elif effect == Disposition.Effect.WRONG_NUMBER:
        block_create(
            target=BlockTarget(contact=lead.contact, phone=call.phone),
            source=Block.Source.DISPOSITION,
            reason=Block.Reason.WRONG_NUMBER,
            reach=Block.Reach.CUSTOMER,
            **by_call,
        )
    elif effect == Disposition.Effect.INVALID_NUMBER:
        block_create(
            target=BlockTarget(phone=call.phone),
            source=Block.Source.DISPOSITION,
            reason=Block.Reason.INVALID_NUMBER,
            reach=Block.Reach.PLATFORM,
            **by_call,
        )
    elif effect == Disposition.Effect.MEETING_BOOKED:
        meeting = Meeting(lead=lead, booked_by_call=call, scheduled_for=call.callback_at, created_at=now)
        meeting.full_clean()
        meeting.save()


def _meeting_outcome_blocks(meeting: Meeting):
    return Block.objects.active().filter(
        source=Block.Source.MEETING_OUTCOME,
        evidence_type=ContentType.objects.get_for_model(Meeting),
        evidence_id=meeting.pk,
    )


def meeting_outcome_set(*, meeting: Meeting, outcome: str, actor: Actor, now: datetime | None = None) -> Meeting:
    """Set ``meeting``'s outcome and what it does to the lead; return the meeting.

    Qualified or Not qualified ends outreach for the campaign (a lead block with the meeting as evidence);
    No-show returns a lead waiting for this meeting to the pool. Changing an outcome lifts the block of the
    previous one. Setting the outcome it already has changes nothing. An approved caller sets outcomes only in
    the campaigns they are approved for (else ``caller_not_approved``).
    """
    if outcome not in (Meeting.Outcome.QUALIFIED, Meeting.Outcome.NOT_QUALIFIED, Meeting.Outcome.NO_SHOW):
        raise LeadopsError("Choose Qualified, Not qualified or No-show.", field="outcome")
    now = now or timezone.now()
    caller = acting_caller(actor)
    with transaction.atomic():
        # The lead first, then the meeting: the same order as every other write on a lead.
        lead = _lock_lead(Meeting.objects.values_list("lead_id", flat=True).get(pk=meeting.pk))
        if caller is not None and not may_work_campaign(caller, lead.campaign_id):
            raise _not_approved(lead, caller, why="is not approved")
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if meeting.outcome == outcome:
            return meeting
        label = Meeting.Outcome(outcome).label
        previous = _meeting_outcome_blocks(meeting)
        if previous.exists():
            blocks_lift(blocks=previous, actor=actor, reason=f"Meeting outcome changed to {label}.")
        meeting.outcome = outcome
        meeting.outcome_set_at = now
        meeting.outcome_set_by = actor if isinstance(actor, User) else None
        meeting.save(update_fields=["outcome", "outcome_set_at", "outcome_set_by"])
        if outcome != Meeting.Outcome.NO_SHOW:
            block_create(
                target=BlockTarget(lead=lead),
                source=Block.Source.MEETING_OUTCOME,
                reason=Block.Reason.QUALIFIED if outcome == Meeting.Outcome.QUALIFIED else Block.Reason.NOT_QUALIFIED,
                reach=Block.Reach.CAMPAIGN,
                campaign=lead.campaign,
                actor=actor,
                evidence=meeting,
                evidence_text=(
                    f"meeting on {day_words(meeting.scheduled_for or meeting.created_at)}"
                    if outcome == Meeting.Outcome.QUALIFIED
                    else f"meeting #{meeting.pk}: {label}"
                ),
                caller_campaign=lead.campaign if caller is not None else None,
            )
        if lead.waiting_reason == Lead.WaitingReason.MEETING:
            Lead.objects.filter(pk=lead.pk).update(
                waiting_until=None, waiting_reason=Lead.WaitingReason.NONE, updated_at=now
            )
        lead_statuses_recompute(leads=Lead.objects.filter(pk=lead.pk), now=now, stages=True)
    return meeting


def _lock_leads(leads: QuerySet[Lead]) -> list[Lead]:
    """Lock the rows of ``leads`` in primary-key order (the order every selection-wide write takes them in)."""
    return list(
        Lead.objects.select_for_update(of=("self",))
        .filter(pk__in=leads.order_by().values("pk"))
        .select_related("campaign", "customer", "contact")
        .order_by("pk")
    )


def _unqualifications(lead_ids: list[int]) -> QuerySet[Block]:
    """Return the active blocks that unqualify these leads: ops' unqualify reasons and the attempt cap."""
    return Block.objects.active().filter(
        unqualifies_lead(),
        target=Block.Target.LEAD,
        lead_id__in=ids_query(lead_ids),
    )


def _named(leads: list[Lead], existing: dict[int, Block], *, shown: int = 5) -> str:
    names = [f"{lead} ({lead.contact}, {lead.campaign}: {existing[lead.pk].get_reason_display()})" for lead in leads]
    more = f" and {len(names) - shown:,} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def leads_unqualify(
    *, leads: QuerySet[Lead], reason: str, actor: Actor, note: str = "", note_shown: bool = False
) -> list[Block]:
    """Take every lead of ``leads`` out of its campaign's pool as unqualified, for one of ``UNQUALIFY_REASONS``.

    Return one block per lead, in lead order (target the lead, reach its campaign, source the Disqualify
    workflow). All or nothing: a lead already unqualified for another reason refuses the whole selection
    (``conflict``, naming it: reopen it first) and nothing changes. A lead unqualified with the same reason
    keeps its block, so a repeat call changes nothing. One transaction of a few statements whatever the
    number of leads: the blocks are one ``INSERT … SELECT`` and the statuses one recompute. An approved caller
    unqualifies only leads of the campaigns they are approved for (else ``caller_not_approved``, nothing changed),
    each as its campaign's caller.
    """
    if reason not in UNQUALIFY_REASONS:
        choices = ", ".join(str(Block.Reason(r).label) for r in UNQUALIFY_REASONS)
        raise LeadopsError(f"Choose one of: {choices}.", field="reason")
    caller = acting_caller(actor)
    check_caller_sees(caller, leads, what="lead")
    now = timezone.now()
    template = Block(
        target=Block.Target.LEAD,
        source=Block.Source.OPS_DISQUALIFY,
        reason=reason,
        reach=Block.Reach.CAMPAIGN,
        note=note or "",
        note_shown=note_shown,
        created_at=now,
        **actor_fields(actor, user_field="actor", job_field="actor_job"),
    )
    template.full_clean(exclude=["lead", "customer", "campaign"], validate_constraints=False)
    with transaction.atomic():
        locked = _lock_leads(leads)
        ids = [lead.pk for lead in locked]
        # The one active Disqualify block a lead may have (the unique constraint's key for a lead target).
        mine = Block.objects.active().filter(
            target=Block.Target.LEAD,
            source=Block.Source.OPS_DISQUALIFY,
            reach=Block.Reach.CAMPAIGN,
            evidence_type__isnull=True,
            lead_id__in=ids_query(ids),
        )
        existing = {block.lead_id: block for block in mine}
        refused = [lead for lead in locked if lead.pk in existing and existing[lead.pk].reason != reason]
        if len(refused) == 1 and len(locked) == 1:
            raise LeadopsError(
                f"The lead is already unqualified ({existing[refused[0].pk].get_reason_display()}); reopen it first.",
                field="reason",
                code="conflict",
            )
        if refused:
            it, is_ = ("it", "is") if len(refused) == 1 else ("them", "are")
            raise LeadopsError(
                f"{_named(refused, existing)} {is_} already unqualified for another reason: reopen {it} first, "
                f"or leave {it} out. Nothing was changed.",
                field="reason",
                code="conflict",
            )
        new = [pk for pk in ids if pk not in existing]
        if new:
            columns = {"lead_id": "l.id", "customer_id": "l.customer_id", "campaign_id": "l.campaign_id"}
            if caller is not None:
                # An approved caller unqualifies each lead as its campaign's caller.
                columns["caller_campaign_id"] = "l.campaign_id"
            created = rows_insert_select(
                template,
                columns=columns,
                select_from=f"FROM {Lead._meta.db_table} l WHERE {in_ids('l.id')}",
                params=[id_list(new)],
            )
            lead_statuses_recompute(
                leads=leads_reached_by(Block.objects.filter(pk__in=ids_query(created))), now=now, stages=True
            )
        by_lead = {block.lead_id: block for block in mine.filter(reason=reason)}
    return [by_lead[pk] for pk in ids]


def lead_unqualify(*, lead: Lead, reason: str, actor: Actor, note: str = "", note_shown: bool = False) -> Block:
    """Take ``lead`` out of its campaign's pool as unqualified, for one of ``UNQUALIFY_REASONS``.

    Return the block (target the lead, reach the campaign, source the Disqualify workflow). A repeat with
    the same reason returns the block already there; another reason while one is active is refused: reopen
    the lead first. ``leads_unqualify`` for one lead.
    """
    blocks = leads_unqualify(
        leads=Lead.objects.filter(pk=lead.pk), reason=reason, actor=actor, note=note, note_shown=note_shown
    )
    if not blocks:
        raise Lead.DoesNotExist(f"Lead {lead.pk} no longer exists.")
    return blocks[0]


@dataclass(frozen=True)
class Reopened:
    """What ``leads_reopen`` did: the leads that had something to reopen, and how many blocks it lifted."""

    lead_ids: list[int] = field(default_factory=list)
    lifted: int = 0


def leads_reopen(*, leads: QuerySet[Lead], actor: Actor, reason: str) -> Reopened:
    """Lift what unqualified each lead of ``leads`` (ops' unqualify reasons and the attempt cap).

    Reopening after the attempt cap starts the count of attempts again. Other blocks (a Do Not Call, a
    suppression) stay: they are Undisqualify's. One transaction, the same few statements whatever the
    number of leads; a failure leaves every lead as it was. A repeat finds nothing to lift and changes nothing.
    An approved caller reopens only leads of the campaigns they are approved for (else ``caller_not_approved``).
    """
    if not actor_may(actor, REOPEN_PERMISSION):
        raise LeadopsError("You do not have the permission to reopen leads.", code="permission_denied")
    if not (reason or "").strip():
        raise LeadopsError("Say why the leads are reopened.", field="reason")
    check_caller_sees(acting_caller(actor), leads, what="lead")
    with transaction.atomic():
        ids = [lead.pk for lead in _lock_leads(leads)]
        found = list(_unqualifications(ids).values_list("pk", "lead_id", "reason"))
        if not found:
            return Reopened()
        lifted = blocks_lift(
            blocks=Block.objects.filter(pk__in=ids_query([pk for pk, _, _ in found])), actor=actor, reason=reason
        )
        counting_again = sorted({lead_id for _, lead_id, why in found if why == Block.Reason.UNREACHABLE})
        if counting_again:
            Lead.objects.filter(pk__in=ids_query(counting_again)).update(attempts=0, updated_at=timezone.now())
    return Reopened(lead_ids=sorted({lead_id for _, lead_id, _ in found}), lifted=lifted)


def lead_reopen(*, lead: Lead, actor: Actor, reason: str) -> int:
    """Lift what unqualified ``lead`` (ops' unqualify reasons and the attempt cap) and return how many lifted.

    Reopening after the attempt cap starts the count of attempts again. Other blocks (a Do Not Call, a
    suppression) stay: they are Undisqualify's. A repeat finds nothing to lift and changes nothing.
    ``leads_reopen`` for one lead.
    """
    return leads_reopen(leads=Lead.objects.filter(pk=lead.pk), actor=actor, reason=reason).lifted

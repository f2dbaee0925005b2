"""Qualify a lead into an opportunity, and follow the opportunity up (stage, won, lost), each change recorded.

Qualifying ends outreach for the lead's campaign with the meeting-outcome block (reason Qualified), whose
evidence is the opportunity; the status recompute that follows also moves the lead's stage to Qualified.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from campaigns.models import (
    Block,
    Call,
    ConsiderationStage,
    Lead,
    LostReason,
    Meeting,
    Opportunity,
    OpportunityEvent,
    Project,
    User,
)
from campaigns.rules import unqualifies_lead
from campaigns.selectors.callers import may_work_campaign
from campaigns.selectors.explaining import day_words
from campaigns.selectors.opportunities import ExistingMatch, existing_matches, projects_offered
from campaigns.services.actors import Actor, actor_fields
from campaigns.services.blocks import BlockTarget, block_create, blocks_lift
from campaigns.services.statuses import lead_statuses_recompute
from leadops.errors import LeadopsError


def _check_may_qualify(lead: Lead, actor: Actor) -> User:
    if not isinstance(actor, User):
        raise LeadopsError("A person qualifies a lead: who qualified it is part of the opportunity.", field="actor")
    if not may_work_campaign(actor, lead.campaign_id):
        raise LeadopsError(
            f"{actor.get_username()} may not qualify leads of the campaign {lead.campaign}: ops, or a caller "
            "approved for it, may.",
            code="permission_denied",
        )
    return actor


def _check_choices(
    lead: Lead,
    *,
    consideration_stage: ConsiderationStage,
    project: Project | None,
    lost_reason: LostReason | None,
    lost_note: str,
) -> None:
    if consideration_stage.campaign_id != lead.campaign_id:
        raise LeadopsError(
            f"'{consideration_stage}' is not a consideration stage of the campaign {lead.campaign}.",
            field="consideration_stage",
        )
    if (project is None) == (lost_reason is None):
        raise LeadopsError(
            "Choose a project the lead is interested in, or a lost reason (Lost opportunity), not both.",
            field="project",
        )
    if project is not None and not projects_offered(lead).filter(pk=project.pk).exists():
        raise LeadopsError(f"The project '{project}' is not offered in the campaign {lead.campaign}.", field="project")
    if lost_reason is not None:
        if lost_reason.customer_id != lead.customer_id or not lost_reason.is_active:
            raise LeadopsError(f"'{lost_reason}' is not one of {lead.customer}'s lost reasons.", field="lost_reason")
        if lost_reason.needs_note and not lost_note.strip():
            raise LeadopsError(f"Say more about '{lost_reason}' in the note.", field="lost_note")


def _meeting_of(lead: Lead, meeting: Meeting | None) -> Meeting | None:
    """Return the meeting the qualification comes from: the one given, else the lead's latest not a no-show."""
    if meeting is not None:
        if meeting.lead_id != lead.pk:
            raise LeadopsError(f"Meeting #{meeting.pk} is not one of this lead's meetings.", field="meeting")
        return Meeting.objects.select_for_update().get(pk=meeting.pk)
    return (
        Meeting.objects.select_for_update()
        .filter(lead=lead)
        .exclude(outcome=Meeting.Outcome.NO_SHOW)
        .order_by("-created_at", "-id")
        .first()
    )


def _event(opportunity: Opportunity, *, kind: str, actor: Actor, now: datetime, **values: str) -> OpportunityEvent:
    event = OpportunityEvent(
        opportunity=opportunity,
        kind=kind,
        at=now,
        **values,
        **actor_fields(actor, user_field="actor", job_field="actor_job"),
    )
    event.full_clean(exclude=["opportunity"])
    event.save()
    return event


def lead_qualify(
    *,
    lead: Lead,
    actor: Actor,
    consideration_stage: ConsiderationStage,
    existing: ExistingMatch | None = None,
    project: Project | None = None,
    lost_reason: LostReason | None = None,
    lost_note: str = "",
    meeting: Meeting | None = None,
    now: datetime | None = None,
) -> Opportunity:
    """Qualify ``lead``: make its opportunity and end outreach for its campaign; return the opportunity.

    The opportunity is on the lead's account (a new customer), or, with ``existing`` (one of
    ``existing_matches(lead)``), merged into that record: on its account, marked an existing customer, the
    record named. It is open for ``project`` (one the campaign offers) or lost with ``lost_reason`` (one of the
    customer's; "Other" needs ``lost_note``), at ``consideration_stage`` (one of the campaign's). It keeps the
    lead, its meeting (``meeting``, else its latest one not a no-show, whose outcome becomes Qualified) and its
    calls. Ops or the campaign's approved callers may qualify; an unqualified lead is refused (reopen it
    first). One transaction. A repeat returns the lead's opportunity and changes nothing.
    """
    now = now or timezone.now()
    lost_note = (lost_note or "").strip()
    with transaction.atomic():
        lead = (
            Lead.objects.select_for_update(of=("self",))
            .select_related("campaign", "customer", "contact__account")
            .get(pk=lead.pk)
        )
        user = _check_may_qualify(lead, actor)
        already = Opportunity.objects.filter(lead=lead).first()
        if already is not None:
            return already
        _check_choices(
            lead, consideration_stage=consideration_stage, project=project, lost_reason=lost_reason, lost_note=lost_note
        )
        unqualified = Block.objects.active().filter(unqualifies_lead(), target=Block.Target.LEAD, lead=lead).first()
        if unqualified is not None:
            raise LeadopsError(
                f"The lead is unqualified ({unqualified.get_reason_display()}); reopen it before qualifying it.",
                code="conflict",
            )
        if existing is not None and existing.key not in {m.key for m in existing_matches(lead)}:
            raise LeadopsError(f"{existing.record} is not a record this lead's company may be.", field="existing")
        meeting = _meeting_of(lead, meeting)
        opportunity = Opportunity(
            customer=lead.customer,
            account=existing.account if existing is not None else lead.contact.account,
            contact=lead.contact,
            campaign=lead.campaign,
            lead=lead,
            meeting=meeting,
            project=project,
            consideration_stage=consideration_stage,
            state=Opportunity.State.LOST if lost_reason is not None else Opportunity.State.OPEN,
            lost_reason=lost_reason,
            lost_note=lost_note,
            existing_customer=existing is not None,
            matched_type=ContentType.objects.get_for_model(existing.record) if existing is not None else None,
            matched_id=existing.record.pk if existing is not None else None,
            matched_text=str(existing)[:300] if existing is not None else "",
            qualified_by=user,
            qualified_at=now,
        )
        opportunity.full_clean(validate_constraints=False)
        opportunity.save()
        opportunity.calls.set(Call.objects.filter(lead=lead).values_list("pk", flat=True))
        outcome = f"lost: {lost_reason}" if lost_reason is not None else str(project)
        _event(opportunity, kind=OpportunityEvent.Kind.QUALIFIED, actor=user, now=now, to_value=outcome)
        if meeting is not None:
            # The meeting's own outcome block (if it was set before) gives way to the opportunity's.
            previous = Block.objects.active().filter(
                source=Block.Source.MEETING_OUTCOME,
                evidence_type=ContentType.objects.get_for_model(Meeting),
                evidence_id=meeting.pk,
            )
            if previous.exists():
                blocks_lift(blocks=previous, actor=user, reason=f"Qualified into opportunity #{opportunity.pk}.")
            Meeting.objects.filter(pk=meeting.pk).update(
                outcome=Meeting.Outcome.QUALIFIED, outcome_set_at=now, outcome_set_by=user
            )
        block_create(
            target=BlockTarget(lead=lead),
            source=Block.Source.MEETING_OUTCOME,
            reason=Block.Reason.QUALIFIED,
            reach=Block.Reach.CAMPAIGN,
            campaign=lead.campaign,
            actor=user,
            evidence=opportunity,
            evidence_text=qualified_evidence_text(meeting),
        )
        if lead.waiting_reason == Lead.WaitingReason.MEETING:
            Lead.objects.filter(pk=lead.pk).update(
                waiting_until=None, waiting_reason=Lead.WaitingReason.NONE, updated_at=now
            )
        lead_statuses_recompute(leads=Lead.objects.filter(pk=lead.pk), now=now, stages=True)
    return opportunity


def qualified_evidence_text(meeting: Meeting | None) -> str:
    """Return the words a qualification's block keeps about its meeting: ``meeting on 29 Nov``, or nothing."""
    if meeting is None:
        return ""
    return f"meeting on {day_words(meeting.scheduled_for or meeting.created_at)}"


def _lock(opportunity: Opportunity) -> Opportunity:
    return (
        Opportunity.objects.select_for_update(of=("self",))
        .select_related("consideration_stage", "lost_reason")
        .get(pk=opportunity.pk)
    )


def opportunity_stage_set(
    *, opportunity: Opportunity, consideration_stage: ConsiderationStage, actor: Actor
) -> Opportunity:
    """Move ``opportunity`` to ``consideration_stage`` (one of its campaign's), recording from and to.

    Setting the stage it has changes nothing and records nothing.
    """
    now = timezone.now()
    with transaction.atomic():
        opportunity = _lock(opportunity)
        if consideration_stage.campaign_id != opportunity.campaign_id:
            raise LeadopsError(
                f"'{consideration_stage}' is not a consideration stage of the campaign {opportunity.campaign}.",
                field="consideration_stage",
            )
        if opportunity.consideration_stage_id == consideration_stage.pk:
            return opportunity
        before = str(opportunity.consideration_stage)
        opportunity.consideration_stage = consideration_stage
        opportunity.save(update_fields=["consideration_stage", "updated_at"])
        _event(
            opportunity,
            kind=OpportunityEvent.Kind.STAGE,
            actor=actor,
            now=now,
            from_value=before,
            to_value=str(consideration_stage),
        )
    return opportunity


def opportunity_won(*, opportunity: Opportunity, actor: Actor, note: str = "") -> Opportunity:
    """Mark ``opportunity`` won (it needs its project: a lost one is reopened by winning only if it has one).

    A repeat changes nothing and records nothing.
    """
    now = timezone.now()
    with transaction.atomic():
        opportunity = _lock(opportunity)
        if opportunity.state == Opportunity.State.WON:
            return opportunity
        if opportunity.project_id is None:
            raise LeadopsError("Choose the project it was won for before marking it won.", field="project")
        before = opportunity.get_state_display()
        opportunity.state, opportunity.lost_reason, opportunity.lost_note = Opportunity.State.WON, None, ""
        opportunity.full_clean(validate_constraints=False)
        opportunity.save(update_fields=["state", "lost_reason", "lost_note", "updated_at"])
        _event(
            opportunity,
            kind=OpportunityEvent.Kind.WON,
            actor=actor,
            now=now,
            from_value=before,
            to_value="Won",
            note=note,
        )
    return opportunity


def opportunity_lost(*, opportunity: Opportunity, lost_reason: LostReason, actor: Actor, note: str = "") -> Opportunity:
    """Mark ``opportunity`` lost for ``lost_reason`` (one of its customer's; "Other" needs ``note``).

    Lost again for the same reason changes nothing; for another reason the change is recorded.
    """
    now = timezone.now()
    note = (note or "").strip()
    with transaction.atomic():
        opportunity = _lock(opportunity)
        if lost_reason.customer_id != opportunity.customer_id:
            raise LeadopsError(
                f"'{lost_reason}' is not one of {opportunity.customer}'s lost reasons.", field="lost_reason"
            )
        if lost_reason.needs_note and not note:
            raise LeadopsError(f"Say more about '{lost_reason}' in the note.", field="note")
        if opportunity.state == Opportunity.State.LOST and opportunity.lost_reason_id == lost_reason.pk:
            return opportunity
        before = (
            f"Lost: {opportunity.lost_reason}"
            if opportunity.state == Opportunity.State.LOST
            else opportunity.get_state_display()
        )
        opportunity.state, opportunity.lost_reason, opportunity.lost_note = Opportunity.State.LOST, lost_reason, note
        opportunity.save(update_fields=["state", "lost_reason", "lost_note", "updated_at"])
        _event(
            opportunity,
            kind=OpportunityEvent.Kind.LOST,
            actor=actor,
            now=now,
            from_value=before,
            to_value=f"Lost: {lost_reason}",
            note=note,
        )
    return opportunity

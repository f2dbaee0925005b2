"""Create and lift blocks, and recompute the statuses they touch.

A block is never deleted. Creating one that already exists (same target, source, reach and evidence)
returns the existing one; lifting a lifted one changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from campaigns.models import Account, Block, Campaign, Contact, Customer, Lead, PhoneNumber
from campaigns.rules import block_in_force_at, leads_reached_by
from campaigns.selectors.explaining import end_words
from campaigns.services.actors import Actor, actor_fields
from campaigns.services.statuses import lead_statuses_recompute
from leadops.db import ids_query
from leadops.errors import LeadopsError


@dataclass(frozen=True)
class BlockTarget:
    """What a block stops: exactly one of lead, contact, account or phone; or a contact's use of a phone."""

    lead: Lead | None = None
    contact: Contact | None = None
    account: Account | None = None
    phone: PhoneNumber | None = None

    @property
    def kind(self) -> str:
        if self.lead is not None:
            return Block.Target.LEAD
        if self.account is not None:
            return Block.Target.ACCOUNT
        if self.contact is not None and self.phone is not None:
            return Block.Target.CONTACT_PHONE
        if self.contact is not None:
            return Block.Target.CONTACT
        if self.phone is not None:
            return Block.Target.PHONE
        raise LeadopsError("A block needs a target: a lead, contact, account or phone number.")

    def customer(self) -> Customer | None:
        """Return the tenant the target belongs to; a phone number alone belongs to no tenant."""
        for owner in (self.lead, self.contact, self.account):
            if owner is not None:
                return owner.customer
        return None


def block_create(
    *,
    target: BlockTarget,
    source: str,
    reason: str,
    reach: str,
    actor: Actor,
    campaign: Campaign | None = None,
    customer: Customer | None = None,
    evidence: models.Model | None = None,
    evidence_text: str = "",
    note: str = "",
    note_shown: bool = False,
    caller_campaign: Campaign | None = None,
    ends_at: datetime | None = None,
    now: datetime | None = None,
) -> tuple[Block, bool]:
    """Record one reason not to reach ``target`` and recompute the leads it reaches.

    Return ``(block, created)``. A repeat call with the same target, source, reach and evidence returns
    the block already in force and changes nothing, unless it ends before ``ends_at`` (or the new one has no
    end): the longer one then replaces it, and the shorter is lifted saying so. One that ended but is not yet
    lifted by the expiry job is lifted by expiry first. ``note`` stays internal unless ``note_shown``.
    ``caller_campaign`` is the campaign ``actor`` worked as its approved caller (their role in the sentence).
    ``ends_at`` (after ``now``) ends the block by itself (``campaigns.rules``: no longer in force from then).
    """
    now = now or timezone.now()
    if ends_at is not None and ends_at <= now:
        raise LeadopsError("A block's end must be in the future.", field="ends_at")
    customer, campaign = _scope(target=target, reach=reach, customer=customer, campaign=campaign)
    fields: dict[str, object] = {
        "target": target.kind,
        "lead": target.lead,
        "contact": target.contact,
        "account": target.account,
        "phone": target.phone,
        "source": source,
        "reach": reach,
        "customer": customer,
        "campaign": campaign,
        "evidence_type": ContentType.objects.get_for_model(evidence) if evidence is not None else None,
        "evidence_id": evidence.pk if evidence is not None else None,
    }
    with transaction.atomic():
        existing = Block.objects.active().filter(**fields).first()
        if existing is not None and not block_in_force_at(existing, now):
            _lift_ended(Block.objects.filter(pk=existing.pk), now=now)
        elif existing is not None and existing.ends_at is not None and (ends_at is None or ends_at > existing.ends_at):
            longer = f"until {end_words(ends_at)}" if ends_at is not None else "without an end"
            blocks_lift(
                blocks=Block.objects.filter(pk=existing.pk), actor=actor, reason=f"Replaced by a block {longer}."
            )
        elif existing is not None:
            return existing, False
        block = Block(
            **fields,
            reason=reason,
            evidence_text=evidence_text,
            note=note,
            note_shown=note_shown,
            caller_campaign=caller_campaign,
            ends_at=ends_at,
            created_at=now,
            **actor_fields(actor, user_field="actor", job_field="actor_job"),
        )
        block.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                block.save()
        except IntegrityError:
            # A concurrent transaction recorded the same block first: theirs is the one.
            return Block.objects.active().get(**fields), False
        # A block on a lead can move its stage (an unqualification, a qualification); other blocks cannot.
        lead_statuses_recompute(
            leads=leads_reached_by(Block.objects.filter(pk=block.pk)), stages=block.target == Block.Target.LEAD
        )
    return block, True


def _scope(
    *, target: BlockTarget, reach: str, customer: Customer | None, campaign: Campaign | None
) -> tuple[Customer | None, Campaign | None]:
    owner = target.customer()
    if reach == Block.Reach.PLATFORM:
        return None, None
    if reach == Block.Reach.CAMPAIGN:
        if campaign is None:
            raise LeadopsError("A campaign-wide block needs its campaign.", field="campaign")
        customer = campaign.customer
    customer = customer or owner
    if customer is None:
        raise LeadopsError("A customer-wide block needs its customer.", field="customer")
    if owner is not None and owner.pk != customer.pk:
        raise LeadopsError("A block cannot reach across customers.", field="customer")
    return customer, (campaign if reach == Block.Reach.CAMPAIGN else None)


# Lift the active ones of a selection and return their ids: the recompute that follows is named by them.
_LIFT_SQL = (
    "UPDATE campaigns_block SET lifted_at = %s, lifted_by_id = %s, lifted_by_job = %s, lift_reason = %s "
    "WHERE lifted_at IS NULL AND id IN ({blocks}) RETURNING id, target"
)


def blocks_lift(*, blocks: QuerySet[Block], actor: Actor, reason: str, now: datetime | None = None) -> int:
    """Lift the active ones of ``blocks``, recompute the leads they reached, and return how many were lifted.

    Lifting records who, when and why; nothing is deleted. Already lifted blocks are left as they are.
    """
    reason = (reason or "").strip()
    if not reason:
        raise LeadopsError("Say why the block is lifted.", field="reason")
    now = now or timezone.now()
    lifted_by = actor_fields(actor, user_field="lifted_by", job_field="lifted_by_job")
    selection, selection_params = blocks.active().order_by().values("pk").query.sql_with_params()
    with transaction.atomic():
        connection = transaction.get_connection()
        with connection.cursor() as cursor:
            # The lifted blocks are the ones this statement returns, never "the ones stamped ``now``": the
            # embedded SQLite stores a timestamp in the text form of whoever wrote it, so equality misses rows.
            cursor.execute(
                _LIFT_SQL.format(blocks=selection),
                [
                    connection.ops.adapt_datetimefield_value(now),
                    lifted_by["lifted_by"].pk if lifted_by["lifted_by"] is not None else None,
                    lifted_by["lifted_by_job"],
                    reason,
                    *selection_params,
                ],
            )
            rows = cursor.fetchall()
        lifted = [pk for pk, _ in rows]
        if lifted:
            lead_statuses_recompute(
                leads=leads_reached_by(Block.objects.filter(pk__in=ids_query(lifted))),
                now=now,
                stages=any(target == Block.Target.LEAD for _, target in rows),
            )
    return len(lifted)


EXPIRY_JOB = "block expiry"


def _lift_ended(blocks: QuerySet[Block], *, now: datetime) -> int:
    return blocks_lift(
        blocks=blocks.filter(ends_at__lte=now),
        actor=EXPIRY_JOB,
        reason="Lifted by expiry: the end it was made with has passed.",
        now=now,
    )


def blocks_expire(*, now: datetime | None = None) -> int:
    """Lift every block whose end has passed (lifted by expiry, recorded like any lift) and recompute the leads
    they reached; return how many were lifted.

    The readers already honour an end at read time (``campaigns.rules``): this makes the record and the
    stored statuses say so too. The beat job calls it; a repeat finds nothing left to lift.
    """
    now = now or timezone.now()
    return _lift_ended(Block.objects.filter(lifted_at__isnull=True, ends_at__isnull=False), now=now)

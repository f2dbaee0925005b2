"""Approve callers for campaigns and revoke their approvals: set-based, each call one transaction.

A caller is an active agency user (no customer). While an approval of theirs for a campaign is in force
they may pull its leads, record calls on them and work them in the admin; revoking ends the approval (it
stays as history) and gives that caller's leases in that campaign back to the pool at once.

Revoking updates the approval rows first: a pull in flight holds its approval row ``FOR SHARE`` for its one
statement (``campaigns.dialer.pool``), so the revocation waits for it and then releases what it leased, and
a pull that starts after the revocation sees it and leases nothing.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from campaigns.models import CallerApproval, Campaign, Lead, User
from campaigns.services.actors import Actor, actor_fields, actor_may
from campaigns.services.statuses import lead_statuses_recompute
from leadops.errors import LeadopsError

APPROVE_PERMISSION = "campaigns.approve_callers"


@dataclass(frozen=True)
class Approved:
    """What ``callers_approve`` did: approvals made, and pairs that already had one in force."""

    created: list[CallerApproval]
    already: int


@dataclass(frozen=True)
class Revoked:
    """What ``approvals_revoke`` did: approvals ended, and the leases given back to the pool."""

    revoked: int
    released: int


def why_not_a_caller(user: User) -> str:
    """Return why ``user`` cannot be approved as a caller, or "" when they can."""
    if user.customer_id is not None:
        return f"{user.get_username()} is a customer's user; callers are the agency's."
    if not user.is_active:
        return f"{user.get_username()} is inactive."
    return ""


def _check_may_approve(actor: Actor) -> None:
    if not actor_may(actor, APPROVE_PERMISSION):
        raise LeadopsError("You do not have the permission to approve callers.", code="permission_denied")


def callers_approve(*, callers: Iterable[User], campaigns: Iterable[Campaign], actor: Actor) -> Approved:
    """Approve every caller for every campaign; a pair that already has an approval in force is left as it is.

    All or nothing: a customer's user or an inactive one among ``callers`` refuses the whole call, naming them.
    A repeat changes nothing (every pair is ``already`` approved).
    """
    _check_may_approve(actor)
    caller_ids = sorted({caller.pk for caller in callers})
    campaigns = list({campaign.pk: campaign for campaign in campaigns}.values())
    if not caller_ids or not campaigns:
        raise LeadopsError("Choose at least one caller and one campaign.", field="callers")
    now = timezone.now()
    who = actor_fields(actor, user_field="approved_by", job_field="approved_by_job")
    with transaction.atomic():
        # The callers as they are now, locked in pk order: two approvals of the same pair at once make one
        # (the unique constraint would refuse the second anyway, with a less useful message), and a caller
        # deactivated meanwhile is refused.
        locked = list(User.objects.select_for_update().filter(pk__in=caller_ids).order_by("pk"))
        refused = [why for why in map(why_not_a_caller, locked) if why]
        if refused:
            raise LeadopsError(" ".join(refused), field="callers")
        held = set(
            CallerApproval.objects.in_force()
            .filter(caller_id__in=caller_ids, campaign__in=campaigns)
            .values_list("caller_id", "campaign_id")
        )
        wanted = [
            CallerApproval(caller=caller, campaign=campaign, approved_at=now, **who)
            for caller in locked
            for campaign in campaigns
            if (caller.pk, campaign.pk) not in held
        ]
        created = CallerApproval.objects.bulk_create(wanted)
    return Approved(created=created, already=len(held))


def approvals_revoke(
    *, approvals: QuerySet[CallerApproval], actor: Actor, reason: str = "", now: datetime | None = None
) -> Revoked:
    """End every approval of ``approvals`` still in force and give back the leases each caller holds in that
    approval's campaign; revoked ones are left as they are (a repeat changes nothing)."""
    _check_may_approve(actor)
    reason = (reason or "").strip()
    limit = CallerApproval._meta.get_field("revoke_reason").max_length
    if len(reason) > limit:
        raise LeadopsError(f"The reason is longer than {limit} characters.", field="reason")
    now = now or timezone.now()
    who = actor_fields(actor, user_field="revoked_by", job_field="revoked_by_job")
    with transaction.atomic():
        ending = list(
            approvals.in_force().select_for_update(of=("self",)).values_list("pk", "caller_id", "campaign_id")
        )
        if not ending:
            return Revoked(revoked=0, released=0)
        CallerApproval.objects.filter(pk__in=[pk for pk, _, _ in ending]).update(
            revoked_at=now, revoke_reason=reason, **who
        )
        by_caller: dict[int, list[int]] = {}
        for _, caller_id, campaign_id in ending:
            by_caller.setdefault(caller_id, []).append(campaign_id)
        held = functools.reduce(
            operator.or_,
            (Q(leased_to_id=caller_id, campaign_id__in=campaign_ids) for caller_id, campaign_ids in by_caller.items()),
        )
        ids = list(Lead.objects.filter(held).select_for_update().values_list("pk", flat=True))
        if ids:
            Lead.objects.filter(pk__in=ids).update(
                leased_to=None, waiting_until=None, waiting_reason=Lead.WaitingReason.NONE, updated_at=now
            )
            lead_statuses_recompute(leads=Lead.objects.filter(pk__in=ids), now=now)
    return Revoked(revoked=len(ending), released=len(ids))


def caller_approval_revoke(*, approval: CallerApproval, actor: Actor, reason: str = "") -> Revoked:
    """Revoke one approval (see ``approvals_revoke``)."""
    return approvals_revoke(approvals=CallerApproval.objects.filter(pk=approval.pk), actor=actor, reason=reason)

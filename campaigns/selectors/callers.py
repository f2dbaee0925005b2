"""Who may work which campaign: a caller's approvals in force, and the one scope the admin and the services
use to decide what an agency user may see and touch.

Agency ops hold ``campaigns.work_every_campaign`` and see every campaign; every other agency user sees the
campaigns an approval of theirs in force names, and nothing else. A customer's user never has a caller scope.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from campaigns.models import CallerApproval, Campaign, User

EVERY_CAMPAIGN_PERMISSION = "campaigns.work_every_campaign"


def sees_every_campaign(user: User) -> bool:
    """Return whether ``user`` works every campaign (agency ops), not only the ones they are approved for."""
    return user.is_active and user.customer_id is None and user.has_perm(EVERY_CAMPAIGN_PERMISSION)


def approved_campaigns(user: User) -> QuerySet[Campaign]:
    """Return the campaigns ``user`` is approved for now (none for a customer's or an inactive user)."""
    if not user.is_active or user.customer_id is not None:
        return Campaign.objects.none()
    return Campaign.objects.filter(
        Exists(CallerApproval.objects.in_force().filter(campaign=OuterRef("pk"), caller_id=user.pk))
    )


def caller_is_approved(*, caller: User, campaign_id: int) -> bool:
    """Return whether ``caller`` may work ``campaign_id`` as its approved caller now."""
    return (
        caller.is_active
        and caller.customer_id is None
        and CallerApproval.objects.in_force().filter(caller_id=caller.pk, campaign_id=campaign_id).exists()
    )


def may_work_campaign(user: User, campaign_id: int) -> bool:
    """Return whether ``user`` may work ``campaign_id``'s leads: ops everywhere, a caller where approved."""
    return sees_every_campaign(user) or caller_is_approved(caller=user, campaign_id=campaign_id)


def campaign_callers(campaign_id: int) -> QuerySet[CallerApproval]:
    """Return the approvals in force for ``campaign_id`` with their callers, by name."""
    return (
        CallerApproval.objects.in_force()
        .filter(campaign_id=campaign_id)
        .select_related("caller")
        .order_by("caller__first_name", "caller__last_name", "caller__username")
    )

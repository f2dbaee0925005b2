"""The catalogues qualifying reads: each customer's projects and lost reasons, each campaign's consideration
stages. New customers and campaigns get the defaults (``customer_create``, ``campaign_create``), existing ones
got them from migration 0013; seeding again adds only what is missing."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import QuerySet

from campaigns.models import Campaign, ConsiderationStage, Customer, LostReason, Project
from campaigns.services.actors import Actor, actor_label
from leadops.errors import LeadopsError

# (label, needs a note)
DEFAULT_LOST_REASONS: list[tuple[str, bool]] = [
    ("Price", False),
    ("Timing", False),
    ("Competitor", False),
    ("No budget", False),
    ("No decision maker", False),
    ("Other", True),
]
DEFAULT_CONSIDERATION_STAGES: list[str] = ["Awareness", "Consideration", "Decision"]

logger = logging.getLogger(__name__)


def lost_reasons_seed(*, customers: QuerySet[Customer]) -> int:
    """Give each of ``customers`` the default lost reasons it lacks; return how many were added.

    One read and one INSERT whatever the number of customers; a repeat adds nothing.
    """
    ids = list(customers.values_list("pk", flat=True))
    have = set(LostReason.objects.filter(customer_id__in=ids).values_list("customer_id", "label"))
    missing = [
        LostReason(customer_id=pk, label=label, needs_note=needs_note, sort_order=index)
        for pk in ids
        for index, (label, needs_note) in enumerate(DEFAULT_LOST_REASONS)
        if (pk, label) not in have
    ]
    LostReason.objects.bulk_create(missing)
    return len(missing)


def consideration_stages_seed(*, campaigns: QuerySet[Campaign]) -> int:
    """Give each of ``campaigns`` the default consideration stages it lacks; return how many were added.

    One read and one INSERT whatever the number of campaigns; a repeat adds nothing.
    """
    ids = list(campaigns.values_list("pk", flat=True))
    have = set(ConsiderationStage.objects.filter(campaign_id__in=ids).values_list("campaign_id", "label"))
    missing = [
        ConsiderationStage(campaign_id=pk, label=label, sort_order=index)
        for pk in ids
        for index, label in enumerate(DEFAULT_CONSIDERATION_STAGES)
        if (pk, label) not in have
    ]
    ConsiderationStage.objects.bulk_create(missing)
    return len(missing)


def project_create(*, customer: Customer, name: str, campaigns: list[Campaign] | None = None, actor: Actor) -> Project:
    """Add a project or unit to ``customer``'s catalogue, offered in ``campaigns`` (every campaign when none).

    A campaign of another customer is refused, naming it; a name the customer already has is refused.
    """
    campaigns = list(campaigns or [])
    foreign = [c for c in campaigns if c.customer_id != customer.pk]
    if foreign:
        raise LeadopsError(
            f"The campaign {foreign[0]} is not one of {customer}'s; a project is offered in its own customer's "
            "campaigns only.",
            field="campaigns",
        )
    with transaction.atomic():
        project = Project(customer=customer, name=(name or "").strip())
        project.full_clean()
        project.save()
        project.campaigns.set(campaigns)
    logger.info("%s added the project %s (#%s) for %s", actor_label(actor), project, project.pk, customer)
    return project

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


def _name_taken(rows: QuerySet, *, field: str, value: str, but: int | None = None) -> bool:
    """Return whether another of ``rows`` (one customer's or campaign's catalogue) already has ``value`` in
    ``field``, whatever its case: "price" beside "Price" would read as the same choice."""
    return rows.filter(**{f"{field}__iexact": value}).exclude(pk=but).exists()


def _words(value: str, *, field: str, what: str) -> str:
    """Return ``value`` space-squeezed, refusing it when it is empty."""
    value = " ".join((value or "").split())
    if not value:
        raise LeadopsError(f"Give the {what} a {field}.", field=field)
    return value


def project_campaigns_checked(*, customer: Customer, campaigns: list[Campaign] | None) -> list[Campaign]:
    """Return ``campaigns`` when all are ``customer``'s; refuse the first that is not, naming it (the admin's
    form asks this too, to show the refusal on the field)."""
    campaigns = list(campaigns or [])
    foreign = [c for c in campaigns if c.customer_id != customer.pk]
    if foreign:
        raise LeadopsError(
            f"The campaign {foreign[0]} is not one of {customer}'s; a project is offered in its own customer's "
            "campaigns only.",
            field="campaigns",
        )
    return campaigns


def _project_name(customer: Customer, name: str, *, but: int | None = None) -> str:
    name = _words(name, field="name", what="project")
    if _name_taken(Project.objects.filter(customer=customer), field="name", value=name, but=but):
        raise LeadopsError(f"{customer} already has a project named {name!r}.", field="name")
    return name


def project_create(
    *,
    customer: Customer,
    name: str,
    campaigns: list[Campaign] | None = None,
    is_active: bool = True,
    actor: Actor,
) -> Project:
    """Add a project or unit to ``customer``'s catalogue, offered in ``campaigns`` (every campaign when none).

    A campaign of another customer is refused, naming it; a name the customer already has is refused.
    """
    campaigns = project_campaigns_checked(customer=customer, campaigns=campaigns)
    with transaction.atomic():
        project = Project(customer=customer, name=_project_name(customer, name), is_active=is_active)
        project.full_clean()
        project.save()
        project.campaigns.set(campaigns)
    logger.info("%s added the project %s (#%s) for %s", actor_label(actor), project, project.pk, customer)
    return project


def project_update(
    *, project: Project, name: str, campaigns: list[Campaign] | None, is_active: bool, actor: Actor
) -> Project:
    """Rename a project, change the campaigns that offer it (none: every campaign) or switch it off or on.

    Its customer never changes. Opportunities already made keep it; a switched-off project is offered to no
    new one. A campaign of another customer or a name the customer already has is refused and nothing changes;
    a repeat call changes nothing more.
    """
    with transaction.atomic():
        project = Project.objects.select_for_update().select_related("customer").get(pk=project.pk)
        campaigns = project_campaigns_checked(customer=project.customer, campaigns=campaigns)
        project.name = _project_name(project.customer, name, but=project.pk)
        project.is_active = is_active
        project.full_clean()
        project.save(update_fields=["name", "is_active", "updated_at"])
        project.campaigns.set(campaigns)
    logger.info("%s changed the project %s (#%s)", actor_label(actor), project, project.pk)
    return project


def _lost_reason_label(customer: Customer, label: str, *, but: int | None = None) -> str:
    label = _words(label, field="label", what="lost reason")
    if _name_taken(LostReason.objects.filter(customer=customer), field="label", value=label, but=but):
        raise LeadopsError(f"{customer} already has the lost reason {label!r}.", field="label")
    return label


def lost_reason_create(
    *,
    customer: Customer,
    label: str,
    needs_note: bool = False,
    is_active: bool = True,
    sort_order: int = 0,
    actor: Actor,
) -> LostReason:
    """Add a lost reason to ``customer``'s list; ``needs_note`` makes whoever chooses it say more.

    A label the customer already has (whatever its case) is refused.
    """
    with transaction.atomic():
        reason = LostReason(
            customer=customer,
            label=_lost_reason_label(customer, label),
            needs_note=needs_note,
            is_active=is_active,
            sort_order=sort_order,
        )
        reason.full_clean()
        reason.save()
    logger.info("%s added the lost reason %s (#%s) for %s", actor_label(actor), reason, reason.pk, customer)
    return reason


def lost_reason_update(
    *, lost_reason: LostReason, label: str, needs_note: bool, is_active: bool, sort_order: int, actor: Actor
) -> LostReason:
    """Change a lost reason of a customer's list, or switch it off (its customer never changes).

    Lost opportunities keep the reason they were given; a switched-off reason is offered to no new one. A
    label the customer already has is refused and nothing changes; a repeat call changes nothing more.
    """
    with transaction.atomic():
        reason = LostReason.objects.select_for_update().select_related("customer").get(pk=lost_reason.pk)
        reason.label = _lost_reason_label(reason.customer, label, but=reason.pk)
        reason.needs_note, reason.is_active, reason.sort_order = needs_note, is_active, sort_order
        reason.full_clean()
        reason.save(update_fields=["label", "needs_note", "is_active", "sort_order"])
    logger.info("%s changed the lost reason %s (#%s)", actor_label(actor), reason, reason.pk)
    return reason


def _stage_label(campaign: Campaign, label: str, *, but: int | None = None) -> str:
    label = _words(label, field="label", what="consideration stage")
    if _name_taken(ConsiderationStage.objects.filter(campaign=campaign), field="label", value=label, but=but):
        raise LeadopsError(f"The campaign {campaign} already has the consideration stage {label!r}.", field="label")
    return label


def consideration_stage_create(
    *, campaign: Campaign, label: str, is_active: bool = True, sort_order: int = 0, actor: Actor
) -> ConsiderationStage:
    """Add a consideration stage to ``campaign``'s list; a label the campaign already has is refused."""
    with transaction.atomic():
        stage = ConsiderationStage(
            campaign=campaign, label=_stage_label(campaign, label), is_active=is_active, sort_order=sort_order
        )
        stage.full_clean()
        stage.save()
    logger.info("%s added the consideration stage %s (#%s) to %s", actor_label(actor), stage, stage.pk, campaign)
    return stage


def consideration_stage_update(
    *, consideration_stage: ConsiderationStage, label: str, is_active: bool, sort_order: int, actor: Actor
) -> ConsiderationStage:
    """Change a consideration stage of a campaign's list, or switch it off (its campaign never changes).

    Opportunities at that stage keep it; a switched-off stage is offered to no new one. A label the campaign
    already has is refused and nothing changes; a repeat call changes nothing more.
    """
    with transaction.atomic():
        stage = ConsiderationStage.objects.select_for_update().select_related("campaign").get(pk=consideration_stage.pk)
        stage.label = _stage_label(stage.campaign, label, but=stage.pk)
        stage.is_active, stage.sort_order = is_active, sort_order
        stage.full_clean()
        stage.save(update_fields=["label", "is_active", "sort_order"])
    logger.info("%s changed the consideration stage %s (#%s)", actor_label(actor), stage, stage.pk)
    return stage

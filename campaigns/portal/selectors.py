"""The portal's reads. Every one starts from ``owned``: the customer is a filter in the query itself.

An object of another customer is therefore not found (404), never found-then-refused (403), and a new
page cannot forget the scope without also not using these functions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Exists, IntegerField, Model, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.http import Http404

from campaigns.models import (
    Account,
    Block,
    Campaign,
    ConsiderationStage,
    Contact,
    ContactPhone,
    Customer,
    Lead,
    LeadStatus,
    Opportunity,
    OpportunityEvent,
    Project,
    UndoRequest,
    User,
)
from campaigns.rules import lead_stopped_by
from campaigns.selectors.explaining import CUSTOMER, explain_many
from suppressions.crm.models import CrmConnection, CrmEvent, CrmRule, CrmRuleChange
from suppressions.models import Entry, RejectedRow, Upload

# How each model the portal shows belongs to a customer. A model missing here cannot be read through
# ``owned``: adding a page over a new model means saying how it is scoped first.
SCOPE_FIELDS: dict[type[Model], str] = {
    Campaign: "customer_id",
    Account: "customer_id",
    Contact: "customer_id",
    Lead: "customer_id",
    Block: "customer_id",
    Upload: "customer_id",
    Entry: "customer_id",
    RejectedRow: "upload__customer_id",
    User: "customer_id",
    Opportunity: "customer_id",
    OpportunityEvent: "opportunity__customer_id",
    Project: "customer_id",
    ConsiderationStage: "campaign__customer_id",
    # Self-service: the customer's CRM and its requests to the agency.
    CrmConnection: "customer_id",
    CrmEvent: "connection__customer_id",
    CrmRule: "customer_id",
    CrmRuleChange: "rule__customer_id",
    UndoRequest: "customer_id",
}

# What each block source is called on the customer's side.
SOURCE_LABELS: dict[str, str] = {
    Block.Source.DISPOSITION: "Call outcome",
    Block.Source.OPS_DISQUALIFY: "Disqualified by the agency",
    Block.Source.OPS_PHONE_DNC: "Agency Do-Not-Call list",
    Block.Source.CUSTOMER_DNC: "Your Do Not Call marks",
    Block.Source.SUPPRESSION: "Your suppression lists",
    Block.Source.CRM_RULE: "Your CRM rules",
    Block.Source.MEETING_OUTCOME: "Outreach finished after a meeting (qualified or not)",
    Block.Source.UNREACHABLE: "Unreachable (attempt cap)",
    Block.Source.FIT_RULE: "Campaign fit rules",
    Block.Source.REGISTRY: "Do-Not-Call registries",
}
NO_NUMBER = "no_number"
NO_NUMBER_LABEL = "No phone number on file"


def owned(source: type[Model] | QuerySet, customer: Customer | None) -> QuerySet:
    """Return ``source`` (a model or a queryset) filtered to ``customer``'s rows; nothing without a customer."""
    queryset = source if isinstance(source, QuerySet) else source._default_manager.all()
    field = SCOPE_FIELDS[queryset.model]
    if customer is None:
        return queryset.none()
    return queryset.filter(**{field: customer.pk})


def owned_or_404(source: type[Model] | QuerySet, customer: Customer | None, pk: object) -> Model:
    """Return the one row of ``customer`` with primary key ``pk``; 404 whether it is missing or someone else's."""
    try:
        return owned(source, customer).get(pk=pk)
    except (ValueError, TypeError, ObjectDoesNotExist) as exc:
        raise Http404("Not found.") from exc


# --- Home -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignPool:
    campaign: Campaign
    eligible: int
    waiting: int
    disqualified: int

    @property
    def total(self) -> int:
        return self.eligible + self.waiting + self.disqualified


def campaign_pools(customer: Customer) -> list[CampaignPool]:
    """Return the customer's campaigns with their pool counts by status: two queries, whatever the size."""
    campaigns = list(owned(Campaign, customer).exclude(status=Campaign.Status.ARCHIVED).order_by("name"))
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        owned(Lead, customer)
        .filter(campaign__in=[c.pk for c in campaigns])
        .order_by()
        .values("campaign_id", "status")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        counts[row["campaign_id"]][row["status"]] = row["n"]
    return [
        CampaignPool(
            campaign=campaign,
            eligible=counts[campaign.pk].get(LeadStatus.ELIGIBLE, 0),
            waiting=counts[campaign.pk].get(LeadStatus.WAITING, 0),
            disqualified=counts[campaign.pk].get(LeadStatus.DISQUALIFIED, 0),
        )
        for campaign in campaigns
    ]


def stopped_by(*, source: str | None = None, since: datetime | None = None, until: datetime | None = None) -> Q:
    """Return the condition, over ``Lead`` rows, that an active block of ``source`` (made in the dates) stops it.

    Number blocks count only when the contact has no number left to dial, as in the status rule
    (``campaigns.rules.lead_stopped_by``).
    """
    blocks = Block.objects.all()
    if source:
        blocks = blocks.filter(source=source)
    if since:
        blocks = blocks.filter(created_at__gte=since)
    if until:
        blocks = blocks.filter(created_at__lt=until)
    return lead_stopped_by(blocks)


def has_no_number() -> Q:
    """Return the condition, over ``Lead`` rows, that the contact has no phone number at all."""
    return ~Q(Exists(ContactPhone.objects.filter(contact_id=OuterRef("contact_id"))))


@dataclass(frozen=True)
class ReasonCount:
    code: str
    label: str
    count: int


def disqualifications_by_source(customer: Customer) -> list[ReasonCount]:
    """Return how many of the customer's Disqualified leads each source stops, in one query.

    A lead stopped for two reasons counts under both; sources that stop nobody are left out.
    """
    disqualified = owned(Lead, customer).filter(status=LeadStatus.DISQUALIFIED)
    aggregates = {code: Count("pk", filter=stopped_by(source=code)) for code in SOURCE_LABELS}
    aggregates[NO_NUMBER] = Count("pk", filter=has_no_number())
    totals = disqualified.aggregate(**aggregates)
    labels = {**SOURCE_LABELS, NO_NUMBER: NO_NUMBER_LABEL}
    counts = [ReasonCount(code, labels[code], totals[code] or 0) for code in labels]
    return sorted((c for c in counts if c.count), key=lambda c: -c.count)


# --- Disqualified leads and why ---------------------------------------------------------------------


def disqualified_leads(customer: Customer) -> QuerySet[Lead]:
    """Return the customer's Disqualified leads, most recently changed first, with what a row shows."""
    return (
        owned(Lead, customer)
        .filter(status=LeadStatus.DISQUALIFIED)
        .select_related("contact__account", "campaign", "customer")
        .order_by("-updated_at", "-id")
    )


def lead_reasons(leads: Iterable[Lead], *, customer: Customer) -> dict[int, list[str]]:
    """Return, per lead id of ``customer``, the customer-audience sentences of every block that stops it.

    ``explain_many``'s reasons for a page in a few queries; ``leads`` need ``contact``, ``campaign`` and
    ``customer`` loaded (``disqualified_leads`` does). Another customer's lead gets nothing.
    """
    own = [lead for lead in leads if lead.customer_id == customer.pk]
    if not own:
        return {}
    return {
        pk: [ReasonText(r.message, block_id=r.block_id) for r in reasons]
        for pk, reasons in explain_many(own, audience=CUSTOMER).items()
    }


class ReasonText(str):
    """A reason's sentence, carrying the id of the block it is about (None when no block says it): the portal
    offers to ask the agency to lift that block."""

    block_id: int | None

    def __new__(cls, text: str, *, block_id: int | None) -> ReasonText:
        made = super().__new__(cls, text)
        made.block_id = block_id
        return made


def own_dnc_marks(customer: Customer) -> QuerySet[Block]:
    """Return the customer's own active Do Not Call marks (the only blocks a customer may lift)."""
    return owned(Block, customer).active().filter(source=Block.Source.CUSTOMER_DNC, reach=Block.Reach.CUSTOMER)


def accounts_for(customer: Customer) -> QuerySet[Account]:
    marks = own_dnc_marks(customer).filter(target=Block.Target.ACCOUNT, account_id=OuterRef("pk"))
    return owned(Account, customer).annotate(marked_dnc=Exists(marks)).order_by("name", "id")


def contacts_for(customer: Customer) -> QuerySet[Contact]:
    marks = own_dnc_marks(customer).filter(target=Block.Target.CONTACT, contact_id=OuterRef("pk"))
    return (
        owned(Contact, customer)
        .annotate(marked_dnc=Exists(marks))
        .select_related("account")
        # The numbers come joined to their links: prefetching ``phones__phone`` looks them up by a chain
        # of one OR per number, which SQLite refuses past a thousand ("Expression tree is too large").
        .prefetch_related(Prefetch("phones", queryset=ContactPhone.objects.select_related("phone")), "emails")
        .order_by("last_name", "first_name", "id")
    )


def leads_of_contacts(customer: Customer, contacts: Iterable[Contact]) -> QuerySet[Lead]:
    return owned(Lead, customer).filter(contact__in=list(contacts)).select_related("campaign", "contact")


# --- Suppressions ---------------------------------------------------------------------------------------


def _leads_matched_by_upload() -> Subquery:
    """Return a subquery over ``Upload`` rows: how many leads the upload's active suppression blocks stop."""
    entry_ct = ContentType.objects.get_for_model(Entry)
    blocks = Block.objects.active().filter(
        source=Block.Source.SUPPRESSION,
        evidence_type_id=entry_ct.pk,
        evidence_id__in=Entry.objects.filter(upload_id=OuterRef(OuterRef(OuterRef("pk")))).values("pk"),
    )
    leads = (
        Lead.objects.filter(customer_id=OuterRef("customer_id"))
        .filter(
            Q(contact_id__in=blocks.filter(target=Block.Target.CONTACT).values("contact_id"))
            | Q(contact__account_id__in=blocks.filter(target=Block.Target.ACCOUNT).values("account_id"))
        )
        .order_by()
        .annotate(one=Value(1))
        .values("one")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Subquery(leads, output_field=IntegerField())


def uploads_for(customer: Customer) -> QuerySet[Upload]:
    """Return the customer's uploads, newest first, each with ``leads_matched``: one query per page."""
    return owned(Upload, customer).select_related("uploaded_by").annotate(leads_matched=_leads_matched_by_upload())


def active_entries_for(customer: Customer) -> QuerySet[Entry]:
    return owned(Entry, customer).active().select_related("upload").order_by("-id")


def rejected_rows_of(upload: Upload, customer: Customer) -> QuerySet[RejectedRow]:
    return owned(RejectedRow, customer).filter(upload=upload).order_by("line", "id")


# --- Opportunities ----------------------------------------------------------------------------------------


def opportunities_for(customer: Customer) -> QuerySet[Opportunity]:
    """Return the customer's opportunities, most recently qualified first, with what a row shows."""
    return owned(Opportunity, customer).select_related(
        "account", "contact", "campaign", "project", "consideration_stage", "lost_reason"
    )


def opportunity_history(opportunity: Opportunity, customer: Customer) -> QuerySet[OpportunityEvent]:
    """Return what happened to one of the customer's opportunities, oldest first (who did it is not shown)."""
    return owned(OpportunityEvent, customer).filter(opportunity=opportunity).order_by("at", "id")


# --- Self-service: the customer's CRM connections and rules, its requests to the agency -------------------


def connections_for(customer: Customer) -> QuerySet[CrmConnection]:
    """Return the customer's CRM connections, each with its events processed, failed and pending."""
    status = CrmEvent.Status
    return (
        owned(CrmConnection, customer)
        .annotate(
            n_processed=Count("events", filter=Q(events__status=status.PROCESSED)),
            n_failed=Count("events", filter=Q(events__status=status.FAILED)),
            n_pending=Count("events", filter=Q(events__status=status.PENDING)),
        )
        .order_by("name", "id")
    )


def recent_failures(connection: CrmConnection, customer: Customer, *, limit: int = 10) -> QuerySet[CrmEvent]:
    """Return the connection's latest failed events (their ``error`` says why in words)."""
    return (
        owned(CrmEvent, customer)
        .filter(connection=connection, status=CrmEvent.Status.FAILED)
        .order_by("-received_at", "-id")[:limit]
    )


def rules_for(customer: Customer) -> QuerySet[CrmRule]:
    """Return the customer's CRM rules, each with how many records it matches now."""
    return (
        owned(CrmRule, customer)
        .annotate(open_matches=Count("matches", filter=Q(matches__ended_at__isnull=True)))
        .order_by("name", "id")
    )


def rule_history(rule: CrmRule, customer: Customer) -> list[CrmRuleChange]:
    """Return the rule's changes, newest first, each with ``who``: the customer's own user by name, anyone else
    as "the agency"."""
    changes = list(owned(CrmRuleChange, customer).filter(rule=rule).select_related("changed_by", "rule"))
    for change in changes:
        change.who = change.changed_by.get_username() if change.by_customer else "the agency"
    return changes


def undo_requests_for(customer: Customer) -> QuerySet[UndoRequest]:
    """Return the customer's requests to lift a block, newest first, with the lead they are about."""
    return owned(UndoRequest, customer).select_related("lead__contact", "lead__campaign", "requested_by")


def open_undo_requests(customer: Customer, leads: Iterable[Lead]) -> set[tuple[int, int]]:
    """Return ``(lead id, block id)`` of the open requests on ``leads``: their sentences say "asked"."""
    return set(
        owned(UndoRequest, customer)
        .filter(lead__in=[lead.pk for lead in leads], state=UndoRequest.State.OPEN)
        .values_list("lead_id", "block_id")
    )

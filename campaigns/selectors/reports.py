"""The lead report, written once: the admin's page, the portal's page, their CSV and ``manage.py lead_report``
all read ``lead_report`` with a ``ReportQuery``, and every number's list of leads is ``cell_leads``.

The figures are counts over the lead facts (``LeadFact``, rebuilt by ``campaigns.services.reporting``) of the
leads that came in during the period, grouped by one or two dimensions. Junk rows never became leads: lead
import registers what counts them (``junk_counter_register``), by campaign, source and day; grouped by a
segment they fall under "(not known)". False blocks are counted over the blocks themselves, fit-rule changes
from ``FitRuleChange``.

What a customer reads (``audience=CUSTOMER``) is its own data only, and never a staff name: a block lifted by
the agency's staff is lifted by "the agency".
"""

from __future__ import annotations

import urllib.parse
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from campaigns.models import Block, Campaign, Customer, FitRuleChange, Lead, LeadFact, LeadFactRefresh
from campaigns.rules import UNQUALIFY_REASONS
from leadops.charts import bar_chart, line_chart
from leadops.errors import LeadopsError

OPS = "ops"
CUSTOMER = "customer"

# Dimension → (the facts' column, its heading).
DIMENSIONS: dict[str, tuple[str, str]] = {
    "source": ("source", "Lead source"),
    "campaign": ("campaign_id", "Campaign"),
    "customer": ("customer_id", "Customer"),
    "country": ("country", "Country"),
    "industry": ("industry", "Industry"),
    "size": ("size_band", "Company size"),
    "title": ("title", "Title"),
    "age": ("age", "Age"),
    "nationality": ("nationality", "Nationality"),
    "income": ("income", "Income band"),
}
# What a junk row is known by (its import's campaign, customer and source); grouped by anything else it is "".
JUNK_DIMENSIONS = {"source", "campaign", "customer"}
NOT_KNOWN = "(not known)"

ENTRY = {
    "entry_existing": "existing blocks",
    "entry_suppression": "suppressions",
    "entry_crm_rule": "CRM rules",
    "entry_fit_rule": "fit rules",
    "entry_registry": "Do-Not-Call registries",
    "entry_other": "other blocks",
}
# Each block source as a column heading names it after "later: ", in its own casing (the workflows' names, DNC, CRM).
LATER = {
    Block.Source.DISPOSITION: "call disposition",
    Block.Source.OPS_DISQUALIFY: "Disqualify workflow",
    Block.Source.OPS_PHONE_DNC: "Mark Phone DNC workflow",
    Block.Source.CUSTOMER_DNC: "customer Do Not Call",
    Block.Source.SUPPRESSION: "customer suppression",
    Block.Source.CRM_RULE: "CRM rule",
    Block.Source.MEETING_OUTCOME: "meeting outcome",
    Block.Source.UNREACHABLE: "attempt cap reached",
    Block.Source.FIT_RULE: "campaign fit rule",
    Block.Source.REGISTRY: "Do-Not-Call registry",
}
_ENTRY_Q = Q(entry_disqualified=True)
UNQUALIFIED_REASONS = (*UNQUALIFY_REASONS, Block.Reason.NOT_QUALIFIED)
COVERAGE = {
    "has_phone": "phone",
    "has_email": "email",
    "has_title": "title",
    "has_industry": "industry",
    "has_size": "company size",
    "has_country": "country",
}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    condition: Q | None  # over LeadFact; None for junk, which is no lead
    group: str = ""


def _columns() -> list[Column]:
    reasons = dict(Block.Reason.choices)
    return [
        Column("leads", "Leads in", Q()),
        Column("junk", "Junk rows", None),
        Column("entry", "Disqualified at entry", _ENTRY_Q),
        *(Column(key, f"at entry: {label}", Q(**{key: True}), "entry") for key, label in ENTRY.items()),
        Column("no_number", "No number to dial", Q(has_phone=False, entry_disqualified=False)),
        Column("entered", "Entered the pool", Q(has_phone=True, entry_disqualified=False)),
        Column("attempted", "Attempted", Q(attempted=True)),
        Column("connected", "Connected", Q(connected=True)),
        Column("meeting", "Meetings booked", Q(meeting=True)),
        Column("qualified", "Qualified", Q(qualified=True)),
        Column("unqualified", "Unqualified", ~Q(unqualified_reason="")),
        *(
            Column(f"unqualified_{r}", f"unqualified: {reasons[r].lower()}", Q(unqualified_reason=r), "unqualified")
            for r in UNQUALIFIED_REASONS
        ),
        Column("later", "Disqualified later", Q(later_any=True)),
        *(Column(f"later_{s}", f"later: {LATER[s]}", Q(**{f"later_{s}": True}), "later") for s in Block.Source.values),
        *(Column(key, f"with {label}", Q(**{key: True}), "coverage") for key, label in COVERAGE.items()),
    ]


COLUMNS = _columns()
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}
# Rate → (heading, numerator column, denominator columns: their sum).
RATES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "acceptance": ("Acceptance rate", "entered", ("leads", "junk")),
    "contact": ("Contact rate", "connected", ("attempted",)),
    "meeting_conversion": ("Lead-to-meeting", "meeting", ("entered",)),
    "qualified_rate": ("Meeting-to-qualified", "qualified", ("meeting",)),
    **{f"coverage_{key}": (f"{label.capitalize()} coverage", key, ("leads",)) for key, label in COVERAGE.items()},
}


def rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


# --- junk rows, counted by lead import -------------------------------------------------------------------

# (customer id or None, campaign ids or None, first day, day after the last) → rows of
# (customer id, campaign id, source, day, junk rows).
JunkCounter = Callable[[int | None, tuple[int, ...] | None, datetime | None, datetime | None], Iterable[tuple]]
_JUNK_COUNTERS: list[JunkCounter] = []


def junk_counter_register(counter: JunkCounter) -> None:
    """Register what counts junk rows for the report (lead import does, in its ``ready()``)."""
    if counter not in _JUNK_COUNTERS:
        _JUNK_COUNTERS.append(counter)


# --- the query -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportQuery:
    """What a report counts: a customer's (or, for ops, every customer's) leads, of some campaigns or all, that
    came in from ``since`` to ``until`` (days, both included; open when None), grouped by ``by``."""

    customer_id: int | None
    by: tuple[str, ...] = ("source",)
    campaign_ids: tuple[int, ...] | None = None
    since: date | None = None
    until: date | None = None

    def __post_init__(self):
        if not 1 <= len(self.by) <= 2:
            raise LeadopsError("Group the report by one or two of: " + ", ".join(DIMENSIONS) + ".", field="by")
        unknown = [d for d in self.by if d not in DIMENSIONS]
        if unknown:
            raise LeadopsError(
                f"The report cannot be grouped by {', '.join(unknown)}: choose from {', '.join(DIMENSIONS)}.",
                field="by",
            )
        if len(set(self.by)) != len(self.by):
            raise LeadopsError("Group the report by two different dimensions.", field="by")
        if self.customer_id is not None and "customer" in self.by:
            raise LeadopsError("A customer's report is of one customer: group it by something else.", field="by")
        if self.since and self.until and self.since > self.until:
            raise LeadopsError("The period ends before it starts.", field="until")

    @property
    def start(self) -> datetime | None:
        return timezone.make_aware(datetime.combine(self.since, time.min)) if self.since else None

    @property
    def end(self) -> datetime | None:
        """The moment after the period (the start of the day after ``until``)."""
        return timezone.make_aware(datetime.combine(self.until + timedelta(days=1), time.min)) if self.until else None

    def facts(self) -> QuerySet[LeadFact]:
        facts = LeadFact.objects.all()
        if self.customer_id is not None:
            facts = facts.filter(customer_id=self.customer_id)
        if self.campaign_ids is not None:
            facts = facts.filter(campaign_id__in=self.campaign_ids)
        if self.start:
            facts = facts.filter(entered_at__gte=self.start)
        if self.end:
            facts = facts.filter(entered_at__lt=self.end)
        return facts.order_by()

    def junk_rows(self) -> list[tuple]:
        return [
            row
            for counter in _JUNK_COUNTERS
            for row in counter(self.customer_id, self.campaign_ids, self.start, self.end)
        ]

    def to_params(self) -> dict[str, str]:
        """Return the query as URL parameters (what ``query_from_params`` reads back)."""
        params = {"by": ",".join(self.by)}
        if self.campaign_ids is not None:
            params["campaign"] = ",".join(str(pk) for pk in self.campaign_ids)
        if self.since:
            params["since"] = self.since.isoformat()
        if self.until:
            params["until"] = self.until.isoformat()
        if self.customer_id is not None:
            params["customer"] = str(self.customer_id)
        return params


def _day(text: str, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise LeadopsError(f"{name}: {text!r} is not a date (write it as 2026-03-31).", field=name) from None


def _ids(text: str, name: str) -> tuple[int, ...] | None:
    if not text.strip():
        return None
    try:
        return tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        raise LeadopsError(f"{name}: {text!r} is not a list of ids.", field=name) from None


def query_from_params(params, *, customer_id: int | None) -> ReportQuery:
    """Return the report a request (or a command line) asks for; ``customer_id`` is the customer it is scoped to
    (the portal's user's, whatever the parameters say), or None for ops, who may name one."""
    if customer_id is None:
        customer_id = _ids(params.get("customer", ""), "customer")
        if customer_id is not None and len(customer_id) != 1:
            raise LeadopsError("Choose one customer, or none for every customer.", field="customer")
        customer_id = customer_id[0] if customer_id else None
    by = tuple(d.strip() for d in (params.get("by") or "source").split(",") if d.strip())
    return ReportQuery(
        customer_id=customer_id,
        by=by,
        campaign_ids=_ids(params.get("campaign", ""), "campaign"),
        since=_day(params.get("since", ""), "since"),
        until=_day(params.get("until", ""), "until"),
    )


# --- the figures -----------------------------------------------------------------------------------------


@dataclass
class Row:
    key: tuple[object, ...]  # the dimensions' values ("" when not known)
    labels: tuple[str, ...]
    counts: dict[str, int]

    def rate(self, name: str) -> float | None:
        _, numerator, denominators = RATES[name]
        return rate(self.counts[numerator], sum(self.counts[d] for d in denominators))


@dataclass
class FalseBlocks:
    by_source: list[tuple[str, str, int, int]]  # (source, label, made, lifted)
    by_lifter: list[tuple[str, int]]  # (who lifted, how many)
    made: int = 0
    lifted: int = 0


@dataclass
class Comparison:
    change: FitRuleChange
    who: str
    before: Row
    after: Row
    days: int
    lines: list[tuple[str, object, object]] = field(default_factory=list)


@dataclass
class Report:
    query: ReportQuery
    rows: list[Row]
    total: Row
    weeks: list[Row]
    false_blocks: FalseBlocks
    comparisons: list[Comparison]
    refreshed_at: datetime | None
    audience: str
    headings: tuple[str, ...] = field(default=())


def _count_rows(facts: QuerySet[LeadFact], fields: list[str]) -> dict[tuple, dict[str, int]]:
    # Named apart from the facts' own columns: an aggregate named ``has_phone`` would be what ``has_phone=True``
    # filters on.
    aggregates = {f"n_{c.key}": Count("pk", filter=c.condition) for c in COLUMNS if c.condition is not None}
    aggregates["n_leads"] = Count("*")
    if not fields:
        values = facts.aggregate(**aggregates)
        return {(): {key[2:]: values[key] for key in aggregates}}
    found: dict[tuple, dict[str, int]] = {}
    for values in facts.values(*fields).annotate(**aggregates).order_by():
        found[tuple(values[f] for f in fields)] = {key[2:]: values[key] for key in aggregates}
    return found


def _empty() -> dict[str, int]:
    return {column.key: 0 for column in COLUMNS}


def _labels(query: ReportQuery, keys: Iterable[tuple]) -> dict[tuple[str, object], str]:
    """Return the words for each (dimension, value) the rows show: campaign and customer names, "(not known)"."""
    keys = list(keys)
    words: dict[tuple[str, object], str] = {}
    for index, dimension in enumerate(query.by):
        values = {key[index] for key in keys}
        if dimension == "campaign":
            names = dict(Campaign.objects.filter(pk__in=[v for v in values if v]).values_list("pk", "name"))
        elif dimension == "customer":
            names = dict(Customer.objects.filter(pk__in=[v for v in values if v]).values_list("pk", "name"))
        else:
            names = {v: str(v) for v in values if v not in (None, "")}
        for value in values:
            words[(dimension, value)] = names.get(value, NOT_KNOWN)
    return words


def who_in_words(*, username: str | None, user_customer_id: int | None, audience: str, customer_id: int | None) -> str:
    """Return who did something, for ``audience``: ops read the username; a customer reads "your team" for its
    own users and "the agency" for staff; nobody's (a job's) reads "automatically (a rule or job)"."""
    if username is None:
        return "automatically (a rule or job)"
    if audience == CUSTOMER:
        return "your team" if user_customer_id is not None and user_customer_id == customer_id else "the agency"
    return username


def false_blocks(query: ReportQuery, *, audience: str) -> FalseBlocks:
    """Of the blocks made in the period, how many were later lifted, by source and by who lifted them.

    A customer's are the blocks of its reach (its own and its campaigns'); ops asking for every customer also
    count the platform-wide ones. Chosen campaigns narrow it to their blocks and the customer-wide ones.
    """
    blocks = Block.objects.order_by()
    if query.customer_id is not None:
        blocks = blocks.filter(customer_id=query.customer_id)
    if query.campaign_ids is not None:
        blocks = blocks.filter(Q(campaign_id__in=query.campaign_ids) | Q(campaign__isnull=True, customer__isnull=False))
    if query.start:
        blocks = blocks.filter(created_at__gte=query.start)
    if query.end:
        blocks = blocks.filter(created_at__lt=query.end)
    labels = dict(Block.Source.choices)
    by_source = [
        (row["source"], labels.get(row["source"], row["source"]), row["made"], row["lifted"])
        for row in blocks.values("source")
        .annotate(made=Count("pk"), lifted=Count("pk", filter=Q(lifted_at__isnull=False)))
        .order_by("source")
    ]
    lifters: dict[str, int] = defaultdict(int)
    for row in (
        blocks.filter(lifted_at__isnull=False)
        .values("lifted_by__username", "lifted_by__customer_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        who = who_in_words(
            username=row["lifted_by__username"],
            user_customer_id=row["lifted_by__customer_id"],
            audience=audience,
            customer_id=query.customer_id,
        )
        lifters[who] += row["n"]
    return FalseBlocks(
        by_source=by_source,
        by_lifter=sorted(lifters.items(), key=lambda item: (-item[1], item[0])),
        made=sum(r[2] for r in by_source),
        lifted=sum(r[3] for r in by_source),
    )


def _window_row(query: ReportQuery, *, campaign_id: int, start: datetime, end: datetime, label: str) -> Row:
    facts = LeadFact.objects.filter(campaign_id=campaign_id, entered_at__gte=start, entered_at__lt=end).order_by()
    if query.customer_id is not None:
        facts = facts.filter(customer_id=query.customer_id)
    counts = _empty()
    counts.update(_count_rows(facts, []).get((), {}))
    junk_query = replace(query, campaign_ids=(campaign_id,), since=None, until=None)
    for counter in _JUNK_COUNTERS:
        for *_, _day, n in counter(junk_query.customer_id, junk_query.campaign_ids, start, end):
            counts["junk"] += n
    return Row(key=(label,), labels=(label,), counts=counts)


def fit_rule_comparisons(query: ReportQuery, *, audience: str, days: int = 28) -> list[Comparison]:
    """Each change of a campaign's fit rules in the period: the leads that came in the ``days`` before it beside
    those of the ``days`` after it (acceptance, meeting conversion, enrichment coverage)."""
    changes = FitRuleChange.objects.select_related("campaign", "actor").order_by("-at", "-id")
    if query.customer_id is not None:
        changes = changes.filter(campaign__customer_id=query.customer_id)
    if query.campaign_ids is not None:
        changes = changes.filter(campaign_id__in=query.campaign_ids)
    if query.start:
        changes = changes.filter(at__gte=query.start)
    if query.end:
        changes = changes.filter(at__lt=query.end)
    found = []
    window = timedelta(days=days)
    for change in changes[:20]:
        actor = change.actor
        who = who_in_words(
            username=actor.get_username() if actor else None,
            user_customer_id=actor.customer_id if actor else None,
            audience=audience,
            customer_id=query.customer_id,
        )
        found.append(
            Comparison(
                change=change,
                who=who,
                before=_window_row(
                    query, campaign_id=change.campaign_id, start=change.at - window, end=change.at, label="before"
                ),
                after=_window_row(
                    query, campaign_id=change.campaign_id, start=change.at, end=change.at + window, label="after"
                ),
                days=days,
            )
        )
    return found


def lead_report(query: ReportQuery, *, audience: str = OPS) -> Report:
    """Return the report ``query`` asks for, worded for ``audience`` (``OPS`` or ``CUSTOMER``)."""
    fields = [DIMENSIONS[d][0] for d in query.by]
    # One scan: grouped by the dimensions and the week at once, then summed both ways (counts add up).
    counted = _count_rows(query.facts().annotate(week=TruncWeek("entered_at")), [*fields, "week"])
    rows: dict[tuple, dict[str, int]] = {}
    weeks: dict[object, dict[str, int]] = {}
    for key, counts in counted.items():
        *values, week = key
        week = week.date() if isinstance(week, datetime) else week
        for found, at in ((rows, tuple("" if v is None else v for v in values)), (weeks, week)):
            into = found.setdefault(at, _empty())
            for name, n in counts.items():
                into[name] += n
    for customer_id, campaign_id, source, day, n in query.junk_rows():
        known = {"source": source, "campaign": campaign_id, "customer": customer_id}
        key = tuple(known[d] if d in JUNK_DIMENSIONS else "" for d in query.by)
        rows.setdefault(key, _empty())["junk"] += n
        day = day.date() if isinstance(day, datetime) else day
        monday = day - timedelta(days=day.weekday())
        weeks.setdefault(monday, _empty())["junk"] += n
    words = _labels(query, rows)
    ordered = sorted(rows.items(), key=lambda item: (-item[1]["leads"] - item[1]["junk"], str(item[0])))
    report_rows = [
        Row(key=key, labels=tuple(words[(d, v)] for d, v in zip(query.by, key, strict=True)), counts=counts)
        for key, counts in ordered
    ]
    total = _empty()
    for row in report_rows:
        for name, n in row.counts.items():
            total[name] += n
    refreshed = None
    if query.customer_id is not None:
        refreshed = (
            LeadFactRefresh.objects.filter(customer_id=query.customer_id).values_list("refreshed_at", flat=True).first()
        )
    else:
        refreshed = LeadFactRefresh.objects.order_by("refreshed_at").values_list("refreshed_at", flat=True).first()
    return Report(
        query=query,
        rows=report_rows,
        total=Row(key=(), labels=("Total",), counts=total),
        weeks=[Row(key=(week,), labels=(week.isoformat(),), counts=weeks[week]) for week in sorted(weeks)],
        false_blocks=false_blocks(query, audience=audience),
        comparisons=fit_rule_comparisons(query, audience=audience),
        refreshed_at=refreshed,
        audience=audience,
        headings=tuple(DIMENSIONS[d][1] for d in query.by),
    )


# --- the leads behind a number ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One number of the report: a column, of the row whose dimensions have ``values`` (none: the total)."""

    query: ReportQuery
    column: str
    values: tuple[tuple[str, str], ...] = ()  # (dimension, value as text)

    def to_param(self) -> str:
        params = {**self.query.to_params(), "column": self.column}
        for dimension, value in self.values:
            params[f"d_{dimension}"] = value
        return urllib.parse.urlencode(sorted(params.items()))


def cell_from_param(text: str, *, customer_id: int | None) -> Cell:
    """Read a ``Cell.to_param`` back; ``customer_id`` scopes it as in ``query_from_params``."""
    params = dict(urllib.parse.parse_qsl(text or "", keep_blank_values=True))
    query = query_from_params(params, customer_id=customer_id)
    column = params.get("column", "")
    if column not in COLUMN_BY_KEY or COLUMN_BY_KEY[column].condition is None:
        raise LeadopsError(f"The report has no list of leads for {column!r}.", field="cell")
    values = tuple((d, params[f"d_{d}"]) for d in DIMENSIONS if f"d_{d}" in params)
    return Cell(query=query, column=column, values=values)


def cell_of(query: ReportQuery, column: str, row: Row | None = None) -> Cell | None:
    """Return the cell of ``column`` in ``row`` (the total when None), or None for a number with no leads (junk)."""
    if COLUMN_BY_KEY[column].condition is None:
        return None
    values = () if row is None or not row.key else tuple((d, str(v)) for d, v in zip(query.by, row.key, strict=True))
    return Cell(query=query, column=column, values=values)


def cell_facts(cell: Cell) -> QuerySet[LeadFact]:
    facts = cell.query.facts().filter(COLUMN_BY_KEY[cell.column].condition)
    for dimension, value in cell.values:
        column = DIMENSIONS[dimension][0]
        if column.endswith("_id"):
            facts = facts.filter(**{column: int(value)}) if value else facts.filter(**{f"{column}__isnull": True})
        else:
            facts = facts.filter(**{column: value})
    return facts


def cell_leads(cell: Cell, leads: QuerySet[Lead] | None = None) -> QuerySet[Lead]:
    """Return the leads behind ``cell``, among ``leads`` (all when None: the caller scopes them)."""
    leads = Lead.objects.all() if leads is None else leads
    return leads.filter(pk__in=cell_facts(cell).values("lead_id"))


# --- the report as tables (the pages, the CSV and the command print the same) ----------------------------

FUNNEL = ("leads", "junk", "entry", "no_number", "entered", "attempted", "connected", "meeting", "qualified")
OUTCOMES = ("unqualified", "later")
FUNNEL_RATES = ("acceptance", "contact", "meeting_conversion", "qualified_rate")


@dataclass(frozen=True)
class Figure:
    text: str
    cell: Cell | None = None  # the leads behind it, when it counts leads


@dataclass
class Table:
    title: str
    headings: list[str]
    rows: list[tuple[list[str], list[Figure]]]
    total: list[Figure]


def percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _detail_keys(report: Report) -> list[str]:
    """The breakdown columns (at entry by source, unqualified by reason, later by source) that count anything."""
    return [c.key for c in COLUMNS if c.group in ("entry", "unqualified", "later") and report.total.counts[c.key]]


def report_tables(report: Report) -> list[Table]:
    """Return the report as its three tables: the funnel with its rates, why leads left, enrichment coverage."""
    query = report.query
    dims = list(report.headings)

    def counts(keys: Iterable[str], row: Row | None) -> list[Figure]:
        source = row or report.total
        return [Figure(str(source.counts[k]), cell_of(query, k, row)) for k in keys]

    def rates(names: Iterable[str], row: Row | None) -> list[Figure]:
        return [Figure(percent((row or report.total).rate(name))) for name in names]

    def coverage(row: Row | None) -> list[Figure]:
        source = row or report.total
        return [
            Figure(f"{source.counts[k]} ({percent(source.rate(f'coverage_{k}'))})", cell_of(query, k, row))
            for k in COVERAGE
        ]

    detail = _detail_keys(report)
    funnel_keys = (*FUNNEL, *OUTCOMES)
    return [
        Table(
            "Funnel",
            [*dims, *(COLUMN_BY_KEY[k].label for k in funnel_keys), *(RATES[r][0] for r in FUNNEL_RATES)],
            [(list(r.labels), counts(funnel_keys, r) + rates(FUNNEL_RATES, r)) for r in report.rows],
            counts(funnel_keys, None) + rates(FUNNEL_RATES, None),
        ),
        Table(
            "Why leads left the pool",
            [*dims, *(COLUMN_BY_KEY[k].label for k in detail)],
            [(list(r.labels), counts(detail, r)) for r in report.rows],
            counts(detail, None),
        ),
        Table(
            "Enrichment coverage",
            [*dims, *(f"{label.capitalize()}" for label in COVERAGE.values())],
            [(list(r.labels), coverage(r)) for r in report.rows],
            coverage(None),
        ),
    ]


def csv_rows(report: Report) -> tuple[list[str], list[list[object]]]:
    """Return the report as one CSV table: every column and rate, a row per group and the total last."""
    header = [*report.headings, *(c.label for c in COLUMNS), *(RATES[r][0] for r in RATES)]
    lines = []
    for row in [*report.rows, report.total]:
        labels = list(row.labels) if row.key else ["Total", *[""] * (len(report.headings) - 1)]
        values = [row.counts[c.key] for c in COLUMNS]
        lines.append([*labels, *values, *(percent(row.rate(r)) for r in RATES)])
    return header, lines


def reason_bars(report: Report) -> list[tuple[str, int, Cell | None]]:
    """Return a bar per reason leads left: at entry by source, unqualified by reason, later by source."""
    return [(COLUMN_BY_KEY[k].label, report.total.counts[k], cell_of(report.query, k)) for k in _detail_keys(report)]


def weekly_series(report: Report) -> tuple[list[str], dict[str, list[int]]]:
    """Return the weeks (Mondays) and, for each, the leads in, the leads entered and the meetings booked."""
    weeks = [row.labels[0] for row in report.weeks]
    series = {
        "Leads in": [row.counts["leads"] for row in report.weeks],
        "Entered the pool": [row.counts["entered"] for row in report.weeks],
        "Meetings booked": [row.counts["meeting"] for row in report.weeks],
    }
    return weeks, series


def linked(tables: list[Table], url_for: Callable[[Cell], str]) -> list[dict]:
    """Return ``tables`` for a template: each figure as ``(text, href or "")``, ``url_for`` giving a cell's list."""

    def figures(items: list[Figure]) -> list[tuple[str, str]]:
        return [(f.text, url_for(f.cell) if f.cell else "") for f in items]

    return [
        {
            "title": t.title,
            "headings": t.headings,
            "dims": len(t.headings) - len(t.total),
            "rows": [(labels, figures(items)) for labels, items in t.rows],
            "total": figures(t.total),
        }
        for t in tables
    ]


def params_of(querydict) -> dict[str, str]:
    """Return a request's report parameters as text: ``by`` then ``then_by`` (two pickers), empty ones dropped."""
    params = {name: querydict.get(name, "") for name in ("customer", "campaign", "since", "until")}
    chosen = [*querydict.getlist("by"), *querydict.getlist("then_by")]
    params["by"] = ",".join(v for v in chosen if v.strip()) or "source"
    return params


def _comparison_lines(c: Comparison) -> list[tuple[str, object, object]]:
    b, a = c.before, c.after
    lines: list[tuple[str, object, object]] = [
        (COLUMN_BY_KEY[k].label, b.counts[k], a.counts[k]) for k in ("leads", "junk", "entered", "meeting")
    ]
    lines += [
        (RATES[r][0], percent(b.rate(r)), percent(a.rate(r))) for r in RATES if r not in ("contact", "qualified_rate")
    ]
    return lines


def report_page(report: Report, *, url_for: Callable[[Cell], str]) -> dict[str, object]:
    """Return what the report's pages show (``templates/reports/_figures.html``), ``url_for`` linking each number."""
    weeks, series = weekly_series(report)
    return {
        "report": report,
        "refreshed_at": report.refreshed_at,
        "tables": linked(report_tables(report), url_for),
        "reason_chart": bar_chart(
            [(label, n, url_for(cell) if cell else "") for label, n, cell in reason_bars(report)],
            title="Why leads left the pool",
        ),
        "trend_chart": line_chart(weeks, series, title="Week by week (the Monday of each week)"),
        "false_blocks": report.false_blocks,
        "false_share": percent(rate(report.false_blocks.lifted, report.false_blocks.made)),
        "false_rows": [
            (s, label, made, lifted, percent(rate(lifted, made)))
            for s, label, made, lifted in report.false_blocks.by_source
        ],
        "comparisons": [replace(c, lines=_comparison_lines(c)) for c in report.comparisons],
        "dimensions": [
            (key, label) for key, (_, label) in DIMENSIONS.items() if report.audience == OPS or key != "customer"
        ],
        "by1": report.query.by[0],
        "by2": report.query.by[1] if len(report.query.by) > 1 else "",
        "since": report.query.since.isoformat() if report.query.since else "",
        "until": report.query.until.isoformat() if report.query.until else "",
        "chosen_campaigns": list(report.query.campaign_ids or ()),
        "report_customer": report.query.customer_id,
    }

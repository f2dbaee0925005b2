"""Import a CRM export into a campaign, set-based, and scrub every lead before it can be pulled.

Rows are read with the shared reader (``suppressions.reading``), judged (junk rows stay out), and applied in
batches: each batch looks up the accounts, contacts and numbers it needs in a few queries, creates what is
missing with bulk inserts, joins contacts to the campaign, matches the new contacts against the
customer's active suppressions, applies the campaign's fit rules and recomputes statuses. No per-row
queries. Each batch commits with its progress, so the admin shows it moving and a run that died is resumed
where it stopped. One runner per import, and one merge at a time per customer: see ``locks``.

Matching (so that re-importing the same file creates nothing new):

- an account by its website domain, else by its name (case- and space-insensitive);
- a contact by any of its email addresses (within the customer), else by name plus a shared number within
  the account;
- a number by its E.164 form, shared with whoever has it already.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from campaigns.imports import junk
from campaigns.imports.columns import (
    ACCOUNT_ATTRIBUTES,
    CONTACT_ATTRIBUTES,
    FIELDS,
    IGNORE,
    LEAD_ALIASES,
    PHONE_FIELDS,
)
from campaigns.imports.models import ImportedLead, LeadImport, LeadImportIssue
from campaigns.imports.services.fit import campaign_fit_evaluate
from campaigns.imports.services.locks import customer_merge_lock, import_run_claim
from campaigns.imports.services.merging import MergeResult, ParsedBatch, batch_merge, json_text
from campaigns.models import (
    Block,
    Campaign,
    ContactPhone,
    Customer,
    Lead,
    LeadStatus,
)
from campaigns.rules import lead_stopped_by
from campaigns.services import contacts_scrub
from leadops.db import ids_query
from leadops.db import statistics_refresh as db_statistics_refresh
from leadops.errors import LeadopsError
from leadops.normalizing import NormalizationError, PhoneNormalizer, normalize_domain
from suppressions.reading import (
    ColumnPlan,
    UnreadableFile,
    estimate_rows,
    explicit_columns,
    open_table,
    plan_columns,
)
from suppressions.services.matching import contacts_match
from suppressions.services.pipeline import quick_gil_handover
from suppressions.services.registries import RegistryScope, registry_blocks_sync

logger = logging.getLogger(__name__)

# Rows per batch (one transaction each). 2,500 rather than 5,000: the same speed (64.0 and 65.2 s against 66.1
# and 65.1 s for 200,000 rows into 1,000,000 leads, bench/lead_import.py) in a peak of 274-275 MB rather than
# 302-304 MB, the floor measured apart; and a killed import resumes from a nearer batch.
BATCH_SIZE = 2500
T = TypeVar("T")


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def name_key(text: str) -> str:
    """Return a name as compared for matching: case- and space-insensitive."""
    return _squeeze(text).casefold()


@dataclass
class ParsedRow:
    line_number: int
    cells: tuple[str, ...]
    first_name: str = ""
    last_name: str = ""
    title: str = ""
    company: str = ""
    domain: str = ""
    emails: list[str] = field(default_factory=list)
    phones: list[tuple[str, str]] = field(default_factory=list)  # (e164, kind)
    source: str = ""
    account_attributes: dict[str, str] = field(default_factory=dict)
    contact_attributes: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return _squeeze(f"{self.first_name} {self.last_name}")

    @property
    def account_key(self) -> tuple[str, str]:
        if self.domain:
            return ("domain", self.domain)
        return ("name", name_key(self.company) or name_key(f"{self.full_name} (individual)"))


def explicit_mapping(mapping: Mapping[str, str] | None) -> dict[int | str, str] | None:
    """Return a column mapping as the reader takes it (``#2`` is the second column, other text a header:
    ``suppressions.reading.explicit_columns``), refusing unknown fields with a clear message."""
    for column, field_name in (mapping or {}).items():
        if field_name not in FIELDS and field_name != IGNORE:
            raise LeadopsError(
                f"Column '{column}' is mapped to '{field_name}', which is not a lead field. "
                f"Choose one of: {', '.join(FIELDS)}, or {IGNORE}.",
                field="column_mapping",
            )
    return explicit_columns(mapping)


def plan_lead_columns(head, *, mapping: Mapping[str, str] | None) -> tuple[ColumnPlan, list[str]]:
    """Return the column plan of a lead file and the header cells no field claims (reported, not fatal)."""
    explicit = explicit_mapping(mapping)
    if explicit is None:
        if not head:
            raise UnreadableFile("The file has no rows.", code="empty")
        first = head[0].cells
        fields = {i: f for i, cell in enumerate(first) if (f := LEAD_ALIASES.field_for(cell))}
        if not fields:
            raise UnreadableFile(
                "The first row names no lead column (for example 'First Name', 'Company', 'Phone', 'Email'). "
                "Add a header row, or map the columns when importing.",
                code="no_columns",
            )
        plan = ColumnPlan(has_header=True, fields=fields, header=first)
    else:
        plan = plan_columns(head, aliases=LEAD_ALIASES, explicit=explicit)
    unknown = [cell for i, cell in enumerate(plan.header) if cell and i not in plan.fields]
    fields = {i: f for i, f in plan.fields.items() if f != IGNORE}
    return ColumnPlan(has_header=plan.has_header, fields=fields, header=plan.header), unknown


def parse_row(
    line_number: int, cells: tuple[str, ...], *, plan: ColumnPlan, phones: PhoneNormalizer, default_source: str
) -> tuple[ParsedRow, junk.Verdict]:
    """Read one row into a ``ParsedRow`` and judge it."""
    row = ParsedRow(line_number=line_number, cells=cells, source=default_source)
    raw_emails: list[str] = []
    full_name = ""
    for index, field_name in plan.fields.items():
        value = _squeeze(cells[index]) if index < len(cells) else ""
        if not value:
            continue
        if field_name in PHONE_FIELDS:
            try:
                e164 = phones.normalize(value)
            except NormalizationError as exc:
                row.warnings.append(f"{plan.header[index] if plan.header else field_name}: {exc.message}")
            else:
                if e164 not in {p for p, _ in row.phones}:
                    row.phones.append((e164, PHONE_FIELDS[field_name]))
        elif field_name == "email":
            raw_emails.extend(part for part in value.replace(";", ",").split(",") if part.strip())
        elif field_name == "website":
            try:
                row.domain = normalize_domain(value)
            except NormalizationError as exc:
                row.warnings.append(f"website: {exc.message}")
        elif field_name == "full_name":
            full_name = value
        elif field_name == "lead_source":
            row.source = value[:120]
        elif field_name in ACCOUNT_ATTRIBUTES:
            row.account_attributes[field_name] = value
        elif field_name in CONTACT_ATTRIBUTES:
            row.contact_attributes[field_name] = value
        elif field_name in ("first_name", "last_name", "title", "company"):
            setattr(row, field_name, value[:255])
    if full_name and not (row.first_name or row.last_name):
        first, _, last = full_name.partition(" ")
        row.first_name, row.last_name = first[:120], last[:120]
    row.first_name, row.last_name, row.title = row.first_name[:120], row.last_name[:120], row.title[:200]
    verdict, usable = junk.judge(name=row.full_name, valid_phones=len(row.phones), emails=raw_emails)
    row.emails = list(dict.fromkeys(usable))
    if not verdict.is_junk and len(usable) < len(raw_emails):
        row.warnings.append("an email address was dropped: " + verdict.describe())
    return row, verdict


def stage_rows(rows: list[ParsedRow]) -> ParsedBatch:
    """Return a batch's kept rows as the merge's staging tables take them, with its accounts (one per account key,
    from its first row) and its groups (rows sharing an email, or a name and a number in one account, are one
    person: the group is named by its first row's line)."""
    batch = ParsedBatch()
    akeys: dict[tuple[str, str], int] = {}
    groups: dict[tuple, int] = {}
    for row in rows:
        key = row.account_key
        akey = akeys.get(key)
        if akey is None:
            akey = akeys[key] = len(akeys) + 1
            kind = key[0]
            individual = f"{row.full_name} (individual)"
            batch.accounts.append(
                (
                    akey,
                    kind,
                    row.domain,
                    "" if kind == "domain" else (row.company or individual),
                    (row.company or row.domain or individual)[:255],
                    json_text(row.account_attributes),
                )
            )
        person = name_key(row.full_name)
        identities = [("email", e) for e in row.emails] + [("phone", akey, person, e164) for e164, _ in row.phones]
        grp = next((groups[i] for i in identities if i in groups), row.line_number)
        for identity in identities:
            groups.setdefault(identity, grp)
        batch.rows.append(
            (
                row.line_number,
                grp,
                akey,
                row.first_name,
                row.last_name,
                row.title,
                row.source,
                json_text(row.contact_attributes),
            )
        )
        batch.emails.extend(
            (row.line_number, position, email, email.rpartition("@")[2]) for position, email in enumerate(row.emails)
        )
        batch.phones.extend((row.line_number, position, e164, kind) for position, (e164, kind) in enumerate(row.phones))
    return batch


def _apply_batch(staged: ParsedBatch, *, lead_import: LeadImport) -> MergeResult:
    campaign = lead_import.campaign
    started = time.perf_counter()
    statistics_refresh()
    merging = time.perf_counter()
    result = batch_merge(staged, campaign=campaign, lead_import_id=lead_import.pk, source=lead_import.source)
    scrubbing = time.perf_counter()
    scrub(campaign=campaign, contact_ids=result.contact_ids)
    # What a batch's parts cost (``bench/lead_import.py`` sums them).
    logger.debug("import phase statistics: %.3fs", merging - started)
    logger.debug("import phase merge: %.3fs", scrubbing - merging)
    logger.debug("import phase scrub: %.3fs", time.perf_counter() - scrubbing)
    return result


# The tables an import grows, whose statistics its statements are planned with.
_GROWN = (
    "campaigns_account",
    "campaigns_contact",
    "campaigns_contactemail",
    "campaigns_phonenumber",
    "campaigns_contactphone",
    "campaigns_lead",
    "campaigns_block",
    "imports_importedlead",
    # Not grown by an import, but read by its scrub: entries uploaded just before it (and not yet analysed by
    # autovacuum) were planned as none, and the suppression matching walked every entry of the customer per
    # batch (1.8 s a batch for 20,000 entries) instead of the batch's contacts' numbers.
    "suppressions_entry",
)


def statistics_refresh() -> None:
    """Refresh the planner's statistics of the tables an import grows (``leadops.db.statistics_refresh``):
    a 200,000-row import into a campaign whose contacts had no email, and no block, spent most of its time in
    lookups planned over empty tables. The counts are those of committed changes: this batch's are the next
    one's."""
    db_statistics_refresh(dict.fromkeys(_GROWN, 0))


def scrub(*, campaign: Campaign, contact_ids: Iterable[int]) -> None:
    """Scrub an import batch's contacts and their leads in ``campaign`` (``contacts_scrub``).

    After this, a lead of these contacts is Eligible only if nothing stops it.
    """
    contacts_scrub(customer=campaign.customer, contact_ids=contact_ids, campaign=campaign)


def scrub_step(*, customer: Customer, contact_ids: list[int], campaign: Campaign | None) -> None:
    """The scrub's step above the domain core: match the contacts against the customer's active suppressions,
    then judge their leads (in ``campaign``, else in each campaign they are in) by the fit rules.

    Registered with ``campaigns.services.scrubbing`` by ``ImportsConfig.ready``; ``contacts_scrub`` runs it
    and then recomputes the statuses.
    """
    contacts_match(customer=customer, contact_ids=contact_ids)
    # A consumer campaign's numbers on a registry: blocked in that campaign, as a suppression's are.
    registry_blocks_sync(
        scope=RegistryScope(campaign_id=campaign.pk if campaign else None, contact_ids=tuple(contact_ids)),
        recompute=False,
    )
    leads = Lead.objects.filter(customer_id=customer.pk, contact_id__in=ids_query(contact_ids))
    # The statuses of the leads a fit rule blocks are left to ``contacts_scrub``, which recomputes every lead
    # judged here (in ``campaign``, or every lead of the contacts) once the steps are done.
    if campaign is not None:
        campaign_fit_evaluate(campaign=campaign, leads=leads.filter(campaign=campaign), recompute=False)
        return
    for other in Campaign.objects.filter(pk__in=leads.values("campaign_id")).order_by("pk"):
        campaign_fit_evaluate(campaign=other, leads=leads.filter(campaign=other), recompute=False)


def _issues(rows: list[tuple[ParsedRow, junk.Verdict]], *, lead_import: LeadImport) -> list[LeadImportIssue]:
    issues = []
    for row, verdict in rows:
        if verdict.is_junk:
            issues.append(
                LeadImportIssue(
                    lead_import=lead_import,
                    line_number=row.line_number,
                    kind=LeadImportIssue.Kind.JUNK,
                    rules=",".join(verdict.problems),
                    message=f"Junk: {verdict.describe()}.",
                    cells=list(row.cells),
                )
            )
        elif row.warnings:
            issues.append(
                LeadImportIssue(
                    lead_import=lead_import,
                    line_number=row.line_number,
                    kind=LeadImportIssue.Kind.WARNING,
                    rules="",
                    message="; ".join(row.warnings),
                    cells=list(row.cells),
                )
            )
    return issues


def _batches(
    table, plan: ColumnPlan, *, phones: PhoneNormalizer, source: str, size: int, skip: int = 0
) -> Iterator[list[tuple[ParsedRow, junk.Verdict]]]:
    """Yield the parsed rows of ``table`` in batches of ``size``, after its first ``skip`` data rows."""
    rows = iter(table)
    if plan.has_header:
        next(rows, None)
    for _ in zip(range(skip), rows, strict=False):
        pass
    batch: list[tuple[ParsedRow, junk.Verdict]] = []
    for line_number, cells in rows:
        batch.append(parse_row(line_number, cells, plan=plan, phones=phones, default_source=source))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _prepare(batch: list[tuple[ParsedRow, junk.Verdict]], *, lead_import: LeadImport, copy_text: bool):
    """Return what the database part of a batch needs, all computed in Python: the batch, its kept rows, their
    staging rows (with ``copy_text``, rendered as ``COPY`` reads them too) and the batch's issues."""
    kept = [row for row, verdict in batch if not verdict.is_junk]
    staged = stage_rows(kept)
    if copy_text:
        staged.copy_ready()
    return batch, kept, staged, _issues(batch, lead_import=lead_import)


_DONE = object()


def read_ahead(items: Iterator[T], *, depth: int = 2) -> Iterator[T]:
    """Yield ``items``, computed ahead in a thread of their own (at most ``depth`` waiting).

    The import reads and judges the next batch while the database merges the last one: the reading holds
    the interpreter while the merging mostly waits on the server, so on two cores the two overlap. An
    exception in the reading is raised here, where the item would have been; a consumer that stops early
    stops the thread. Nothing in the thread touches the database.
    """
    waiting: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        waiting.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            outcome = (_DONE, None)
        except BaseException as exc:  # handed over and raised in the consumer
            outcome = (None, exc)
        while not stop.is_set():
            try:
                waiting.put(outcome, timeout=0.1)
                return
            except queue.Full:
                continue

    thread = threading.Thread(target=produce, name="lead-import-reader", daemon=True)
    thread.start()
    try:
        while True:
            item, error = waiting.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        thread.join()


# Set for each batch's transaction only (PostgreSQL), in the round trip that takes its merge lock:
#
# - ``synchronous_commit`` off: the commit returns before its WAL reaches the disk. Safe for an import: the
#   batch and the counts that say it was read commit together, so a crash that loses the last committed
#   batches loses their counts with them and the resumed import reads those rows again; and a later durable
#   commit that depends on them (a call on one of the new leads) flushes them first.
# - ``jit`` off: the staging tables have no statistics, so the planner's cost of a merge statement is a
#   guess high enough to compile it, which costs more than running it (tens of ms a statement).
# - ``random_page_cost`` 1.1: the tables a batch probes are in memory. At the default 4, matching a batch's
#   2,500 contacts against the suppression entries by number was planned as a hash of every contact's number
#   (1.3 million, 248 ms a batch) rather than 4,000 index probes (18 ms).
_BATCH_SETTINGS = (
    "SET LOCAL synchronous_commit TO OFF",
    "SET LOCAL jit TO OFF",
    "SET LOCAL random_page_cost TO 1.1",
)


_COUNTS = ("rows_read", "junk", "leads_created", "leads_existing", "accounts_created", "contacts_created")


def lead_import_run(*, lead_import_id: int, batch_size: int = BATCH_SIZE) -> LeadImport:
    """Read, merge and scrub an import's file into its campaign; return the import with its report.

    One runner at a time: a second call while another runner has the import returns it as it is (see
    ``locks``). Each batch commits with its rows, its issues and the running counts, so a run that died
    half-way (left ``reading``) or failed is resumed after its last committed row, and its report counts
    every row once. A file that cannot be read fails the import with the reason and changes nothing; an
    unexpected error fails it with a sentence saying so and where it stopped, and is logged with its
    traceback. Re-running a finished import changes nothing.
    """
    with import_run_claim(lead_import_id) as held:
        if not held:
            logger.info("Lead import #%s is being run by another runner: leaving it to that one.", lead_import_id)
            return LeadImport.objects.select_related("campaign__customer").get(pk=lead_import_id)
        return _run(lead_import_id=lead_import_id, batch_size=batch_size)


def _run(*, lead_import_id: int, batch_size: int) -> LeadImport:
    lead_import = LeadImport.objects.select_related("campaign__customer").get(pk=lead_import_id)
    if lead_import.status in (LeadImport.Status.DONE, LeadImport.Status.PREVIEW):
        return lead_import
    # What committed batches counted stands: carry on after the last row they read.
    totals = Counter({name: getattr(lead_import, name) for name in _COUNTS})
    LeadImport.objects.filter(pk=lead_import.pk).update(
        status=LeadImport.Status.READING,
        started_at=lead_import.started_at or timezone.now(),
        rows_total=max(estimate_rows(lead_import.file, filename=lead_import.original_name), totals["rows_read"]),
        rows_done=totals["rows_read"],
        error="",
    )
    customer_id = lead_import.campaign.customer_id
    phones = PhoneNormalizer(region=lead_import.campaign.customer.phone_region)
    try:
        with lead_import.file.open("rb") as stream, open_table(stream, filename=lead_import.original_name) as table:
            plan, unknown = plan_lead_columns(table.head(), mapping=lead_import.column_mapping)
            LeadImport.objects.filter(pk=lead_import.pk).update(unknown_columns=unknown)
            batches = _batches(
                table, plan, phones=phones, source=lead_import.source, size=batch_size, skip=totals["rows_read"]
            )
            copy_text = connection.vendor == "postgresql"  # asked here: the reading thread asks no database
            prepared = (_prepare(batch, lead_import=lead_import, copy_text=copy_text) for batch in batches)
            waited = time.perf_counter()
            # The main thread waits on PostgreSQL some sixty times a batch, each time needing the GIL back from
            # the reading thread: after up to 5 ms by default, 0.5 ms with this.
            with quick_gil_handover():
                for batch, kept, staged, issues in read_ahead(prepared):
                    logger.debug("import phase waiting for the reader: %.3fs", time.perf_counter() - waited)
                    with transaction.atomic():
                        customer_merge_lock(
                            customer_id=customer_id, lead_import_id=lead_import.pk, then=_BATCH_SETTINGS
                        )
                        LeadImportIssue.objects.bulk_create(issues, batch_size=BATCH_SIZE)
                        result = _apply_batch(staged, lead_import=lead_import) if kept else MergeResult()
                        totals.update(
                            {
                                "rows_read": len(batch),
                                "junk": len(batch) - len(kept),
                                "leads_created": result.leads_created,
                                "leads_existing": result.leads_existing,
                                "accounts_created": result.accounts_created,
                                "contacts_created": result.contacts_created,
                            }
                        )
                        LeadImport.objects.filter(pk=lead_import.pk).update(rows_done=totals["rows_read"], **totals)
                        committing = time.perf_counter()
                    waited = time.perf_counter()
                    logger.debug("import phase commit: %.3fs", waited - committing)
        statistics_refresh()
        counting = time.perf_counter()
        report = import_outcome(lead_import=lead_import)
        logger.debug("import phase report: %.3fs", time.perf_counter() - counting)
    except (UnreadableFile, LeadopsError) as exc:
        return _fail(lead_import, exc.message)
    except Exception as exc:
        logger.exception("Lead import #%s stopped on an unexpected error", lead_import.pk)
        done = LeadImport.objects.filter(pk=lead_import.pk).values_list("rows_read", flat=True).get()
        return _fail(
            lead_import,
            f"The import stopped on an unexpected error ({exc.__class__.__name__}) after {done:,} rows; the rows "
            f"after those were not imported. The details are in the server log under lead import #{lead_import.pk}. "
            "Once the cause is fixed, run the import again: it carries on where it stopped.",
        )
    LeadImport.objects.filter(pk=lead_import.pk).update(
        status=LeadImport.Status.DONE, finished_at=timezone.now(), rows_total=totals["rows_read"], **report
    )
    lead_import.refresh_from_db()
    return lead_import


def _fail(lead_import: LeadImport, error: str) -> LeadImport:
    LeadImport.objects.filter(pk=lead_import.pk).update(
        status=LeadImport.Status.FAILED, error=error, finished_at=timezone.now()
    )
    lead_import.refresh_from_db()
    return lead_import


@dataclass(frozen=True)
class RowOutcome:
    """What the import would make of one row: junk, or the status its lead would have and what would stop it.

    ``blocked_by`` names what stops a Disqualified lead (``BLOCKERS``' labels, each once); ``contact_existed``
    says the row is a duplicate of a contact already there, ``lead_existed`` that its lead is already in the
    campaign.
    """

    line_number: int
    junk: bool = False
    status: str = ""
    blocked_by: tuple[str, ...] = ()
    contact_existed: bool = False
    lead_existed: bool = False

    def describe(self) -> str:
        if self.junk:
            return "Junk: kept out of the pool"
        if self.status == LeadStatus.DISQUALIFIED:
            verdict = "Would be blocked by " + ", ".join(self.blocked_by or ("no number that may be dialled",))
        else:
            verdict = f"Would be {LeadStatus(self.status).label}"
        if self.lead_existed:
            return f"Already in this campaign (an existing contact). {verdict}"
        if self.contact_existed:
            return f"Duplicate of an existing contact. {verdict}"
        return verdict


# What can stop an imported lead, as the preview names it: platform-wide blocks first, then by source.
BLOCKERS: tuple[tuple[str, str], ...] = (
    ("platform", "Platform DNC"),
    *((source, label) for source, label in Block.Source.choices),
    ("no_number", "no number that may be dialled"),
)


def lead_blockers(lead_ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    """Return, for each of ``lead_ids`` that something stops, the ``BLOCKERS`` labels of what does (one query
    per kind of blocker): a platform-wide block, a block of each source, or no number at all."""
    ids = sorted(set(lead_ids))
    found: dict[int, list[str]] = {}
    if not ids:
        return {}
    leads = Lead.objects.filter(pk__in=ids_query(ids))
    platform = Block.objects.filter(reach=Block.Reach.PLATFORM)
    for key, label in BLOCKERS:
        if key == "platform":
            stopped = leads.filter(lead_stopped_by(platform))
        elif key == "no_number":
            stopped = leads.filter(~Exists(ContactPhone.objects.filter(contact_id=OuterRef("contact_id"))))
        elif key == Block.Source.REGISTRY:
            for pk, names in _registries_stopping(leads.filter(lead_stopped_by(Block.objects.filter(source=key)))):
                found.setdefault(pk, []).extend(names)
            continue
        else:
            stopped = leads.filter(
                lead_stopped_by(Block.objects.filter(source=key).exclude(reach=Block.Reach.PLATFORM))
            )
        for pk in stopped.values_list("pk", flat=True):
            found.setdefault(pk, []).append(label)
    return {pk: tuple(labels) for pk, labels in found.items()}


def _registries_stopping(leads) -> list[tuple[int, list[str]]]:
    """Return, for each of ``leads`` (the ones registry blocks stop), the registries that list its numbers, by
    name ("the national Do-Not-Call registry" first, then the state lists), from the blocks' evidence."""
    stopped = list(leads.values_list("pk", "campaign_id", "contact_id"))
    if not stopped:
        return []
    texts: dict[tuple[int, int], set[str]] = {}
    blocks = Block.objects.active().filter(
        source=Block.Source.REGISTRY,
        campaign_id__in={campaign for _, campaign, _ in stopped},
        phone__contact_links__contact_id__in=[contact for *_, contact in stopped],
    )
    for campaign, contact, text in blocks.values_list(
        "campaign_id", "phone__contact_links__contact_id", "evidence_text"
    ):
        texts.setdefault((campaign, contact), set()).add(text.split(" (copy of ")[0])
    return [
        (pk, sorted(texts.get((campaign, contact), ()), key=lambda name: (not name.startswith("the national"), name)))
        for pk, campaign, contact in stopped
    ]


def rows_predict(rows: list[tuple[ParsedRow, junk.Verdict]], *, lead_import: LeadImport) -> dict[int, RowOutcome]:
    """Return what the import would make of ``rows``, by line: the import's own merge and scrub, run in a
    transaction that is rolled back, so nothing is written. The judgement is the import's: the same statements,
    the same scrub steps, the same status rule.

    The rows are judged as the first batch of the file would be; the rows after them can only add to a
    contact they share (its numbers, emails), which the sample does not see.
    """
    outcomes = {row.line_number: RowOutcome(row.line_number, junk=True) for row, verdict in rows if verdict.is_junk}
    kept = [row for row, verdict in rows if not verdict.is_junk]
    if not kept:
        return outcomes
    campaign = lead_import.campaign
    with transaction.atomic():
        customer_merge_lock(customer_id=campaign.customer_id, lead_import_id=lead_import.pk)
        merged = batch_merge(
            stage_rows(kept), campaign=campaign, lead_import_id=None, source=lead_import.source, with_lines=True
        )
        scrub(campaign=campaign, contact_ids=merged.contact_ids)
        leads = dict(
            Lead.objects.filter(campaign=campaign, contact_id__in=ids_query(merged.contact_ids)).values_list(
                "contact_id", "pk"
            )
        )
        statuses = dict(Lead.objects.filter(pk__in=ids_query(leads.values())).values_list("pk", "status"))
        blockers = lead_blockers(pk for pk, status in statuses.items() if status == LeadStatus.DISQUALIFIED)
        transaction.set_rollback(True)
    for row in kept:
        contact_id, existed = merged.contacts_by_line[row.line_number]
        lead_id = leads[contact_id]
        outcomes[row.line_number] = RowOutcome(
            row.line_number,
            status=statuses[lead_id],
            blocked_by=blockers.get(lead_id, ()),
            contact_existed=existed,
            lead_existed=contact_id in merged.leads_there,
        )
    return outcomes


@dataclass(frozen=True)
class Preview:
    """What an import will do with the first rows of its file, before anything is written."""

    columns: list[tuple[str, str]]  # (header or position, field)
    unknown_columns: list[str]
    rows: list[tuple[ParsedRow, junk.Verdict]]
    outcomes: dict[int, RowOutcome] = field(default_factory=dict)

    @property
    def junk(self) -> int:
        return sum(1 for _, verdict in self.rows if verdict.is_junk)

    @property
    def with_warnings(self) -> int:
        return sum(1 for row, verdict in self.rows if not verdict.is_junk and row.warnings)

    @property
    def lines(self) -> list[tuple[ParsedRow, junk.Verdict, RowOutcome | None]]:
        return [(row, verdict, self.outcomes.get(row.line_number)) for row, verdict in self.rows]

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes.values() if not o.junk and o.status == status)

    @property
    def eligible(self) -> int:
        return self.count(LeadStatus.ELIGIBLE)

    @property
    def blocked(self) -> int:
        return self.count(LeadStatus.DISQUALIFIED)

    @property
    def duplicates(self) -> int:
        return sum(1 for o in self.outcomes.values() if o.contact_existed)


def lead_import_preview(*, lead_import: LeadImport, rows: int = 20) -> Preview:
    """Return the detected columns and the verdict on the first ``rows`` rows, with what the import would make
    of each (``rows_predict``); write nothing.

    Raise ``UnreadableFile`` (or ``LeadopsError``) with the reason when the file cannot be read.
    """
    phones = PhoneNormalizer(region=lead_import.campaign.customer.phone_region)
    with lead_import.file.open("rb") as stream, open_table(stream, filename=lead_import.original_name) as table:
        head = table.head()
        plan, unknown = plan_lead_columns(head, mapping=lead_import.column_mapping)
        body = head[1:] if plan.has_header else head
        parsed = [
            parse_row(r.line_number, r.cells, plan=plan, phones=phones, default_source=lead_import.source)
            for r in body[:rows]
        ]
    columns = [
        (plan.header[i] if i < len(plan.header) else f"column {i + 1}", field_name)
        for i, field_name in sorted(plan.fields.items())
    ]
    outcomes = rows_predict(parsed, lead_import=lead_import)
    return Preview(columns=columns, unknown_columns=unknown, rows=parsed, outcomes=outcomes)


def import_outcome(*, lead_import: LeadImport) -> dict[str, object]:
    """Return where the import's leads ended up: counts by status, and Disqualified leads by reason source.

    A Disqualified lead is counted under every source that stops it; ``no_number`` counts those with no
    phone number at all.
    """
    leads = Lead.objects.filter(pk__in=ImportedLead.objects.filter(lead_import=lead_import).values("lead_id"))
    by_status = dict(leads.values_list("status").annotate(n=Count("pk")).order_by())
    disqualified = leads.filter(status=LeadStatus.DISQUALIFIED)
    by_source: dict[str, int] = {}
    if by_status.get(LeadStatus.DISQUALIFIED):
        for source in Block.Source.values:
            count = disqualified.filter(lead_stopped_by(Block.objects.filter(source=source))).count()
            if count:
                by_source[source] = count
        no_number = disqualified.filter(~Exists(ContactPhone.objects.filter(contact_id=OuterRef("contact_id"))))
        if count := no_number.count():
            by_source["no_number"] = count
    return {
        "eligible": by_status.get(LeadStatus.ELIGIBLE, 0),
        "waiting": by_status.get(LeadStatus.WAITING, 0),
        "disqualified": by_status.get(LeadStatus.DISQUALIFIED, 0),
        "disqualified_by_source": by_source,
    }

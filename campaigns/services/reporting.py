"""The lead report's rollup: one ``LeadFact`` row per lead, rebuilt set-based from what happened to it.

A lead's facts are read from its lead, contact and account rows, its calls, meetings and the blocks on it,
its contact, its account and its numbers (whatever their reach covers: lifted blocks count too, the report
being about what happened). They are computed a chunk of leads at a time (a few statements per chunk) and
written with one DELETE and one ``bulk_create`` per chunk, so a customer of a million leads is rebuilt in
minutes and read in one GROUP BY (``bench/reports.py``).

**Disqualified at entry** means a block that stopped the lead was in force when it came in (made before it,
then "existing") or was made by the scrub as it came in: within ``ENTRY_WINDOW`` of the lead's creation, by a
suppression, a CRM rule, a fit rule (or, rarely, anything else: "other"). A block made later, that stopped
the lead, is **disqualified later**, under its source. Number blocks stop a lead only when they leave it no
number (``campaigns.rules.blocks_stopping_lead``), as in the status rule.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from campaigns.models import (
    Block,
    Call,
    Campaign,
    ContactEmail,
    ContactPhone,
    Customer,
    Disposition,
    FitRuleChange,
    Lead,
    LeadFact,
    LeadFactRefresh,
    LeadStage,
    Meeting,
)
from campaigns.rules import COLUMNS, REACH_KEYS, TARGET_KEYS, In, blocks_on_any, blocks_stopping_lead, unqualifies_lead
from campaigns.services.actors import Actor, actor_fields, actor_label
from leadops.outbox.services import enqueue_on_commit

logger = logging.getLogger(__name__)

# How long after a lead is created its scrub (suppression matching, CRM rules, fit rules) may still be
# judging it: an import scrubs each batch as it inserts it, and the fit re-evaluation follows its commit.
ENTRY_WINDOW = timedelta(hours=1)
CHUNK = 20_000
ENTRY_SOURCES = {
    Block.Source.SUPPRESSION: "suppression",
    Block.Source.CRM_RULE: "crm_rule",
    Block.Source.FIT_RULE: "fit_rule",
    Block.Source.REGISTRY: "registry",
}
# Company size bands, by the first whole number of the account's employee count ("51-200" is 51).
SIZE_BANDS: tuple[tuple[int | None, str], ...] = (
    (10, "1-10"),
    (50, "11-50"),
    (200, "51-200"),
    (1000, "201-1000"),
    (5000, "1001-5000"),
    (None, "5001+"),
)
_INTEGER = re.compile(r"\d[\d,]*")


def size_band(value: object) -> str:
    """Return the size band of an employee count ("51-200" → "51-200", "1,200" → "1001-5000"), or ""."""
    match = _INTEGER.search(str(value or ""))
    if not match:
        return ""
    number = int(match.group().replace(",", ""))
    if number < 1:
        return ""
    for top, band in SIZE_BANDS:
        if top is None or number <= top:
            return band
    return ""  # unreachable: the last band has no top


def _text(value: object, length: int) -> str:
    return str(value).strip()[:length] if value not in (None, "") else ""


def _covers(block: Block, *, customer_id: int, campaign_id: int) -> bool:
    key = REACH_KEYS[block.reach]
    return key is None or getattr(block, COLUMNS[key]) == {"customer": customer_id, "campaign": campaign_id}[key]


def _is_on(block: Block, subject: dict[str, set[int]]) -> bool:
    return all(getattr(block, COLUMNS[key]) in subject[key] for key in TARGET_KEYS[block.target])


def _qualifies(block: Block) -> bool:
    return block.source == Block.Source.MEETING_OUTCOME and block.reason == Block.Reason.QUALIFIED


def lead_facts_compute(leads: QuerySet[Lead], *, now: datetime) -> list[LeadFact]:
    """Return the facts of ``leads`` (unsaved), from the data as it is now. Reads only.

    Each statement names the chunk by a subquery of ``leads``, never by a list of ids: at a chunk of 20,000
    leads a list of ids costs more to send and parse than the query costs to run.
    """
    leads = leads.order_by()
    rows = list(
        leads.order_by("pk").values_list(
            "pk",
            "customer_id",
            "campaign_id",
            "source",
            "created_at",
            "stage",
            "contact_id",
            "contact__account_id",
            "contact__title",
            "contact__attributes",
            "contact__account__attributes",
        )
    )
    if not rows:
        return []
    contacts = leads.values("contact_id")
    phones: dict[int, list[int]] = defaultdict(list)
    for contact_id, phone_id in ContactPhone.objects.filter(contact_id__in=contacts).values_list(
        "contact_id", "phone_id"
    ):
        phones[contact_id].append(phone_id)
    with_email = set(ContactEmail.objects.filter(contact_id__in=contacts).values_list("contact_id", flat=True))
    calls = {
        lead_id: connected
        for lead_id, connected in Call.objects.filter(lead_id__in=leads.values("pk"))
        .values("lead_id")
        .annotate(connected=Count("pk", filter=~Q(disposition__effect=Disposition.Effect.NO_CONNECT)))
        .values_list("lead_id", "connected")
        .order_by()
    }
    with_meeting = set(Meeting.objects.filter(lead_id__in=leads.values("pk")).values_list("lead_id", flat=True))
    unqualified = dict(
        Block.objects.filter(lifted_at__isnull=True, target=Block.Target.LEAD, lead_id__in=leads.values("pk"))
        .filter(unqualifies_lead() | Q(source=Block.Source.MEETING_OUTCOME, reason=Block.Reason.NOT_QUALIFIED))
        .order_by("created_at", "pk")
        .values_list("lead_id", "reason")
    )
    blocks = list(
        Block.objects.filter(
            blocks_on_any(
                lead=In(leads.values("pk")),
                contact=In(contacts),
                account=In(leads.values("contact__account_id")),
                phone=In(ContactPhone.objects.filter(contact_id__in=contacts).values("phone_id")),
            )
        )
        .order_by("created_at", "pk")
        .only(*COLUMNS.values(), "target", "reach", "source", "reason", "created_at", "lifted_at")
    )
    by_subject: dict[tuple[str, int], list[Block]] = defaultdict(list)
    for block in blocks:
        key = TARGET_KEYS[block.target][-1 if block.target == Block.Target.CONTACT_PHONE else 0]
        by_subject[(key, getattr(block, COLUMNS[key]))].append(block)

    facts = []
    for pk, customer_id, campaign_id, source, created_at, stage, contact_id, account_id, title, person, company in rows:
        person, company = person or {}, company or {}
        numbers = phones.get(contact_id, [])
        subject = {"lead": {pk}, "contact": {contact_id}, "account": {account_id}, "phone": set(numbers)}
        candidates = [
            *by_subject.get(("lead", pk), ()),
            *by_subject.get(("contact", contact_id), ()),
            *by_subject.get(("account", account_id), ()),
            *(block for phone in numbers for block in by_subject.get(("phone", phone), ())),
        ]
        mine = [
            b
            for b in dict.fromkeys(candidates)
            if _is_on(b, subject) and _covers(b, customer_id=customer_id, campaign_id=campaign_id)
        ]
        cutoff = created_at + ENTRY_WINDOW
        # In force at entry: made by the end of the entry window, and not lifted before the lead came in.
        at_entry = [b for b in mine if b.created_at <= cutoff and (b.lifted_at is None or b.lifted_at > created_at)]
        stopped_at_entry, _ = blocks_stopping_lead(at_entry, numbers) if at_entry else ([], numbers)
        entry = set()
        for block in stopped_at_entry:
            if block.created_at < created_at:
                entry.add("existing")
            else:
                entry.add(ENTRY_SOURCES.get(block.source, "other"))
        later = [b for b in mine if b.created_at > cutoff]
        stopped_later, _ = blocks_stopping_lead(mine, numbers) if later else ([], numbers)
        # A qualified meeting ends outreach with a block too: that is the report's success, not a disqualification.
        later_sources = sorted({b.source for b in stopped_later if b.created_at > cutoff and not _qualifies(b)})
        country = person.get("country") or company.get("country")
        facts.append(
            LeadFact(
                lead_id=pk,
                customer_id=customer_id,
                campaign_id=campaign_id,
                source=source,
                entered_at=created_at,
                country=_text(country, 120),
                industry=_text(company.get("industry"), 200),
                size_band=size_band(company.get("employees")),
                title=_text(title, 200),
                age=_text(person.get("age"), 40),
                nationality=_text(person.get("nationality"), 120),
                income=_text(person.get("income"), 120),
                has_phone=bool(numbers),
                has_email=contact_id in with_email,
                has_title=bool(_text(title, 200)),
                has_industry=bool(_text(company.get("industry"), 200)),
                has_size=bool(_text(company.get("employees"), 40)),
                has_country=bool(_text(country, 120)),
                entry_existing="existing" in entry,
                entry_suppression="suppression" in entry,
                entry_crm_rule="crm_rule" in entry,
                entry_fit_rule="fit_rule" in entry,
                entry_registry="registry" in entry,
                entry_other="other" in entry,
                attempted=pk in calls,
                connected=calls.get(pk, 0) > 0,
                meeting=pk in with_meeting,
                qualified=stage == LeadStage.QUALIFIED,
                unqualified_reason=unqualified.get(pk, "") if stage == LeadStage.UNQUALIFIED else "",
                entry_disqualified=bool(entry),
                later_any=bool(later_sources),
                **{f"later_{source}": True for source in later_sources},
                refreshed_at=now,
            )
        )
    return facts


def lead_facts_refresh(*, customer: Customer, actor: Actor, chunk: int = CHUNK) -> int:
    """Rebuild ``customer``'s lead facts from its leads as they are now; return how many leads they cover.

    A chunk of leads at a time, each in its own transaction (the rows of a chunk are replaced at once, so a
    report never reads half a lead); facts of leads that no longer exist go with their leads (CASCADE).
    Idempotent: a second run writes the same rows.
    """
    now = timezone.now()
    total = 0
    last = 0
    leads = Lead.objects.filter(customer=customer)
    while True:
        top = leads.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[chunk - 1 : chunk].first()
        if top is None:
            top = leads.filter(pk__gt=last).order_by("-pk").values_list("pk", flat=True).first()
            if top is None:
                break
        facts = lead_facts_compute(leads.filter(pk__gt=last, pk__lte=top), now=now)
        with transaction.atomic():
            LeadFact.objects.filter(customer=customer, lead_id__gt=last, lead_id__lte=top).delete()
            LeadFact.objects.bulk_create(facts, batch_size=2_000)
        total += len(facts)
        last = top
    LeadFactRefresh.objects.update_or_create(customer=customer, defaults={"refreshed_at": now, "leads": total})
    logger.info("Lead facts of customer #%s rebuilt by %s: %s leads", customer.pk, actor_label(actor), total)
    return total


def lead_facts_refresh_all(*, actor: Actor) -> int:
    """Rebuild every customer's lead facts (the nightly job); return how many leads they cover."""
    return sum(lead_facts_refresh(customer=customer, actor=actor) for customer in Customer.objects.order_by("pk"))


def lead_facts_refresh_enqueue(*, customer: Customer | None, actor: Actor) -> None:
    """Rebuild ``customer``'s lead facts (every customer's when None) in a worker, once the request commits."""
    from campaigns.tasks import lead_facts_rebuild

    logger.info("Lead facts of %s asked for by %s", customer or "every customer", actor_label(actor))
    enqueue_on_commit(lead_facts_rebuild, customer.pk if customer else None)


def fit_rule_change_record(
    *, campaign: Campaign, summary: str, rules_before: Iterable[str], rules_after: Iterable[str], actor: Actor
) -> FitRuleChange | None:
    """Record a change of ``campaign``'s fit rules (the active rules before and after, in words); return it.

    Nothing is recorded when the active rules read the same before and after (a save that changed nothing).
    """
    before, after = sorted(rules_before), sorted(rules_after)
    if before == after:
        return None
    return FitRuleChange.objects.create(
        campaign=campaign,
        summary=summary,
        rules_before=before,
        rules_after=after,
        **actor_fields(actor, user_field="actor", job_field="actor_job"),
    )

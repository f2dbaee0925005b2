"""Campaign fit rules: a lead that fails one is Disqualified with the rule as the reason.

A rule only judges leads whose data has its field: a lead with no country is not failed by a country rule.
Evaluation runs in chunks of leads; for each chunk it blocks the leads that fail an active rule and have no
block for that rule yet, lifts the fit blocks of leads that now fit (or whose rule was switched off), and
recomputes their statuses. A fit block ops lifted by hand is not re-created for the same rule.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from campaigns.imports.models import FitRule
from campaigns.models import Block, Campaign, Lead
from campaigns.selectors.impact import PoolChange, leads_coming_back, pool_change
from campaigns.services import Actor, blocks_lift, lead_statuses_recompute
from campaigns.services.actors import actor_label
from campaigns.services.reporting import fit_rule_change_record
from leadops.db import ids_query
from leadops.errors import LeadopsError
from leadops.outbox.services import enqueue_on_commit

logger = logging.getLogger(__name__)

JOB = "fit_rules"
CHUNK = 10_000
_INTEGER = re.compile(r"\d[\d,. ]*")


def _number(value: object) -> int | None:
    """Return the first whole number in ``value`` ("51-200" → 51, "1,200" → 1200), or None."""
    if isinstance(value, int | float):
        return int(value)
    match = _INTEGER.search(str(value or ""))
    if not match:
        return None
    digits = re.sub(r"[^\d]", "", match.group().split(".")[0])
    return int(digits) if digits else None


def lead_value(rule_field: str, *, title: str, contact: dict, account: dict) -> object:
    """Return the lead's value for a fit field, or None when its data does not have it."""
    if rule_field == FitRule.Field.TITLE:
        return title or None
    if rule_field == FitRule.Field.COUNTRY:
        return contact.get("country") or account.get("country") or None
    if rule_field in (FitRule.Field.INDUSTRY, FitRule.Field.EMPLOYEES):
        return account.get(rule_field) or None
    return contact.get(rule_field) or None


def fails(rule: FitRule, value: object) -> bool:
    """Return whether a lead whose field holds ``value`` fails ``rule`` (never when the value is missing)."""
    if value is None or value == "":
        return False
    op = FitRule.Operator
    if rule.operator == op.BETWEEN:
        number = _number(value)
        if number is None:
            return False
        return (rule.minimum is not None and number < rule.minimum) or (
            rule.maximum is not None and number > rule.maximum
        )
    text = str(value).casefold().strip()
    wanted = [v.casefold() for v in rule.value_list()]
    if rule.operator == op.IN:
        return text not in wanted
    if rule.operator == op.NOT_IN:
        return text in wanted
    contains = any(w in text for w in wanted)
    return not contains if rule.operator == op.CONTAINS_ANY else contains


def campaign_fit_evaluate(
    *, campaign: Campaign, leads: QuerySet[Lead] | None = None, recompute: bool = True
) -> dict[str, int]:
    """Bring the fit blocks of ``campaign``'s leads (or of ``leads``) in line with its rules; return counts.

    ``recompute=False`` leaves the statuses of the leads it blocks to the caller, who must recompute them in
    the same transaction (the scrub does, for every lead it judges: one recompute a batch rather than two).
    A lifted block's leads are recomputed either way (``blocks_lift``). Idempotent: a second run blocks and
    lifts nothing.
    """
    rules = list(FitRule.objects.filter(campaign=campaign))
    if not rules:
        return {"blocked": 0, "lifted": 0}  # rules are switched off, never deleted: no rule, no fit block
    rule_type = ContentType.objects.get_for_model(FitRule)
    leads = leads if leads is not None else Lead.objects.filter(campaign=campaign)
    totals = {"blocked": 0, "lifted": 0}
    last_pk = 0
    while True:
        chunk = list(
            leads.filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", "contact__title", "contact__attributes", "contact__account__attributes")[:CHUNK]
        )
        if not chunk:
            break
        last_pk = chunk[-1][0]
        with transaction.atomic():
            blocked, lifted = _evaluate_chunk(
                chunk, rules=rules, campaign=campaign, rule_type_id=rule_type.pk, recompute=recompute
            )
        totals["blocked"] += blocked
        totals["lifted"] += lifted
        if len(chunk) < CHUNK:
            break  # the last chunk: no need to ask for the next one
    return totals


def _evaluate_chunk(
    chunk: list[tuple], *, rules: list[FitRule], campaign: Campaign, rule_type_id: int, recompute: bool = True
) -> tuple[int, int]:
    lead_ids = [row[0] for row in chunk]
    failing: dict[tuple[int, int], object] = {}  # (lead, rule) -> the lead's value that fails the rule
    for pk, title, contact_attributes, account_attributes in chunk:
        for rule in rules:
            value = lead_value(
                rule.field, title=title, contact=contact_attributes or {}, account=account_attributes or {}
            )
            if rule.is_active and fails(rule, value):
                failing[(pk, rule.pk)] = value
    existing = Block.objects.filter(
        source=Block.Source.FIT_RULE,
        target=Block.Target.LEAD,
        evidence_type_id=rule_type_id,
        lead_id__in=ids_query(lead_ids),
    )
    active: dict[tuple[int, int], int] = {}
    kept_lifted: set[tuple[int, int]] = set()
    for block_pk, lead_id, rule_id, lifted_at, lifted_by_job in existing.values_list(
        "pk", "lead_id", "evidence_id", "lifted_at", "lifted_by_job"
    ):
        if lifted_at is None:
            active[(lead_id, rule_id)] = block_pk
        elif lifted_by_job != JOB:
            kept_lifted.add((lead_id, rule_id))  # lifted by a person: respected while the rule stands
    by_pk = {rule.pk: rule for rule in rules}
    now = timezone.now()
    new = [
        Block(
            target=Block.Target.LEAD,
            lead_id=lead_id,
            source=Block.Source.FIT_RULE,
            reason=Block.Reason.NOT_A_FIT,
            reach=Block.Reach.CAMPAIGN,
            customer_id=campaign.customer_id,
            campaign_id=campaign.pk,
            actor_job=JOB,
            created_at=now,
            evidence_type_id=rule_type_id,
            evidence_id=rule_id,
            evidence_text=f"{by_pk[rule_id].describe()}; the lead's is {failing[(lead_id, rule_id)]}",
        )
        for lead_id, rule_id in sorted(failing.keys() - active.keys() - kept_lifted)
    ]
    Block.objects.bulk_create(new, ignore_conflicts=True)
    stale = [block_pk for key, block_pk in active.items() if key not in failing]
    lifted = 0
    if stale:
        lifted = blocks_lift(
            blocks=Block.objects.filter(pk__in=stale),
            actor=JOB,
            reason="The lead fits the campaign's rules now (or the rule was switched off).",
        )
    if new and recompute:
        lead_statuses_recompute(leads=Lead.objects.filter(pk__in=ids_query(b.lead_id for b in new)), now=now)
    return len(new), lifted


@dataclass(frozen=True)
class FitRuleSpec:
    """What a fit rule says: the lead's field it judges, how, against which values or bounds, and whether it is on."""

    field: str
    operator: str
    values: str = ""
    minimum: int | None = None
    maximum: int | None = None
    is_active: bool = True

    @classmethod
    def of(cls, data: Mapping[str, object]) -> FitRuleSpec:
        """Return the rule ``data`` describes (a form's cleaned data, say: other keys are left out)."""
        return cls(**{name: data[name] for name in FIT_RULE_FIELDS})


FIT_RULE_FIELDS = ("field", "operator", "values", "minimum", "maximum", "is_active")


def fit_rules_save(
    *,
    campaign: Campaign,
    added: Iterable[FitRuleSpec] = (),
    changed: Mapping[int, FitRuleSpec] | None = None,
    actor: Actor,
) -> list[FitRule]:
    """Add rules to ``campaign``'s fit rules and change some of its rules (by id); then, once the change commits,
    re-evaluate the campaign's leads against them (once, however many rules changed). Return the rules added,
    then the rules changed.

    A rule stays its campaign's: it is the evidence of that campaign's fit blocks (switch it off, and the
    re-evaluation lifts them). All or nothing: one rule that does not validate refuses the whole save.
    """
    changed = dict(changed or {})
    saved: list[FitRule] = []
    with transaction.atomic():
        before = _active_rules_in_words(campaign)
        for spec in added:
            rule = FitRule(campaign=campaign, **asdict(spec))
            rule.full_clean()
            rule.save()
            saved.append(rule)
        rules = {rule.pk: rule for rule in FitRule.objects.select_for_update().filter(pk__in=list(changed))}
        for pk, spec in sorted(changed.items()):
            rule = rules.get(pk)
            if rule is None or rule.campaign_id != campaign.pk:
                raise LeadopsError(f"Fit rule #{pk} is not a rule of the campaign {campaign}.", field="fit_rules")
            for name, value in asdict(spec).items():
                setattr(rule, name, value)
            rule.full_clean()
            rule.save(update_fields=list(asdict(spec)))
            saved.append(rule)
        if saved:
            fit_rule_change_record(
                campaign=campaign,
                summary=_change_in_words(saved[: len(saved) - len(changed)], list(changed)),
                rules_before=before,
                rules_after=_active_rules_in_words(campaign),
                actor=actor,
            )
            fit_rules_changed(campaign=campaign)
    rules = "fit rule" if len(saved) == 1 else "fit rules"
    logger.info("%s %s of campaign #%s saved by %s", len(saved), rules, campaign.pk, actor_label(actor))
    return saved


def _active_rules_in_words(campaign: Campaign) -> list[str]:
    return [rule.describe() for rule in FitRule.objects.filter(campaign=campaign, is_active=True)]


def _change_in_words(added: list[FitRule], changed_ids: list[int]) -> str:
    """Return what a save did, for the report's list of fit-rule changes: "added: …; changed: …"."""
    parts = []
    if added:
        parts.append("added: " + "; ".join(rule.describe() for rule in added))
    if changed_ids:
        rules = FitRule.objects.filter(pk__in=changed_ids).order_by("pk")
        parts.append(
            "changed: " + "; ".join(rule.describe() + ("" if rule.is_active else " (switched off)") for rule in rules)
        )
    return "; ".join(parts)


def fit_rules_changed(*, campaign: Campaign) -> None:
    """Re-evaluate the campaign's leads after the change commits (a Celery task)."""
    from campaigns.imports.tasks import campaign_fit_reevaluate

    enqueue_on_commit(campaign_fit_reevaluate, campaign.pk)


def fit_rules_preview(
    *, campaign: Campaign, added: Iterable[FitRuleSpec] = (), changed: Mapping[int, FitRuleSpec] | None = None
) -> PoolChange:
    """Return what ``fit_rules_save`` with these arguments would do to the campaign's pool, without writing:
    the leads it disqualifies (those in the pool leave it) and the leads it frees (their fit blocks lifted, no
    other reason left). Evaluated as ``_evaluate_chunk`` will, over the rules as they would be.

    Raise ``ValidationError`` when a rule would not validate (as the save would).
    """
    changed = dict(changed or {})
    rules = []
    for rule in FitRule.objects.filter(campaign=campaign).order_by("pk"):
        if rule.pk in changed:
            for name, value in asdict(changed[rule.pk]).items():
                setattr(rule, name, value)
            rule.full_clean()
        rules.append(rule)
    fresh = []
    for index, spec in enumerate(added):
        rule = FitRule(campaign=campaign, **asdict(spec))
        rule.full_clean()
        rule.pk = -1 - index  # not saved: no block names it
        fresh.append(rule)
    rules += fresh
    rule_type = ContentType.objects.get_for_model(FitRule)
    existing = Block.objects.filter(
        source=Block.Source.FIT_RULE, target=Block.Target.LEAD, evidence_type_id=rule_type.pk, campaign=campaign
    )
    active: dict[tuple[int, int], int] = {}  # (lead, rule) -> its active block
    kept_lifted: set[tuple[int, int]] = set()  # lifted by a person: not re-created while the rule stands
    for block_pk, lead_id, rule_id, lifted_at, lifted_by_job in existing.values_list(
        "pk", "lead_id", "evidence_id", "lifted_at", "lifted_by_job"
    ):
        if lifted_at is None:
            active[(lead_id, rule_id)] = block_pk
        elif lifted_by_job != JOB:
            kept_lifted.add((lead_id, rule_id))
    leaving: set[int] = set()
    still_failing: set[tuple[int, int]] = set()
    rows = Lead.objects.filter(campaign=campaign).values_list(
        "pk", "contact__title", "contact__attributes", "contact__account__attributes"
    )
    for pk, title, contact_attributes, account_attributes in rows.iterator(chunk_size=CHUNK):
        for rule in rules:
            value = lead_value(
                rule.field, title=title, contact=contact_attributes or {}, account=account_attributes or {}
            )
            if not (rule.is_active and fails(rule, value)):
                continue
            key = (pk, rule.pk)
            still_failing.add(key)
            if key not in active and key not in kept_lifted:
                leaving.add(pk)
    lifted = Block.objects.filter(pk__in=ids_query(pk for key, pk in active.items() if key not in still_failing))
    leads = Lead.objects.filter(pk__in=ids_query(sorted(leaving)))
    return pool_change(leaving=leads, coming_back=leads_coming_back(lifted=lifted).filter(campaign=campaign))

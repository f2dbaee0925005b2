"""Evaluate a customer's CRM rules over its synced records, set-based.

For each rule: open a ``CrmMatch`` episode for every record that matches and has none, end the open
episodes of records that stopped matching (lifting their blocks), and block the accounts or contacts of
open episodes that have no block yet. A few statements per rule, whatever the number of records.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Case, F, FloatField, Func, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Cast, Lower
from django.utils import timezone

from campaigns.models import Block, Customer, User
from campaigns.selectors.explaining import day_words
from campaigns.services import Actor, blocks_lift, lead_statuses_recompute, leads_reached_by
from campaigns.services.actors import actor_fields, actor_label
from campaigns.services.inserting import rows_insert_select
from leadops.db import ids_query, statistics_refresh
from leadops.errors import LeadopsError
from leadops.outbox.services import enqueue_each_on_commit
from suppressions.crm.models import CrmMatch, CrmRecord, CrmRule, CrmRuleChange

logger = logging.getLogger(__name__)

JOB = "crm.rules"
_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"


def rule_values(rule: CrmRule) -> list[str]:
    return [v.strip().lower() for v in rule.value.split(",") if v.strip()]


def _as_number(value: str) -> float | None:
    try:
        return float(Decimal(value.strip()))
    except (InvalidOperation, ValueError):
        return None


def _property_text(column: str, name: str) -> tuple[str, list[object]]:
    """Return SQL reading property ``name`` of the JSON ``column`` as text, and its parameters.

    What PostgreSQL's ``->>`` gives, on either backend: a string is its text, a number its digits,
    ``true``/``false`` those words, and a JSON ``null`` or a missing key is NULL.
    """
    if connection.vendor == "postgresql":
        return f"({column} ->> %s)", [name]
    path = "$." + json.dumps(name)
    return (
        f"(CASE json_type({column}, %s) WHEN 'null' THEN NULL WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
        f"ELSE CAST(json_extract({column}, %s) AS TEXT) END)",
        [path, path],
    )


class PropertyText(Func):
    """A record's property as text (``_property_text``), for the ORM.

    Lookups on it are plain text lookups: Django's own key transform compares through JSON on SQLite, where
    ``= ''`` and ``> '2026-01-01'`` fail as malformed JSON.
    """

    output_field = TextField()

    def __init__(self, name: str) -> None:
        super().__init__(F("properties"))
        self.name = name

    def as_sql(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.source_expressions[0])
        sql, property_params = _property_text(column, self.name)
        return sql, [*params, *property_params]


def rule_condition(rule: CrmRule) -> Q:
    """Return the condition that ``rule`` matches, over records aliased by ``matching_records``."""
    op = CrmRule.Operator
    if rule.operator == op.IS_SET:
        return Q(**{"properties__has_key": rule.property}) & ~Q(_v=None) & ~Q(_v="")
    if rule.operator == op.EQUALS:
        return Q(_lv=rule.value.strip().lower())
    if rule.operator == op.IN:
        return Q(_lv__in=rule_values(rule))
    if rule.operator == op.NOT_IN:
        return Q(_lv__isnull=False) & ~Q(_lv="") & ~Q(_lv__in=rule_values(rule))
    if rule.operator == op.CONTAINS:
        return Q(_lv__contains=rule.value.strip().lower())
    number = _as_number(rule.value)
    lookup = "gt" if rule.operator == op.GREATER else "lt"
    if number is not None:
        return Q(**{f"_n__{lookup}": number})
    # Otherwise compare as text: ISO dates (2026-11-24) order correctly as strings.
    return Q(**{f"_v__{lookup}": rule.value.strip()})


def matching_records(rule: CrmRule, *, record_ids: Collection[int] | None = None) -> QuerySet[CrmRecord]:
    """Return the customer's live records of the rule's type that the rule matches."""
    text = PropertyText(rule.property)
    records = CrmRecord.objects.filter(
        customer_id=rule.customer_id, object_type=rule.object_type, is_deleted=False
    ).alias(
        _v=text,
        _lv=Lower(text),
        _n=Case(When(Q(_v__regex=_NUMBER), then=Cast(text, FloatField())), default=Value(None)),
    )
    if record_ids is not None:
        records = records.filter(pk__in=record_ids)
    return records.filter(rule_condition(rule))


def _evidence_sql(rule: CrmRule) -> tuple[str, list[object]]:
    """Return SQL that words a match's evidence: ``HubSpot company "Acme" (id 7): lifecyclestage = customer``."""
    value, value_params = _property_text("r.properties", rule.property)
    sql = (
        "conn.name || ' ' || r.object_type || ' \"' || r.name || '\" (id ' || r.external_id || '): ' "
        f"|| %s || ' = ' || COALESCE({value}, '') || ', synced ' || substr(CAST(r.last_seen_at AS TEXT), 1, 10) "
        "|| '; rule ''' || %s || '''' || %s"
    )
    return sql, [rule.property, *value_params, rule.name, rule_change_words(rule)]


def rule_change_words(rule: CrmRule) -> str:
    """Return who last changed ``rule`` and when, as a block's evidence says it: ``, changed by
    ana@northwind on 3 Dec``. The customer reads these words: its own user is named, anyone else is "the
    agency" (an agency person's name never reaches the portal; the rule's history in the admin names them)."""
    change = CrmRuleChange.objects.filter(rule_id=rule.pk).select_related("changed_by").order_by("-pk").first()
    if change is None:
        return ""
    verb = "added" if change.before is None else "changed"
    who = change.changed_by.get_username() if change.by_customer else "the agency"
    return f", {verb} by {who} on {day_words(change.changed_at)}"


NULL_ID = "CAST(NULL AS BIGINT)"
_BLOCK_COLUMNS = (
    "target, lead_id, contact_id, account_id, phone_id, source, reason, reach, customer_id, campaign_id, "
    "actor_id, actor_job, created_at, evidence_type_id, evidence_id, evidence_text, note, lifted_by_job, "
    "lift_reason"
)


def _insert_blocks(rule: CrmRule, *, now: datetime, match_type_id: int) -> list[int]:
    """Block the accounts or contacts of the rule's open episodes that have no block for that episode; return
    the ids of the blocks made."""
    evidence, evidence_params = _evidence_sql(rule)
    # The timestamp as the ORM writes it: the embedded SQLite keeps the text form of whoever wrote it.
    common = [rule.reason, rule.customer_id, JOB, connection.ops.adapt_datetimefield_value(now), match_type_id]
    head = (
        f"INSERT INTO campaigns_block ({_BLOCK_COLUMNS}) SELECT DISTINCT {{target}}, {NULL_ID}, {{contact}}, "
        f"{{account}}, {NULL_ID}, 'crm_rule', %s, 'customer', %s, {NULL_ID}, {NULL_ID}, %s, %s, %s, m.id, "
        f"{evidence}, '', '', '' "
        "FROM crm_crmmatch m JOIN crm_crmrecord r ON r.id = m.record_id "
        "JOIN crm_crmconnection conn ON conn.id = r.connection_id "
    )
    not_blocked = (
        "AND NOT EXISTS (SELECT 1 FROM campaigns_block b WHERE b.source = 'crm_rule' AND b.evidence_type_id = %s "
        "AND b.evidence_id = m.id AND b.target = {target} AND {same})"
    )
    statements: list[tuple[str, list[object]]] = []
    if rule.effect == CrmRule.Effect.ACCOUNT:
        sql = (
            head.format(target="'account'", contact=NULL_ID, account="a.id")
            + (
                "JOIN campaigns_account a ON a.customer_id = %s AND a.domain <> '' "
                "AND (a.domain = r.domain OR a.domain LIKE '%%.' || r.domain) "
                "WHERE m.rule_id = %s AND m.ended_at IS NULL AND r.domain <> '' "
            )
            + not_blocked.format(target="'account'", same="b.account_id = a.id")
        )
        statements.append((sql, [*common, *evidence_params, rule.customer_id, rule.pk, match_type_id]))
    else:
        by_email = (
            "JOIN crm_crmrecordidentifier i ON i.record_id = r.id AND i.kind = 'email' "
            "JOIN campaigns_contactemail ce ON ce.email = i.value "
            "JOIN campaigns_contact c ON c.id = ce.contact_id AND c.customer_id = %s "
        )
        by_phone = (
            "JOIN crm_crmrecordidentifier i ON i.record_id = r.id AND i.kind = 'phone' "
            "JOIN campaigns_phonenumber p ON p.e164 = i.value "
            "JOIN campaigns_contactphone cp ON cp.phone_id = p.id "
            "JOIN campaigns_contact c ON c.id = cp.contact_id AND c.customer_id = %s "
        )
        for join in (by_email, by_phone):
            sql = (
                head.format(target="'contact'", contact="c.id", account=NULL_ID)
                + join
                + "WHERE m.rule_id = %s AND m.ended_at IS NULL "
                + not_blocked.format(target="'contact'", same="b.contact_id = c.id")
            )
            statements.append((sql, [*common, *evidence_params, rule.customer_id, rule.pk, match_type_id]))
    created: list[int] = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(f"{sql} RETURNING id", params)
            created += [row[0] for row in cursor.fetchall()]
    return created


def _end_matches(matches: QuerySet[CrmMatch], *, now: datetime) -> list[int]:
    """End the open ones of ``matches`` at ``now``; return the ids of the episodes this statement ended."""
    selection, params = matches.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {CrmMatch._meta.db_table} SET ended_at = %s WHERE ended_at IS NULL AND id IN ({selection}) "
            "RETURNING id",
            [connection.ops.adapt_datetimefield_value(now), *params],
        )
        return [row[0] for row in cursor.fetchall()]


def crm_rule_evaluate(*, rule: CrmRule, record_ids: Collection[int] | None = None) -> dict[str, int]:
    """Bring ``rule``'s episodes and blocks in line with the records; return counts of what changed.

    Idempotent: a second run finds nothing to open, end or block. ``record_ids`` limits the work to
    records that just changed. An inactive rule ends all its episodes.
    """
    now = timezone.now()
    match_type = ContentType.objects.get_for_model(CrmMatch)
    with transaction.atomic():
        open_matches = CrmMatch.objects.filter(rule=rule, ended_at__isnull=True)
        if record_ids is not None:
            open_matches = open_matches.filter(record_id__in=record_ids)
        if rule.is_active:
            matching = matching_records(rule, record_ids=record_ids)
            ended = _end_matches(open_matches.exclude(record_id__in=matching.values("pk")), now=now)
            new_ids = list(
                matching.exclude(
                    pk__in=CrmMatch.objects.filter(rule=rule, ended_at__isnull=True).values("record_id")
                ).values_list("pk", flat=True)
            )
            CrmMatch.objects.bulk_create(
                (CrmMatch(rule=rule, record_id=pk, matched_at=now) for pk in new_ids), batch_size=5000
            )
            # The blocks are made from the open episodes, just grown (``leadops.db.statistics_refresh``).
            statistics_refresh({CrmMatch._meta.db_table: len(new_ids)})
        else:
            ended = _end_matches(open_matches, now=now)
            new_ids = []
        lifted = 0
        # What this run wrote is named by the ids its statements returned, never by "stamped ``now``".
        if ended:
            lifted = blocks_lift(
                blocks=Block.objects.filter(
                    source=Block.Source.CRM_RULE, evidence_type=match_type, evidence_id__in=ids_query(ended)
                ),
                actor=JOB,
                reason=f"The CRM record no longer matches rule '{rule.name}'.",
            )
        created = _insert_blocks(rule, now=now, match_type_id=match_type.pk) if rule.is_active else []
        if created:
            lead_statuses_recompute(leads=leads_reached_by(Block.objects.filter(pk__in=ids_query(created))), now=now)
    return {"opened": len(new_ids), "ended": len(ended), "blocked": len(created), "lifted": lifted}


def crm_rules_evaluate(*, customer: Customer, record_ids: Collection[int] | None = None) -> dict[str, int]:
    """Evaluate every rule of ``customer`` (active or not); return the summed counts."""
    totals = {"opened": 0, "ended": 0, "blocked": 0, "lifted": 0}
    for rule in CrmRule.objects.filter(customer=customer).order_by("pk"):
        for key, value in crm_rule_evaluate(rule=rule, record_ids=record_ids).items():
            totals[key] += value
    return totals


RULE_TEMPLATES = [
    {
        "name": "Existing customers",
        "object_type": "company",
        "property": "lifecyclestage",
        "operator": CrmRule.Operator.EQUALS,
        "value": "customer",
        "effect": CrmRule.Effect.ACCOUNT,
        "reason": Block.Reason.EXISTING_CUSTOMER,
    },
    {
        "name": "Open deals",
        "object_type": "deal",
        "property": "dealstage",
        "operator": CrmRule.Operator.NOT_IN,
        "value": "closedwon, closedlost",
        "effect": CrmRule.Effect.ACCOUNT,
        "reason": Block.Reason.OPEN_DEAL,
    },
]


def crm_rules_templates_add(*, customers: QuerySet[Customer], actor: Actor) -> list[CrmRule]:
    """Add the standard rules (existing customers, open deals) to each of ``customers`` that lacks them, and
    re-evaluate those customers' records after the commit; return the rules added.

    One ``INSERT … SELECT`` per standard rule whatever the number of customers, in one transaction. A rule of
    the same name the customer already has is kept as it is, so a repeat call adds nothing.
    """
    now = timezone.now()
    selection, params = customers.order_by().values("pk").query.sql_with_params()
    added: list[int] = []
    with transaction.atomic():
        for template in RULE_TEMPLATES:
            added += rows_insert_select(
                CrmRule(created_at=now, updated_at=now, **template),
                columns={"customer_id": "c.id"},
                select_from=(
                    f"FROM {Customer._meta.db_table} c WHERE c.id IN ({selection}) AND NOT EXISTS "
                    f"(SELECT 1 FROM {CrmRule._meta.db_table} r WHERE r.customer_id = c.id AND r.name = %s)"
                ),
                params=[*params, template["name"]],
                skip_conflicts=True,
            )
        rules = list(CrmRule.objects.filter(pk__in=ids_query(added)).order_by("customer_id", "pk"))
        CrmRuleChange.objects.bulk_create(
            [_change(rule, before=None, actor=actor, now=now) for rule in rules], batch_size=5000
        )
        _customers_reevaluate(sorted({rule.customer_id for rule in rules}))
    logger.info("%s standard CRM rules added by %s", len(rules), actor_label(actor))
    return rules


def crm_rule_templates_add(*, customer: Customer, actor: Actor) -> list[CrmRule]:
    """Add the standard rules (existing customers, open deals) to ``customer``; a repeat adds nothing.

    ``crm_rules_templates_add`` for one customer.
    """
    return crm_rules_templates_add(customers=Customer.objects.filter(pk=customer.pk), actor=actor)


RULE_FIELDS = ("name", "object_type", "property", "operator", "value", "effect", "reason", "is_active")


def crm_rule_create(
    *,
    customer: Customer,
    name: str,
    object_type: str,
    property: str,
    operator: str,
    value: str = "",
    effect: str = CrmRule.Effect.ACCOUNT,
    reason: str = Block.Reason.EXISTING_CUSTOMER,
    is_active: bool = True,
    actor: Actor,
) -> CrmRule:
    """Add a rule to ``customer``'s CRM rules, and evaluate the customer's records against it after the commit."""
    rule = CrmRule(
        customer=customer,
        name=name,
        object_type=object_type,
        property=property,
        operator=operator,
        value=value,
        effect=effect,
        reason=reason,
        is_active=is_active,
    )
    with transaction.atomic():
        rule.full_clean()
        rule.save()
        _change(rule, before=None, actor=actor).save()
        crm_rule_changed(rule=rule)
    logger.info("CRM rule #%s added by %s", rule.pk, actor_label(actor))
    return rule


def crm_rule_update(
    *,
    rule: CrmRule,
    name: str,
    object_type: str,
    property: str,
    operator: str,
    value: str,
    effect: str,
    reason: str,
    is_active: bool,
    actor: Actor,
) -> CrmRule:
    """Change a rule (its customer never changes: its matches are that customer's evidence), and re-evaluate the
    customer's records after the commit: switching a rule off lifts its blocks, a new condition re-matches."""
    with transaction.atomic():
        rule = CrmRule.objects.select_for_update().get(pk=rule.pk)
        before = rule_fields(rule)
        rule.name, rule.object_type, rule.property, rule.operator = name, object_type, property, operator
        rule.value, rule.effect, rule.reason, rule.is_active = value, effect, reason, is_active
        rule.full_clean()
        if rule_fields(rule) == before:
            return rule
        rule.save(update_fields=[*RULE_FIELDS, "updated_at"])
        _change(rule, before=before, actor=actor).save()
        crm_rule_changed(rule=rule)
    logger.info("CRM rule #%s changed by %s", rule.pk, actor_label(actor))
    return rule


def crm_rule_switch(*, rule: CrmRule, is_active: bool, actor: Actor) -> CrmRule:
    """Switch ``rule`` on or off (off lifts its blocks once re-evaluated); recorded like any change."""
    return crm_rule_update(rule=rule, **{**rule_fields(rule), "is_active": is_active}, actor=actor)


def rule_fields(rule: CrmRule) -> dict[str, object]:
    """Return what a change record keeps of ``rule``: its ``RULE_FIELDS``."""
    return {name: getattr(rule, name) for name in RULE_FIELDS}


def _change(rule: CrmRule, *, before: dict | None, actor: Actor, now: datetime | None = None) -> CrmRuleChange:
    if isinstance(actor, User) and actor.customer_id not in (None, rule.customer_id):
        raise LeadopsError("Another customer's user may not change this rule.", field="rule")
    fields = actor_fields(actor, user_field="changed_by", job_field="actor_job")
    return CrmRuleChange(rule=rule, before=before, after=rule_fields(rule), changed_at=now or timezone.now(), **fields)


def crm_rule_changed(*, rule: CrmRule) -> None:
    """Re-evaluate every record of the rule's customer after the change commits (a Celery task)."""
    _customers_reevaluate([rule.customer_id])


def _customers_reevaluate(customer_ids: list[int]) -> None:
    from suppressions.crm.tasks import crm_customer_evaluate

    enqueue_each_on_commit(crm_customer_evaluate, [(pk,) for pk in customer_ids])

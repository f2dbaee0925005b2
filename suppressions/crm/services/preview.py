"""What a CRM rule change will do, before it is saved: computed the way ``crm_rule_evaluate`` will do it,
without writing anything.

It sits with the services because it runs their matching (``matching_records``), as an upload's preview does.
The rule as it would be is an unsaved ``CrmRule``; its episodes are the rule's open ones (none for a new rule):

* an open episode whose record no longer matches (or every one, when the rule is switched off) ends, and its
  active blocks are lifted: the leads only they stop come back;
* every matching record's account (or contact, by email or phone) gets a block unless that episode already
  made one on it (a block ops lifted by hand for the same episode stays lifted): the leads in the pool leave it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from campaigns.models import Account, Block, Contact, Customer, Lead
from campaigns.selectors.impact import PoolChange, leads_coming_back, pool_change
from suppressions.crm.models import CrmMatch, CrmRule
from suppressions.crm.services.rules import RULE_FIELDS, matching_records

NO_RULE = -1  # the id of a rule not saved yet: it has no episode


@dataclass
class RulePreview:
    rule: CrmRule  # as it would be (unsaved)
    records_matching: int
    pool: PoolChange

    @property
    def changes_nothing(self) -> bool:
        return not self.pool.leaving and not self.pool.coming_back


def _episode_block_missing(target: str, column: str, owner: str) -> str:
    return (
        "NOT EXISTS (SELECT 1 FROM campaigns_block b JOIN crm_crmmatch m ON m.id = b.evidence_id "
        "WHERE b.source = 'crm_rule' AND b.evidence_type_id = %s AND m.rule_id = %s AND m.ended_at IS NULL "
        f"AND m.record_id = r.id AND b.target = '{target}' AND b.{column} = {owner})"
    )


def _targets(rule: CrmRule, *, rule_id: int, match_type_id: int) -> QuerySet[Lead]:
    """Return the customer's leads whose account or contact the rule would block (``_insert_blocks``' joins)."""
    records_sql, records_params = matching_records(rule).order_by().values("pk").query.sql_with_params()
    if rule.effect == CrmRule.Effect.ACCOUNT:
        sql = (
            "SELECT a.id FROM campaigns_account a JOIN crm_crmrecord r ON a.customer_id = %s AND a.domain <> '' "
            "AND r.domain <> '' AND (a.domain = r.domain OR a.domain LIKE '%%.' || r.domain) "
            f"WHERE r.id IN ({records_sql}) AND " + _episode_block_missing("account", "account_id", "a.id")
        )
        accounts = Account.objects.filter(
            pk__in=RawSQL(sql, [rule.customer_id, *records_params, match_type_id, rule_id])
        )
        return Lead.objects.filter(customer_id=rule.customer_id, contact__account_id__in=accounts.values("pk"))
    by_email = (
        "SELECT c.id FROM crm_crmrecord r JOIN crm_crmrecordidentifier i ON i.record_id = r.id AND i.kind = 'email' "
        "JOIN campaigns_contactemail ce ON ce.email = i.value "
        "JOIN campaigns_contact c ON c.id = ce.contact_id AND c.customer_id = %s "
    )
    by_phone = (
        "SELECT c.id FROM crm_crmrecord r JOIN crm_crmrecordidentifier i ON i.record_id = r.id AND i.kind = 'phone' "
        "JOIN campaigns_phonenumber p ON p.e164 = i.value JOIN campaigns_contactphone cp ON cp.phone_id = p.id "
        "JOIN campaigns_contact c ON c.id = cp.contact_id AND c.customer_id = %s "
    )
    where = f"WHERE r.id IN ({records_sql}) AND " + _episode_block_missing("contact", "contact_id", "c.id")
    params = [rule.customer_id, *records_params, match_type_id, rule_id]
    contacts = Contact.objects.filter(
        Q(pk__in=RawSQL(by_email + where, params)) | Q(pk__in=RawSQL(by_phone + where, params))
    )
    return Lead.objects.filter(customer_id=rule.customer_id, contact_id__in=contacts.values("pk"))


def crm_rule_preview(*, customer: Customer, fields: dict[str, object], rule: CrmRule | None = None) -> RulePreview:
    """Return what saving ``fields`` (``RULE_FIELDS``) as ``rule`` (a new rule of ``customer`` when None) does:
    nothing is written. Raise ``ValidationError`` when the fields are not a valid rule (the model's checks)."""
    proposed = CrmRule(customer=customer, **{name: fields[name] for name in RULE_FIELDS})
    if rule is not None:
        proposed.pk = rule.pk
    proposed.full_clean(validate_unique=False, validate_constraints=False)
    rule_id = rule.pk if rule is not None else NO_RULE
    match_type = ContentType.objects.get_for_model(CrmMatch)
    open_matches = CrmMatch.objects.filter(rule_id=rule_id, ended_at__isnull=True)
    matching = matching_records(proposed)
    if proposed.is_active:
        ending = open_matches.exclude(record_id__in=matching.values("pk"))
        leaving = _targets(proposed, rule_id=rule_id, match_type_id=match_type.pk)
    else:
        ending = open_matches
        leaving = Lead.objects.none()
    lifted = Block.objects.active().filter(
        source=Block.Source.CRM_RULE, evidence_type=match_type, evidence_id__in=ending.values("pk")
    )
    back = leads_coming_back(lifted=lifted).filter(customer_id=customer.pk)
    return RulePreview(
        rule=proposed,
        records_matching=matching.count() if proposed.is_active else 0,
        pool=pool_change(leaving=leaving, coming_back=back),
    )

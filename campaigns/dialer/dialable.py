"""Which of a set of leads' numbers may be dialled now, in one or two queries whatever the number of leads.

The pull hands a caller up to 50 leads at once; asking ``can_dial`` once per number would cost a few
queries each. The rule is the same (``campaigns.rules``): a number is stopped by an active block on the
number or on the contact's use of it, within the block's reach; the most serious one is named with the
``explain`` sentence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from campaigns.models import Block, Lead
from campaigns.rules import NUMBER_TARGETS, block_active_sql, block_on_sql, block_reaches_lead
from campaigns.selectors import calling
from campaigns.selectors.explaining import (
    OPS,
    Reason,
    block_rank,
    block_reasons,
    blocks_for_sentences,
    call_times_counted,
    live_checks,
    not_now_reason,
)
from leadops.db import id_list, in_ids, prepared_cursor


@dataclass(frozen=True)
class NumberCheck:
    e164: str
    kind: str
    reason: Reason | None = None

    @property
    def dialable(self) -> bool:
        return self.reason is None

    @property
    def not_now(self) -> bool:
        """Whether it may be dialled, only not now (its window, a cap): time, not a block."""
        return self.reason is not None and self.reason.is_not_now


# Each number of the contacts (rows with a link id), and the blocks in force on it or on that contact's use
# of it (rows with a block id), whatever their reach: the reach depends on the lead, and is the rule's in
# Python. Then the facts the windows and caps read (rows naming the fact in the e164 column): the campaigns'
# policy versions, which are business campaigns, the jurisdiction table's version, and the calls of the last
# 24 hours per number (within each customer, and by anyone), per contact and per account.
_NUMBERS_SQL = f"""
SELECT cp.id, cp.contact_id, cp.phone_id, cp.kind, p.e164, NULL
FROM campaigns_contactphone cp JOIN campaigns_phonenumber p ON p.id = cp.phone_id
WHERE {in_ids("cp.contact_id")}
UNION ALL
SELECT NULL, cp.contact_id, cp.phone_id, NULL, NULL, b.id
FROM campaigns_contactphone cp JOIN campaigns_block b ON b.phone_id = cp.phone_id
WHERE {in_ids("cp.contact_id")} AND {block_active_sql("b", now="%s")}
  AND {block_on_sql("b", NUMBER_TARGETS, contact="cp.contact_id", phone="cp.phone_id")}
UNION ALL
SELECT NULL, pol.campaign_id, NULL, NULL, 'policy', pol.version
FROM campaigns_callingpolicy pol WHERE {in_ids("pol.campaign_id")}
UNION ALL
SELECT NULL, camp.id, NULL, NULL, 'business', 1
FROM campaigns_campaign camp WHERE {in_ids("camp.id")} AND camp.audience = 'business'
UNION ALL
SELECT NULL, NULL, NULL, NULL, 'rules', v.version FROM campaigns_callingrulesversion v
UNION ALL
SELECT NULL, NULL, k.phone_id, NULL, 'calls_everywhere', COUNT(*)
FROM campaigns_contactphone cp JOIN campaigns_call k ON k.phone_id = cp.phone_id
WHERE {in_ids("cp.contact_id")} AND k.created_at > %s
GROUP BY k.phone_id
UNION ALL
SELECT NULL, kl.customer_id, k.phone_id, NULL, 'calls_number', COUNT(*)
FROM campaigns_contactphone cp JOIN campaigns_call k ON k.phone_id = cp.phone_id
JOIN campaigns_lead kl ON kl.id = k.lead_id
WHERE {in_ids("cp.contact_id")} AND k.created_at > %s
GROUP BY kl.customer_id, k.phone_id
UNION ALL
SELECT NULL, kl.contact_id, NULL, NULL, 'calls_contact', COUNT(*)
FROM campaigns_lead kl JOIN campaigns_call k ON k.lead_id = kl.id
WHERE {in_ids("kl.contact_id")} AND k.created_at > %s
GROUP BY kl.contact_id
UNION ALL
SELECT NULL, kc.account_id, NULL, NULL, 'calls_account', COUNT(*)
FROM campaigns_contact kc JOIN campaigns_lead kl ON kl.contact_id = kc.id JOIN campaigns_call k ON k.lead_id = kl.id
WHERE {in_ids("kc.account_id")} AND k.created_at > %s
GROUP BY kc.account_id
"""


def lead_numbers(
    leads: Iterable[Lead], *, audience: str = OPS, now: datetime | None = None
) -> dict[int, list[NumberCheck]]:
    """Return, per lead id, each of its contact's numbers and the reason it may not be dialled, if any,
    worded for ``audience`` (``campaigns.selectors.explaining.block_sentence``): a number block in force, or
    else its calling window or a frequency cap (``campaigns.selectors.calling``) at ``now``.

    Only number blocks are read here; whether the lead itself may be called is ``explain``'s question. One
    prepared statement, and more only to word the refusals: a blocked number, a capped one. The leads'
    contacts' accounts must be loaded.
    """
    leads = list(leads)
    blocks_now = now or timezone.now()
    calling_at = now or calling.calling_now()
    ops = connection.ops
    since = ops.adapt_datetimefield_value(calling_at - calling.CAP_PERIOD)
    contacts = id_list(sorted({lead.contact_id for lead in leads}))
    campaigns = id_list(sorted({lead.campaign_id for lead in leads}))
    accounts = id_list(sorted({lead.contact.account_id for lead in leads}))
    with prepared_cursor() as cursor:
        cursor.execute(
            _NUMBERS_SQL,
            [
                contacts,
                contacts,
                ops.adapt_datetimefield_value(blocks_now),
                campaigns,
                campaigns,
                contacts,
                since,
                contacts,
                since,
                contacts,
                since,
                accounts,
                since,
            ],
        )
        rows = cursor.fetchall()
    links = sorted((row for row in rows if row[0] is not None), key=lambda row: row[0])
    block_ids: dict[tuple[int, int], list[int]] = defaultdict(list)
    facts: dict[tuple[str, int | None, int | None], int] = {}
    for link_id, key, phone_id, _, fact, value in rows:
        if link_id is not None:
            continue
        if fact is None:
            block_ids[key, phone_id].append(value)
        else:
            facts[fact, key, phone_id] = value
    # Most pulls meet no number block: the sentences' joins are paid for only when needed.
    blocks = {
        block.pk: block for block in blocks_for_sentences(sorted({pk for ids in block_ids.values() for pk in ids}))
    }
    links_by_contact: dict[int, list[tuple[str, int, str, list[Block]]]] = defaultdict(list)
    for _, contact_id, phone_id, kind, e164, _ in links:
        ranked = sorted((blocks[pk] for pk in block_ids[contact_id, phone_id]), key=block_rank)
        links_by_contact[contact_id].append((kind, phone_id, e164, ranked))

    rules = calling.rules_for(facts.get(("rules", None, None), 0))
    # What the live checks stop of these numbers (the registries: ``suppressions.registries``).
    e164s = {e164 for _, _, _, _, e164, _ in links}
    live: dict[tuple[int, str], Reason] = {}
    for check in live_checks():
        if check.numbers_reasons is not None:
            for key, found in check.numbers_reasons(leads, e164s).items():
                live.setdefault(key, found)

    result: dict[int, list[NumberCheck]] = {}
    for lead in leads:
        policy = calling.policy_for(
            lead.campaign_id,
            facts.get(("policy", lead.campaign_id, None)),
            business=("business", lead.campaign_id, None) in facts,
        )
        checks = []
        for kind, phone_id, e164, ranked in links_by_contact[lead.contact_id]:
            stopping = next((block for block in ranked if block_reaches_lead(block, lead, now=blocks_now)), None)
            if stopping is not None:
                reason = block_reasons([stopping], lead=lead, audience=audience)[0]
            elif (lead.pk, e164) in live:
                # A registry lists it: a refusal, before any "not now".
                reason = live[(lead.pk, e164)]
            else:
                counts = calling.CallCounts(
                    number=facts.get(("calls_number", lead.customer_id, phone_id), 0),
                    contact=facts.get(("calls_contact", lead.contact_id, None), 0),
                    account=facts.get(("calls_account", lead.contact.account_id, None), 0),
                    number_everywhere=facts.get(("calls_everywhere", None, phone_id), 0),
                )
                reason = _not_now(lead, e164, counts, policy=policy, rules=rules, now=calling_at)
            checks.append(NumberCheck(e164=e164, kind=kind, reason=reason))
        result[lead.pk] = checks
    return result


def _not_now(lead: Lead, e164: str, counts, *, policy, rules, now: datetime) -> Reason | None:
    """Return why a number no block stops may not be called at ``now`` (its window first, then a cap)."""
    window = calling.window_check(e164, policy=policy, rules=rules, now=now)
    if not window.allowed:
        return not_now_reason(window)
    caps = calling.caps_reached(e164, counts, policy=policy, rules=rules)
    if not caps:
        return None
    times = call_times_counted(lead.pk, e164, {caps[0].counts}, since=now - calling.CAP_PERIOD)
    return not_now_reason(calling.cap_verdict(e164, caps[0], times=times[caps[0].counts], now=now))

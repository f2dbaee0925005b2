"""Which of a set of leads' numbers may be dialled, in one or two queries whatever the number of leads.

The pull hands a caller up to 50 leads at once; asking ``can_dial`` once per number would cost a few
queries each. The rule is the same (``campaigns.rules``): a number is stopped by an active block on the
number or on the contact's use of it, within the block's reach; the most serious one is named with the
``explain`` sentence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from campaigns.models import Block, Lead
from campaigns.rules import NUMBER_TARGETS, block_active_sql, block_on_sql, block_reaches_lead
from campaigns.selectors.explaining import OPS, Reason, block_rank, block_reasons, blocks_for_sentences, live_checks
from leadops.db import id_list, in_ids, prepared_cursor


@dataclass(frozen=True)
class NumberCheck:
    e164: str
    kind: str
    reason: Reason | None = None

    @property
    def dialable(self) -> bool:
        return self.reason is None


# Each number of the contacts (rows with a link id), and the active blocks on it or on that contact's use of
# it (rows with a block id), whatever their reach: the reach depends on the lead, and is the rule's in Python.
_NUMBERS_SQL = f"""
SELECT cp.id, cp.contact_id, cp.phone_id, cp.kind, p.e164, NULL
FROM campaigns_contactphone cp JOIN campaigns_phonenumber p ON p.id = cp.phone_id
WHERE {in_ids("cp.contact_id")}
UNION ALL
SELECT NULL, cp.contact_id, cp.phone_id, NULL, NULL, b.id
FROM campaigns_contactphone cp JOIN campaigns_block b ON b.phone_id = cp.phone_id
WHERE {in_ids("cp.contact_id")} AND {block_active_sql("b")}
  AND {block_on_sql("b", NUMBER_TARGETS, contact="cp.contact_id", phone="cp.phone_id")}
"""


def lead_numbers(leads: Iterable[Lead], *, audience: str = OPS) -> dict[int, list[NumberCheck]]:
    """Return, per lead id, each of its contact's numbers and the reason it may not be dialled, if any,
    worded for ``audience`` (``campaigns.selectors.explaining.block_sentence``).

    Only number blocks are read here; whether the lead itself may be called is ``explain``'s question. One
    prepared statement, and one more to word the refusals when a number is blocked.
    """
    leads = list(leads)
    contacts = id_list(sorted({lead.contact_id for lead in leads}))
    with prepared_cursor() as cursor:
        cursor.execute(_NUMBERS_SQL, [contacts, contacts])
        rows = cursor.fetchall()
    links = sorted((row for row in rows if row[0] is not None), key=lambda row: row[0])
    block_ids: dict[tuple[int, int], list[int]] = defaultdict(list)
    for _, contact_id, phone_id, _, _, block_id in rows:
        if block_id is not None:
            block_ids[contact_id, phone_id].append(block_id)
    # Most pulls meet no number block: the sentences' joins are paid for only when needed.
    blocks = {
        block.pk: block for block in blocks_for_sentences(sorted({pk for ids in block_ids.values() for pk in ids}))
    }
    links_by_contact: dict[int, list[tuple[str, str, list[Block]]]] = defaultdict(list)
    for _, contact_id, phone_id, kind, e164, _ in links:
        ranked = sorted((blocks[pk] for pk in block_ids[contact_id, phone_id]), key=block_rank)
        links_by_contact[contact_id].append((kind, e164, ranked))

    # What the live checks stop of these numbers (the registries: ``suppressions.registries``).
    e164s = {e164 for _, _, _, _, e164, _ in links}
    live: dict[tuple[int, str], Reason] = {}
    for check in live_checks():
        if check.numbers_reasons is not None:
            for key, found in check.numbers_reasons(leads, e164s).items():
                live.setdefault(key, found)

    result: dict[int, list[NumberCheck]] = {}
    for lead in leads:
        checks = []
        for kind, e164, ranked in links_by_contact[lead.contact_id]:
            stopping = next((block for block in ranked if block_reaches_lead(block, lead)), None)
            reason = block_reasons([stopping], lead=lead, audience=audience)[0] if stopping is not None else None
            reason = reason or live.get((lead.pk, e164))
            checks.append(NumberCheck(e164=e164, kind=kind, reason=reason))
        result[lead.pk] = checks
    return result

"""Which of a set of leads' numbers may be dialled, in two or three queries whatever the number of leads.

The pull hands a caller up to 50 leads at once; asking ``can_dial`` once per number would cost a few
queries each. The rule is the same: a number is stopped by an active block on the number or on the
contact's use of it, within the block's reach; the most serious one is named with the ``explain`` sentence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from campaigns.models import Block, ContactPhone, Lead
from campaigns.selectors.explaining import Reason, block_rank, block_reaches_lead, block_reasons


@dataclass(frozen=True)
class NumberCheck:
    e164: str
    kind: str
    reason: Reason | None = None

    @property
    def dialable(self) -> bool:
        return self.reason is None


def lead_numbers(leads: Iterable[Lead]) -> dict[int, list[NumberCheck]]:
    """Return, per lead id, each of its contact's numbers and the reason it may not be dialled, if any.

    Only number blocks are read here; whether the lead itself may be called is ``explain``'s question.
    """
    leads = list(leads)
    contact_ids = {lead.contact_id for lead in leads}
    links = list(ContactPhone.objects.filter(contact_id__in=contact_ids).select_related("phone").order_by("id"))
    phone_ids = {link.phone_id for link in links}
    number_blocks = Block.objects.active().filter(
        Q(target=Block.Target.PHONE, phone_id__in=phone_ids)
        | Q(target=Block.Target.CONTACT_PHONE, contact_id__in=contact_ids, phone_id__in=phone_ids)
    )
    # Most pulls meet no number block: ask for ids first, and pay for the sentences' joins only when needed.
    block_ids = list(number_blocks.values_list("pk", flat=True))
    blocks = (
        list(Block.objects.filter(pk__in=block_ids).select_related("actor", "customer", "campaign", "phone", "contact"))
        if block_ids
        else []
    )
    blocks.sort(key=block_rank)
    by_phone: dict[int, list[Block]] = defaultdict(list)
    for block in blocks:
        by_phone[block.phone_id].append(block)
    links_by_contact: dict[int, list[ContactPhone]] = defaultdict(list)
    for link in links:
        links_by_contact[link.contact_id].append(link)

    result: dict[int, list[NumberCheck]] = {}
    for lead in leads:
        checks = []
        for link in links_by_contact[lead.contact_id]:
            stopping = next(
                (
                    b
                    for b in by_phone[link.phone_id]
                    if block_reaches_lead(b, lead)
                    and (b.target == Block.Target.PHONE or b.contact_id == lead.contact_id)
                ),
                None,
            )
            reason = None
            if stopping is not None:
                (reason,) = block_reasons([stopping], lead=lead)
            checks.append(NumberCheck(e164=link.phone.e164, kind=link.kind, reason=reason))
        result[lead.pk] = checks
    return result

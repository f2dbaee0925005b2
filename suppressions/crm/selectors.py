"""Reads of the CRM app for the core: which synced records say a lead's company already buys from the customer."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from campaigns.models import Block, Lead
from campaigns.selectors.opportunities import ExistingMatch
from suppressions.crm.models import CrmMatch, CrmRecord, ObjectType


def existing_customer_records(lead: Lead) -> list[ExistingMatch]:
    """Return the CRM companies of ``lead``'s customer marked as a customer (an open match of a rule whose reason
    is Existing customer) on the domain of the lead's account or a subdomain of it, as qualify offers them.

    Registered with ``campaigns.selectors.opportunities`` by ``CrmConfig.ready``. The opportunity goes on the
    lead's own account, naming the record.
    """
    account = lead.contact.account
    if not account.domain:
        return []
    marked = CrmMatch.objects.filter(
        record=OuterRef("pk"), ended_at__isnull=True, rule__reason=Block.Reason.EXISTING_CUSTOMER
    )
    records = (
        CrmRecord.objects.filter(
            Q(domain=account.domain) | Q(domain__endswith=f".{account.domain}"),
            Exists(marked),
            customer_id=lead.customer_id,
            object_type=ObjectType.COMPANY,
            is_deleted=False,
        )
        .select_related("connection")
        .order_by("pk")[:20]
    )
    return [
        ExistingMatch(account=account, record=record, why=f"a customer in {record.connection.name}")
        for record in records
    ]

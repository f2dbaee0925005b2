"""CSV downloads of what a customer can see: streamed, and safe to open in a spreadsheet."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from django.utils import timezone

from campaigns.models import Account, Contact, Customer, Lead, Opportunity
from campaigns.portal.selectors import lead_reasons
from leadops.normalizing import format_phone
from suppressions.models import Entry, RejectedRow

_CHUNK = 500


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def entry_rows(entries: Iterable[Entry]) -> Iterator[list[object]]:
    for entry in entries:
        value = format_phone(entry.value) if entry.kind == Entry.Kind.PHONE else entry.value
        upload = entry.upload.original_name if entry.upload_id else ""
        yield [entry.get_kind_display(), entry.value, value, upload, entry.line or "", _when(entry.created_at)]


ENTRY_HEADER = ["kind", "value", "as written", "upload", "line", "added"]


def rejected_rows(rows: Iterable[RejectedRow]) -> Iterator[list[object]]:
    for row in rows:
        yield [row.line, row.column, row.raw_value, row.reason]


REJECTED_HEADER = ["line", "column", "value", "reason"]


def account_rows(accounts: Iterable[Account]) -> Iterator[list[object]]:
    for account in accounts:
        yield [account.name, account.domain, "yes" if account.marked_dnc else "no"]


ACCOUNT_HEADER = ["account", "domain", "marked do not call"]


def contact_rows(contacts: Iterable[Contact]) -> Iterator[list[object]]:
    for contact in contacts:
        phones = "; ".join(format_phone(link.phone.e164) for link in contact.phones.all())
        emails = "; ".join(email.email for email in contact.emails.all())
        yield [
            contact.first_name,
            contact.last_name,
            contact.title,
            contact.account.name,
            phones,
            emails,
            "yes" if contact.marked_dnc else "no",
        ]


CONTACT_HEADER = ["first name", "last name", "title", "account", "phones", "emails", "marked do not call"]


def disqualified_rows(leads: Iterable[Lead], *, customer: Customer) -> Iterator[list[object]]:
    """Yield one row per lead with its reasons, worded for the customer, ``_CHUNK`` leads per block query."""
    iterator = iter(leads)
    while chunk := list(islice(iterator, _CHUNK)):
        reasons = lead_reasons(chunk, customer=customer)
        for lead in chunk:
            yield [
                lead.campaign.name,
                lead.contact.full_name,
                lead.contact.account.name,
                _when(lead.updated_at),
                " | ".join(reasons.get(lead.pk, [])),
            ]


DISQUALIFIED_HEADER = ["campaign", "contact", "account", "since", "why"]


def opportunity_state_words(opportunity: Opportunity) -> str:
    """Return the opportunity's state as the customer reads it: ``Open``, ``Won``, ``Lost: Price``."""
    if opportunity.state == Opportunity.State.LOST:
        return f"Lost: {opportunity.lost_reason}"
    return opportunity.get_state_display()


def opportunity_rows(opportunities: Iterable[Opportunity]) -> Iterator[list[object]]:
    """Yield one row per opportunity: what it is about, never who at the agency qualified it or their notes."""
    for opportunity in opportunities:
        yield [
            opportunity.account.name,
            opportunity.contact.full_name,
            opportunity.campaign.name,
            opportunity.project.name if opportunity.project_id else "",
            opportunity.consideration_stage.label,
            opportunity_state_words(opportunity),
            "existing customer" if opportunity.existing_customer else "new customer",
            _when(opportunity.qualified_at),
        ]


OPPORTUNITY_HEADER = ["account", "contact", "campaign", "project", "stage", "state", "customer", "qualified"]

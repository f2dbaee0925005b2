"""Create the people and companies leadops reaches out to, with their numbers normalised once."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from campaigns.models import (
    Account,
    Campaign,
    Contact,
    ContactEmail,
    ContactPhone,
    Customer,
    Disposition,
    Lead,
    PhoneNumber,
)
from campaigns.services.statuses import lead_statuses_recompute
from leadops.errors import LeadopsError
from leadops.normalizing import NormalizationError, normalize_domain, normalize_email, normalize_phone

DEFAULT_DISPOSITIONS: list[tuple[str, str, str]] = [
    ("no_answer", "No answer", Disposition.Effect.NO_CONNECT),
    ("busy", "Busy", Disposition.Effect.NO_CONNECT),
    ("left_voicemail", "Left voicemail", Disposition.Effect.NO_CONNECT),
    ("gatekeeper", "Gatekeeper", Disposition.Effect.CONNECT),
    ("call_back_later", "Call back later", Disposition.Effect.CALLBACK),
    ("not_interested", "Not interested", Disposition.Effect.NOT_INTERESTED),
    ("do_not_call", "Do not call", Disposition.Effect.DO_NOT_CALL),
    ("wrong_number", "Wrong number", Disposition.Effect.WRONG_NUMBER),
    ("invalid_number", "Invalid number", Disposition.Effect.INVALID_NUMBER),
    ("meeting_booked", "Meeting booked", Disposition.Effect.MEETING_BOOKED),
]


def customer_create(*, name: str, slug: str, phone_region: str = "US") -> Customer:
    """Create a tenant; its ``phone_region`` reads national-format numbers."""
    customer = Customer(name=name, slug=slug, phone_region=phone_region.upper())
    customer.full_clean()
    customer.save()
    return customer


def campaign_create(
    *,
    customer: Customer,
    name: str,
    status: str = Campaign.Status.ACTIVE,
    cooldown_hours: int = 24,
    attempt_cap: int = 6,
) -> Campaign:
    """Create a campaign with the default disposition catalogue."""
    with transaction.atomic():
        campaign = Campaign(
            customer=customer,
            name=name,
            status=status,
            cooldown_hours=cooldown_hours,
            attempt_cap=attempt_cap,
        )
        campaign.full_clean()
        campaign.save()
        Disposition.objects.bulk_create(
            Disposition(campaign=campaign, code=code, label=label, effect=effect, sort_order=index)
            for index, (code, label, effect) in enumerate(DEFAULT_DISPOSITIONS)
        )
    return campaign


def account_create(*, customer: Customer, name: str, domain: str = "") -> Account:
    """Create an account; ``domain`` (a domain or URL) is stored as lower-case IDNA, the name space-squeezed."""
    try:
        normalized = normalize_domain(domain) if domain.strip() else ""
    except NormalizationError as exc:
        raise LeadopsError(exc.message, field="domain") from exc
    account = Account(customer=customer, name=" ".join(name.split()), domain=normalized)
    account.full_clean()
    account.save()
    return account


def phone_number_get_or_create(*, raw: str, region: str) -> PhoneNumber:
    """Return the one ``PhoneNumber`` for ``raw`` read with ``region``; raise if it is impossible."""
    try:
        e164 = normalize_phone(raw, region)
    except NormalizationError as exc:
        raise LeadopsError(exc.message, field="phone") from exc
    phone, _ = PhoneNumber.objects.get_or_create(e164=e164)
    return phone


def contact_create(
    *,
    account: Account,
    first_name: str = "",
    last_name: str = "",
    title: str = "",
    emails: Iterable[str] = (),
    phones: Iterable[tuple[str, str]] = (),
) -> Contact:
    """Create a contact with its emails and ``(raw number, kind)`` phones.

    A bad email or number refuses the whole contact, naming the field; nothing is saved.
    """
    region = account.customer.phone_region
    with transaction.atomic():
        contact = Contact(
            customer_id=account.customer_id,
            account=account,
            first_name=first_name,
            last_name=last_name,
            title=title,
        )
        contact.full_clean()
        contact.save()
        for raw in emails:
            try:
                email = normalize_email(raw)
            except NormalizationError as exc:
                raise LeadopsError(exc.message, field="email") from exc
            ContactEmail.objects.get_or_create(contact=contact, email=email, defaults={"domain": email.split("@")[1]})
        for raw, kind in phones:
            contact_phone_add(contact=contact, raw=raw, kind=kind, region=region)
    return contact


def contact_phone_add(
    *, contact: Contact, raw: str, kind: str = ContactPhone.Kind.DIRECT, region: str | None = None
) -> ContactPhone:
    """Give ``contact`` the number ``raw`` (shared with anyone who has it) and recompute its leads."""
    region = region or contact.customer.phone_region
    with transaction.atomic():
        phone = phone_number_get_or_create(raw=raw, region=region)
        link, _ = ContactPhone.objects.get_or_create(contact=contact, phone=phone, defaults={"kind": kind})
        lead_statuses_recompute(leads=Lead.objects.filter(contact=contact))
    return link


def lead_create(*, campaign: Campaign, contact: Contact, priority: int = 0, source: str = "") -> Lead:
    """Put ``contact`` into ``campaign``'s pool; its status is computed from the blocks at once."""
    if contact.customer_id != campaign.customer_id:
        raise LeadopsError("A lead's contact must belong to the campaign's customer.", field="contact")
    with transaction.atomic():
        lead, _ = Lead.objects.get_or_create(
            campaign=campaign,
            contact=contact,
            defaults={"customer_id": campaign.customer_id, "priority": priority, "source": source},
        )
        lead_statuses_recompute(leads=Lead.objects.filter(pk=lead.pk))
        lead.refresh_from_db(fields=["status"])
    return lead

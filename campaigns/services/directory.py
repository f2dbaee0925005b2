"""Create the people and companies leadops reaches out to, with their numbers normalised once.

Every service here that adds a contact, a number, an email or a lead scrubs it in its own transaction
(``contacts_scrub``: suppressions, fit rules, statuses), as a lead import does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Model

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
from campaigns.services.actors import Actor, actor_label
from campaigns.services.catalogues import consideration_stages_seed, lost_reasons_seed
from campaigns.services.scrubbing import contacts_scrub
from leadops.errors import LeadopsError
from leadops.normalizing import NormalizationError, normalize_domain, normalize_email, normalize_phone

logger = logging.getLogger(__name__)

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
    ("not_now_30", "Not now \u2014 try again in 30 days", Disposition.Effect.NOT_NOW),
]
# The days a default Not now disposition keeps the lead out of the pool.
NOT_NOW_DAYS = 30


def default_dispositions(campaign: Campaign) -> list[Disposition]:
    """Return the default disposition catalogue for ``campaign``, unsaved."""
    return [
        Disposition(
            campaign=campaign,
            code=code,
            label=label,
            effect=effect,
            sort_order=index,
            block_days=NOT_NOW_DAYS if effect == Disposition.Effect.NOT_NOW else None,
        )
        for index, (code, label, effect) in enumerate(DEFAULT_DISPOSITIONS)
    ]


def customer_create(*, name: str, slug: str, phone_region: str = "US") -> Customer:
    """Create a tenant, with the default lost reasons; its ``phone_region`` reads national-format numbers."""
    with transaction.atomic():
        customer = Customer(name=name, slug=slug, phone_region=phone_region.upper())
        customer.full_clean()
        customer.save()
        lost_reasons_seed(customers=Customer.objects.filter(pk=customer.pk))
    return customer


def customer_update(*, customer: Customer, name: str, phone_region: str, actor: Actor) -> Customer:
    """Rename a tenant or change the region its national-format numbers are read with (numbers already
    stored stay as they were read). The slug never changes: it names the tenant in URLs and uploads."""
    with transaction.atomic():
        customer.name, customer.phone_region = name, phone_region.upper()
        customer.full_clean()
        customer.save(update_fields=["name", "phone_region", "updated_at"])
    _changed(customer, actor)
    return customer


def campaign_create(
    *,
    customer: Customer,
    name: str,
    status: str = Campaign.Status.ACTIVE,
    cooldown_hours: int = 24,
    attempt_cap: int = 6,
) -> Campaign:
    """Create a campaign with the default disposition catalogue and consideration stages."""
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
        Disposition.objects.bulk_create(default_dispositions(campaign))
        consideration_stages_seed(campaigns=Campaign.objects.filter(pk=campaign.pk))
    return campaign


def campaign_update(
    *, campaign: Campaign, name: str, status: str, cooldown_hours: int, attempt_cap: int, actor: Actor
) -> Campaign:
    """Change a campaign's name, status and calling rules; its customer never changes.

    A new cooldown or attempt cap applies from the next call on (the pull reads the status as it is).
    """
    with transaction.atomic():
        campaign.name, campaign.status = name, status
        campaign.cooldown_hours, campaign.attempt_cap = cooldown_hours, attempt_cap
        campaign.full_clean()
        campaign.save(update_fields=["name", "status", "cooldown_hours", "attempt_cap", "updated_at"])
    _changed(campaign, actor)
    return campaign


def disposition_create(
    *,
    campaign: Campaign,
    code: str,
    label: str,
    effect: str,
    is_active: bool = True,
    sort_order: int = 0,
    block_days: int | None = None,
    actor: Actor,
) -> Disposition:
    """Add an outcome to ``campaign``'s disposition catalogue; ``code`` is the dialer's word for it, unique in
    the campaign, and ``effect`` what recording it does to the lead (Not now: for ``block_days`` days)."""
    disposition = Disposition(
        campaign=campaign,
        code=code,
        label=label,
        effect=effect,
        is_active=is_active,
        sort_order=sort_order,
        block_days=block_days,
    )
    disposition.full_clean()
    disposition.save()
    _changed(disposition, actor)
    return disposition


def disposition_update(
    *,
    disposition: Disposition,
    code: str,
    label: str,
    effect: str,
    is_active: bool,
    sort_order: int,
    block_days: int | None = None,
    actor: Actor,
) -> Disposition:
    """Change a disposition of a catalogue (its campaign never changes: its calls are that campaign's).

    Calls already recorded keep what their disposition did then; a new effect applies from the next call.
    Switching it off keeps it on the calls that used it, and refuses it for new calls.
    """
    with transaction.atomic():
        disposition = Disposition.objects.select_for_update().get(pk=disposition.pk)
        disposition.code, disposition.label, disposition.effect = code, label, effect
        disposition.is_active, disposition.sort_order, disposition.block_days = is_active, sort_order, block_days
        disposition.full_clean()
        disposition.save(update_fields=["code", "label", "effect", "is_active", "sort_order", "block_days"])
    _changed(disposition, actor)
    return disposition


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


def account_update(*, account: Account, name: str, actor: Actor) -> Account:
    """Rename an account (space-squeezed, as ``account_create`` stores it); its domain and tenant stay."""
    with transaction.atomic():
        account.name = " ".join(name.split())
        account.full_clean()
        account.save(update_fields=["name", "updated_at"])
    _changed(account, actor)
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
    """Create a contact with its emails and ``(raw number, kind)`` phones, scrubbed as an import's are.

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
            _email_link(contact=contact, raw=raw)
        for raw, kind in phones:
            _phone_link(contact=contact, raw=raw, kind=kind, region=region)
        contacts_scrub(customer=account.customer, contact_ids=[contact.pk])
    return contact


def contact_update(*, contact: Contact, first_name: str, last_name: str, title: str, actor: Actor) -> Contact:
    """Change a contact's names and title, and judge its leads again (a title can fail a fit rule)."""
    with transaction.atomic():
        contact.first_name, contact.last_name, contact.title = first_name, last_name, title
        contact.full_clean()
        contact.save()
        contacts_scrub(customer=contact.customer, contact_ids=[contact.pk])
    _changed(contact, actor)
    return contact


def _email_link(*, contact: Contact, raw: str) -> ContactEmail:
    try:
        email = normalize_email(raw)
    except NormalizationError as exc:
        raise LeadopsError(exc.message, field="email") from exc
    link, _ = ContactEmail.objects.get_or_create(contact=contact, email=email, defaults={"domain": email.split("@")[1]})
    return link


def _phone_link(*, contact: Contact, raw: str, kind: str, region: str) -> ContactPhone:
    phone = phone_number_get_or_create(raw=raw, region=region)
    link, _ = ContactPhone.objects.get_or_create(contact=contact, phone=phone, defaults={"kind": kind})
    return link


def contact_email_add(*, contact: Contact, raw: str) -> ContactEmail:
    """Give ``contact`` the address ``raw`` (normalised) and scrub it; a repeat call changes nothing."""
    with transaction.atomic():
        link = _email_link(contact=contact, raw=raw)
        contacts_scrub(customer=contact.customer, contact_ids=[contact.pk])
    return link


def contact_phone_add(
    *, contact: Contact, raw: str, kind: str = ContactPhone.Kind.DIRECT, region: str | None = None
) -> ContactPhone:
    """Give ``contact`` the number ``raw`` (shared with anyone who has it) and scrub it with its leads."""
    region = region or contact.customer.phone_region
    with transaction.atomic():
        link = _phone_link(contact=contact, raw=raw, kind=kind, region=region)
        contacts_scrub(customer=contact.customer, contact_ids=[contact.pk])
    return link


def lead_create(*, campaign: Campaign, contact: Contact, priority: int = 0, source: str = "") -> Lead:
    """Put ``contact`` into ``campaign``'s pool, scrubbed as an import's leads are, its status computed at once.

    A repeat call returns the lead already there (and scrubs it again, which changes nothing).
    """
    if contact.customer_id != campaign.customer_id:
        raise LeadopsError("A lead's contact must belong to the campaign's customer.", field="contact")
    with transaction.atomic():
        lead, _ = Lead.objects.get_or_create(
            campaign=campaign,
            contact=contact,
            defaults={"customer_id": campaign.customer_id, "priority": priority, "source": source},
        )
        contacts_scrub(customer=campaign.customer, contact_ids=[contact.pk], campaign=campaign)
        lead.refresh_from_db(fields=["status"])
    return lead


def lead_update(*, lead: Lead, priority: int, source: str, actor: Actor) -> Lead:
    """Change a lead's priority in the pool and its source label; its status stays the recompute's."""
    with transaction.atomic():
        lead.priority, lead.source = priority, source
        lead.full_clean()
        lead.save(update_fields=["priority", "source", "updated_at"])
    _changed(lead, actor)
    return lead


def _changed(row: Model, actor: Actor) -> None:
    logger.info("%s #%s changed by %s", row._meta.verbose_name, row.pk, actor_label(actor))

"""Write calling policies and the jurisdiction table (``docs/calling-windows.md``).

Every write gives what it changed a new version (a random token, so that a version is never reused, not even
by a rolled-back test): the dial check's and the pull's own statements read the versions, and a process
reloads its copy in memory when they differ.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from campaigns.models import CallingPolicy, CallingRulesVersion, Campaign, Jurisdiction, JurisdictionHoliday, User
from campaigns.selectors.calling import parse_hours, parse_prefixes, parse_weekdays
from campaigns.services.actors import Actor
from leadops.errors import LeadopsError


def _new_version() -> int:
    return secrets.randbits(62) + 1


def calling_policy_save(
    *,
    campaign: Campaign,
    hours: object,
    number_cap: int | None = None,
    contact_cap: int | None = None,
    account_cap: int | None = None,
    consumer_rules_waived: bool = False,
    waiver_note: str = "",
    actor: Actor,
) -> CallingPolicy:
    """Set ``campaign``'s calling policy: its local hours per weekday (``{"mon": ["08:00", "21:00"], …}``, null
    for a day without calls), its caps per number, contact and account in 24 hours across the customer's
    campaigns (None for none), and whether, as a business campaign, it waives the consumer-only rules.

    A waiver needs a business campaign, a person and a note saying why; it is recorded with who and when, and
    kept as it was while it stays on. Bad hours are refused naming the day and what is wrong.
    """
    try:
        parse_hours(hours)
    except ValueError as exc:
        raise LeadopsError(str(exc), field="hours") from exc
    waiver_note = (waiver_note or "").strip()
    if consumer_rules_waived:
        if campaign.audience != Campaign.Audience.BUSINESS:
            raise LeadopsError(
                f"{campaign} calls consumers: only a business campaign may waive the consumer-only rules.",
                field="consumer_rules_waived",
            )
        if not isinstance(actor, User):
            raise LeadopsError("A person waives the consumer-only rules, not a job.", field="consumer_rules_waived")
        if not waiver_note:
            raise LeadopsError("Say why the campaign's calls are business calls.", field="waiver_note")
    with transaction.atomic():
        policy = CallingPolicy.objects.select_for_update().filter(campaign=campaign).first() or CallingPolicy(
            campaign=campaign
        )
        waived_before = policy.consumer_rules_waived
        policy.hours = hours
        policy.number_cap, policy.contact_cap, policy.account_cap = number_cap, contact_cap, account_cap
        policy.consumer_rules_waived, policy.waiver_note = consumer_rules_waived, waiver_note
        if consumer_rules_waived and not waived_before:
            policy.waived_by, policy.waived_at = actor, timezone.now()
        elif not consumer_rules_waived:
            policy.waived_by, policy.waived_at = None, None
        policy.version = _new_version()
        _clean(policy)
        policy.save()
    return policy


def _clean(row) -> None:
    try:
        row.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise LeadopsError(" ".join(messages), field="" if field == "__all__" else field) from exc


def calling_rules_changed() -> int:
    """Give the jurisdiction table a new version (every process reloads it on its next dial check); return it."""
    version = _new_version()
    updated = CallingRulesVersion.objects.filter(pk=1).update(version=version)
    if not updated:
        CallingRulesVersion.objects.create(pk=1, version=version)
    return version


def jurisdiction_save(*, jurisdiction: Jurisdiction, actor: Actor) -> Jurisdiction:
    """Save a row of the jurisdiction table (new or changed): its prefixes and closed weekdays are checked as
    the dial check reads them, and every process reloads the table."""
    for field, parse in (("prefixes", parse_prefixes), ("closed_weekdays", parse_weekdays)):
        try:
            parse(getattr(jurisdiction, field))
        except ValueError as exc:
            raise LeadopsError(str(exc), field=field) from exc
    jurisdiction.country = jurisdiction.country.upper()
    with transaction.atomic():
        _clean(jurisdiction)
        jurisdiction.save()
        calling_rules_changed()
    return jurisdiction


def jurisdiction_holidays_save(
    *,
    jurisdiction: Jurisdiction,
    saved: Iterable[JurisdictionHoliday],
    deleted: Iterable[JurisdictionHoliday] = (),
    actor: Actor,
) -> None:
    """Add, change and remove a jurisdiction's holidays; every process reloads the table."""
    with transaction.atomic():
        for holiday in saved:
            holiday.jurisdiction = jurisdiction
            _clean(holiday)
            holiday.save()
        for holiday in deleted:
            holiday.delete()
        calling_rules_changed()


def jurisdiction_delete(*, jurisdiction: Jurisdiction, actor: Actor) -> None:
    """Remove a row of the table (its holidays with it); switching it off (``is_active``) keeps it for the record."""
    with transaction.atomic():
        jurisdiction.delete()
        calling_rules_changed()

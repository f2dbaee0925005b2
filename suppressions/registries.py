"""Reads over the platform-level registries: is a number listed, is the national copy fresh enough to call on.

Which campaigns are scrubbed: every campaign but a business one with an exemption in force
(``RegistryExemption``); a consumer campaign is always scrubbed. Every registry loaded applies to every scrubbed
campaign (a state list too: the contact's state is not known, so the wider rule holds).

Freshness (national copy only): a copy loaded more than ``FRESH_DAYS`` calendar days ago (local days) refuses
every dial check of a scrubbed campaign, in words; from ``WARN_DAYS`` the ops home warns. With no copy ever
loaded, ``settings.LEADOPS_REGISTRY_REQUIRED`` decides: on, such dial checks refuse; off (the default), they
are not scrubbed and the ops home says so. Once a copy exists the setting no longer matters (loads are never
deleted).

Both checks are ``LiveCheck``\\s (``SuppressionsConfig.ready`` registers them): the dial check's one statement
probes the registry's partial unique index by the dialled number, and the pull's numbers ask
``numbers_reasons``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from campaigns.models import Block, Campaign, ContactPhone, Lead
from campaigns.rules import block_was_in_force_then
from campaigns.selectors.explaining import LiveCheck, Reason
from leadops.db import id_list, in_ids, prepared_cursor
from leadops.normalizing import format_phone
from suppressions.models import NATIONAL, RegistryExemption, RegistryLoad, RegistryNumber, registry_name

FRESH_DAYS = 31
WARN_DAYS = 25
LISTED_KIND = "registry"
STALE_KIND = "registry_stale"
STALE_CODE = "registry_stale"
NEVER_LOADED_CODE = "registry_never_loaded"


def reason_code(registry: str) -> str:
    """``national_dnc`` for the national registry, ``state_dnc`` for a state list."""
    return "national_dnc" if registry == NATIONAL else "state_dnc"


def registry_required() -> bool:
    return bool(getattr(settings, "LEADOPS_REGISTRY_REQUIRED", False))


def fresh_after(now: datetime | None = None) -> datetime:
    """Return the oldest moment a national copy may have been loaded at and still be called on: the start of the
    local day ``FRESH_DAYS`` days ago."""
    return _fresh_after_day(timezone.localdate(now or timezone.now()), timezone.get_current_timezone())


@functools.lru_cache(maxsize=64)
def _fresh_after_day(today: date, zone: tzinfo) -> datetime:
    # Asked on every dial check: the same answer all day, in the day's time zone.
    start = datetime.combine(today - timedelta(days=FRESH_DAYS), datetime.min.time())
    return timezone.make_aware(start, zone)


def age_days(load: RegistryLoad, *, now: datetime | None = None) -> int:
    """Return how many calendar days (local) old the copy is: 0 the day it was loaded."""
    return (timezone.localdate(now or timezone.now()) - timezone.localdate(load.loaded_at)).days


def newest_load(registry: str = NATIONAL, *, at: datetime | None = None) -> RegistryLoad | None:
    """Return the newest load of ``registry`` (as of ``at``, when given)."""
    loads = RegistryLoad.objects.filter(registry=registry)
    if at is not None:
        loads = loads.filter(loaded_at__lte=at)
    return loads.order_by("-loaded_at", "-id").first()


def loads_in_force(*, at: datetime | None = None) -> list[RegistryLoad]:
    """Return the newest load of each registry (as of ``at``): the versions in force, national first."""
    loads = RegistryLoad.objects.all()
    if at is not None:
        loads = loads.filter(loaded_at__lte=at)
    newest: dict[str, RegistryLoad] = {}
    for load in loads.order_by("registry", "-loaded_at", "-id"):
        newest.setdefault(load.registry, load)
    return sorted(newest.values(), key=lambda load: (load.registry != NATIONAL, load.registry))


@dataclass(frozen=True)
class Freshness:
    """What the ops home says of the national copy: ``state`` is ``fresh``, ``warn``, ``stale`` or ``never``."""

    state: str
    load: RegistryLoad | None
    days: int | None
    message: str


def national_freshness(*, now: datetime | None = None) -> Freshness:
    load = newest_load(NATIONAL)
    if load is None:
        if registry_required():
            message = "No national registry copy has been loaded: consumer dial checks refuse until one is."
        else:
            message = (
                "No national registry copy has been loaded: consumer campaigns are not scrubbed against any "
                "registry. Load one (manage.py load_registry)."
            )
        return Freshness("never", None, None, message)
    days = age_days(load, now=now)
    if days > FRESH_DAYS:
        return Freshness("stale", load, days, f"{_stale_words(days)}: consumer dial checks refuse until it is.")
    if days >= WARN_DAYS:
        left = FRESH_DAYS - days
        return Freshness(
            "warn",
            load,
            days,
            f"The national registry copy is {days} days old: consumer dial checks refuse in {left + 1} days "
            "unless a new one is loaded.",
        )
    return Freshness("fresh", load, days, f"The national registry copy is {days} days old.")


def _stale_words(days: int) -> str:
    return f"The national registry copy is {days} days old; load a new one"


def stale_reason(load_id: int, *, now: datetime | None = None, at: datetime | None = None) -> Reason:
    """Return the refusal for a stale national copy (``load_id``), or for none ever loaded (``load_id`` 0)."""
    if not load_id:
        return Reason(
            code=NEVER_LOADED_CODE,
            message="No national registry copy has been loaded; load one before calling for this campaign.",
        )
    load = RegistryLoad.objects.get(pk=load_id)
    days = age_days(load, now=at or now)
    return Reason(
        code=STALE_CODE, message=f"{_stale_words(days)} (loaded {timezone.localtime(load.loaded_at):%Y-%m-%d})."
    )


def listed_sentence(number: RegistryNumber) -> str:
    when = timezone.localtime(number.added_load.loaded_at).strftime("%Y-%m-%d")
    return (
        f"{format_phone(number.e164)} is on {registry_name(number.registry)} (listed since the copy loaded {when}): "
        "it may not be called for a consumer campaign."
    )


def listed_reasons(ids: list[int], *, audience: object = None) -> list[Reason]:
    """Return a reason per registry number (no query for none)."""
    if not ids:
        return []
    numbers = RegistryNumber.objects.filter(pk__in=ids).select_related("added_load")
    return [Reason(code=reason_code(n.registry), message=listed_sentence(n)) for n in _national_first(numbers)]


def _national_first(numbers) -> list[RegistryNumber]:
    return sorted(numbers, key=lambda n: (n.registry != NATIONAL, n.registry, n.pk))


# --- Which campaigns are scrubbed -------------------------------------------------------------------------


def exemption_in_force(campaign_id: int, *, at: datetime | None = None) -> RegistryExemption | None:
    exemptions = RegistryExemption.objects.filter(campaign_id=campaign_id)
    if at is None:
        exemptions = exemptions.filter(revoked_at__isnull=True)
    else:
        exemptions = exemptions.filter(granted_at__lte=at).filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=at))
    return exemptions.select_related("granted_by").first()


def campaign_is_scrubbed(campaign: Campaign, *, at: datetime | None = None) -> bool:
    """Whether ``campaign``'s calls are scrubbed against the registries (as of ``at``: the audience as it is now,
    the exemption as it was then)."""
    if campaign.audience != Campaign.Audience.BUSINESS:
        return True
    return exemption_in_force(campaign.pk, at=at) is None


# The campaign of the lead in the dial check's statement, when it is scrubbed.
_SCRUBBED_SQL = """JOIN campaigns_campaign rc ON rc.id = subject.campaign_id
  AND NOT (rc.audience = 'business' AND EXISTS (
      SELECT 1 FROM suppressions_registryexemption x WHERE x.campaign_id = rc.id AND x.revoked_at IS NULL))"""


def _listed_dial_sql() -> str:
    # A listing the scrub has blocked in the lead's campaign is said by its block (``registry_blocks_sync``);
    # probed only for a listed number.
    return (
        f"SELECT '{LISTED_KIND}', r.id FROM subject {_SCRUBBED_SQL}\n"
        "JOIN suppressions_registrynumber r ON r.e164 = %(number)s AND r.removed_load_id IS NULL\n"
        "WHERE NOT EXISTS (SELECT 1 FROM campaigns_block rb WHERE rb.evidence_type_id = %(registry_type)s\n"
        "  AND rb.evidence_id = r.id AND rb.source = 'registry' AND rb.campaign_id = subject.campaign_id\n"
        "  AND rb.lifted_at IS NULL)"
    )


def registry_type_id() -> int:
    """The content type of a registry row, a registry block's evidence (Django's cache answers it)."""
    return ContentType.objects.get_for_model(RegistryNumber).pk


def _listed_params(e164: str) -> dict[str, object]:
    return {"registry_type": registry_type_id()}


def _blocked_rows(campaign_id: int, ids: list[int], *, at: datetime | None = None) -> set[int]:
    """Return which of the registry rows ``ids`` a registry block in ``campaign_id`` says (in force now, or at
    ``at``): their sentences are the blocks'."""
    blocks = Block.objects.filter(
        source=Block.Source.REGISTRY, campaign_id=campaign_id, evidence_type_id=registry_type_id(), evidence_id__in=ids
    )
    blocks = blocks.filter(lifted_at__isnull=True) if at is None else blocks.filter(block_was_in_force_then(at))
    return set(blocks.values_list("evidence_id", flat=True))


def _stale_dial_sql() -> str:
    return (
        f"SELECT '{STALE_KIND}', COALESCE(n.id, 0) FROM subject {_SCRUBBED_SQL}\n"
        "LEFT JOIN (SELECT id, loaded_at FROM suppressions_registryload WHERE registry = 'national'\n"
        "           ORDER BY loaded_at DESC, id DESC LIMIT 1) n ON 1 = 1\n"
        "WHERE (n.id IS NULL AND %(registry_required)s) OR n.loaded_at < %(registry_fresh_after)s"
    )


def _stale_params(e164: str) -> dict[str, object]:
    # Server-side binding types these from their Python values; the embedded SQLite compares stored text.
    return {
        "registry_required": registry_required(),
        "registry_fresh_after": connection.ops.adapt_datetimefield_value(fresh_after()),
    }


def _stale_reasons(ids: list[int], *, audience: object = None) -> list[Reason]:
    return [stale_reason(ids[0])] if ids else []


def _lead_campaign(lead: Lead) -> Campaign:
    return lead.campaign if "campaign" in lead._state.fields_cache else Campaign.objects.get(pk=lead.campaign_id)


def stale_reasons_now(campaign: Campaign, *, at: datetime | None = None) -> list[Reason]:
    """Return the freshness refusal for ``campaign`` now (or as of ``at``), or ``[]``."""
    if not campaign_is_scrubbed(campaign, at=at):
        return []
    load = newest_load(NATIONAL, at=at)
    if load is None:
        # Before any copy, the setting decides; the setting's past value is not kept: read as it is now.
        return [stale_reason(0)] if registry_required() else []
    if load.loaded_at < fresh_after(at):
        return [stale_reason(load.pk, at=at)]
    return []


def _stale_of_lead(lead: Lead, *, audience: object = None) -> list[Reason]:
    return stale_reasons_now(_lead_campaign(lead))


def _listed_of_lead(lead: Lead, *, audience: object = None) -> list[Reason]:
    """The registries stop the lead itself when every number of its contact is listed."""
    if not campaign_is_scrubbed(_lead_campaign(lead)):
        return []
    numbers = set(ContactPhone.objects.filter(contact_id=lead.contact_id).values_list("phone__e164", flat=True))
    if not numbers:
        return []
    listed = list(RegistryNumber.objects.filter(e164__in=numbers, removed_load__isnull=True).values_list("pk", "e164"))
    if {e164 for _, e164 in listed} != numbers:
        return []
    blocked = _blocked_rows(lead.campaign_id, [pk for pk, _ in listed])
    return listed_reasons([pk for pk, _ in listed if pk not in blocked])


def listed_at(e164s: set[str], *, at: datetime) -> list[RegistryNumber]:
    """Return the registry rows that listed these numbers at ``at``: added by a load made by then, and not
    removed by one made by then."""
    return list(
        RegistryNumber.objects.filter(e164__in=e164s, added_load__loaded_at__lte=at)
        .filter(Q(removed_load__isnull=True) | Q(removed_load__loaded_at__gt=at))
        .select_related("added_load")
        .order_by("registry", "pk")
    )


def _listed_at(lead: Lead, e164: str | None, at: datetime, *, audience: object = None) -> list[Reason]:
    if not campaign_is_scrubbed(_lead_campaign(lead), at=at):
        return []
    if e164 is not None:
        rows = listed_at({e164}, at=at)
    else:
        numbers = set(ContactPhone.objects.filter(contact_id=lead.contact_id).values_list("phone__e164", flat=True))
        rows = listed_at(numbers, at=at) if numbers else []
        if {row.e164 for row in rows} != numbers:
            return []
    blocked = _blocked_rows(lead.campaign_id, [row.pk for row in rows], at=at) if rows else set()
    rows = [row for row in rows if row.pk not in blocked]
    return [Reason(code=reason_code(n.registry), message=listed_sentence(n)) for n in _national_first(rows)]


def _stale_at(lead: Lead, e164: str | None, at: datetime, *, audience: object = None) -> list[Reason]:
    return stale_reasons_now(_lead_campaign(lead), at=at)


def _text_in(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"{column} = ANY(CAST(%(numbers)s AS text[]))"
    return f"{column} IN (SELECT value FROM json_each(%(numbers)s))"


# The pull's numbers, in one prepared statement: the listed numbers with the date of the load that listed
# them (first: their rows type the columns), which campaigns are scrubbed, and the national copy's staleness
# (as the dial check reads it).
def _numbers_sql() -> str:
    return f"""
SELECT 'listed', r.id, r.e164, r.registry, l.loaded_at FROM suppressions_registrynumber r
JOIN suppressions_registryload l ON l.id = r.added_load_id
WHERE {_text_in("r.e164")} AND r.removed_load_id IS NULL
UNION ALL
SELECT 'campaign', rc.id, NULL, NULL, NULL FROM campaigns_campaign rc
WHERE {in_ids("rc.id", "%(campaigns)s")}
  AND NOT (rc.audience = 'business' AND EXISTS (
      SELECT 1 FROM suppressions_registryexemption x WHERE x.campaign_id = rc.id AND x.revoked_at IS NULL))
UNION ALL
SELECT 'stale', COALESCE(n.id, 0), NULL, NULL, NULL FROM (SELECT 1 AS one) one
LEFT JOIN (SELECT id, loaded_at FROM suppressions_registryload WHERE registry = 'national'
           ORDER BY loaded_at DESC, id DESC LIMIT 1) n ON 1 = 1
WHERE (n.id IS NULL AND %(registry_required)s) OR n.loaded_at < %(registry_fresh_after)s
"""


def numbers_reasons(leads: list[Lead], e164s: set[str]) -> dict[tuple[int, str], Reason]:
    """Return, per (lead id, number) of ``leads`` that the registries stop, the reason (the pull's numbers).

    One prepared statement (and one more to word a stale copy's refusal, when it is stale)."""
    campaign_ids = sorted({lead.campaign_id for lead in leads})
    if not campaign_ids or not e164s:
        return {}
    numbers = sorted(e164s)
    params = {
        **_stale_params(""),
        "campaigns": id_list(campaign_ids),
        "numbers": numbers if connection.vendor == "postgresql" else json.dumps(numbers),
    }
    with prepared_cursor() as cursor:
        cursor.execute(_numbers_sql(), params)
        rows = cursor.fetchall()
    scrubbed = {pk for kind, pk, *_ in rows if kind == "campaign"}
    if not scrubbed:
        return {}
    stale_ids = [pk for kind, pk, *_ in rows if kind == "stale"]
    stale = stale_reason(stale_ids[0]) if stale_ids else None
    listed: dict[str, Reason] = {}
    for kind, pk, e164, registry, loaded_at in sorted(rows, key=lambda row: (row[3] != NATIONAL, row[3] or "", row[1])):
        if kind == "listed" and e164 not in listed:
            if isinstance(loaded_at, str):  # the embedded SQLite returns what it stored (UTC)
                loaded_at = parse_datetime(loaded_at)
            if timezone.is_naive(loaded_at):
                loaded_at = timezone.make_aware(loaded_at, UTC)
            number = RegistryNumber(pk=pk, e164=e164, registry=registry, added_load=RegistryLoad(loaded_at=loaded_at))
            listed[e164] = Reason(code=reason_code(registry), message=listed_sentence(number))
    result = {}
    for lead in leads:
        if lead.campaign_id not in scrubbed:
            continue
        for e164 in e164s:
            reason = stale or listed.get(e164)
            if reason is not None:
                result[lead.pk, e164] = reason
    return result


# A number listed by a registry loaded, for a scrubbed campaign.
REGISTRY_LISTED = LiveCheck(
    kind=LISTED_KIND,
    dial_sql=_listed_dial_sql,
    dial_params=_listed_params,
    reasons=listed_reasons,
    lead_reasons=_listed_of_lead,
    reasons_at=_listed_at,
    numbers_reasons=numbers_reasons,
)
# The national copy too old (or never loaded, when required), for a scrubbed campaign: every call refuses.
REGISTRY_STALE = LiveCheck(
    kind=STALE_KIND,
    dial_sql=_stale_dial_sql,
    dial_params=_stale_params,
    reasons=_stale_reasons,
    lead_reasons=_stale_of_lead,
    reasons_at=_stale_at,
)

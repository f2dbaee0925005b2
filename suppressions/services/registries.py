"""Load a registry copy (the national Do-Not-Call registry, a state list) and grant or revoke exemptions.

The files accepted (``docs/registries.md``), tolerant of CRLF, surrounding blanks and blank lines:

* a full copy: one US number per line, 10 digits (area code, exchange, line: ``2125550123``), as the registry's
  area-code files are; the registry becomes exactly the numbers of all the files given;
* a change list: one number per line with its change after a comma, ``A`` (added) or ``D`` (deleted):
  ``2125550123,A``; a number changed twice in the lists given keeps its last change.

Numbers are stored in E.164 (``+12125550123``). A file with a bad line loads nothing: every bad line is named
by file and line (the first ``BAD_LINES_SHOWN``, and how many more). The load is set-based: the numbers stream
into a temporary staging table (``COPY`` on PostgreSQL, batched INSERTs on SQLite), then one UPDATE stamps
the numbers the load removes and one INSERT adds the new ones, in one transaction with the load's record.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from campaigns.models import Block, Campaign, ContactPhone, Lead, User
from campaigns.services.actors import Actor
from campaigns.services.statuses import lead_statuses_recompute
from leadops.db import id_list, ids_query, in_ids
from leadops.errors import LeadopsError
from suppressions.models import NATIONAL, RegistryExemption, RegistryLoad, RegistryNumber, registry_name

BAD_LINES_SHOWN = 20
_CHUNK = 50_000
_STATE = re.compile(r"^[A-Z]{2}$")
# NANP: area code and exchange start with 2-9.
_NUMBER = re.compile(r"^[2-9]\d{2}[2-9]\d{6}$")


def registry_code(text: str) -> str:
    """Return ``national`` or a state's upper-case two-letter code; refuse anything else, saying so."""
    code = (text or "").strip()
    if code.lower() == NATIONAL:
        return NATIONAL
    if _STATE.match(code.upper()):
        return code.upper()
    raise LeadopsError(
        f"'{text}' is not a registry: say national, or a state's two-letter code (TX).", field="registry"
    )


@dataclass
class _Read:
    name: str
    sha256: str
    lines: int


class _BadLines:
    def __init__(self) -> None:
        self.shown: list[str] = []
        self.count = 0

    def add(self, name: str, line: int, raw: str, why: str) -> None:
        self.count += 1
        if len(self.shown) < BAD_LINES_SHOWN:
            self.shown.append(f"{name}, line {line}: {why} ({raw[:40]!r})")

    def raise_if_any(self) -> None:
        if not self.count:
            return
        more = f" and {self.count - len(self.shown)} more" if self.count > len(self.shown) else ""
        raise LeadopsError(
            f"Nothing was loaded: {self.count} bad line{'s' if self.count != 1 else ''}: "
            + "; ".join(self.shown)
            + more
            + ".",
            field="file",
            code="invalid_registry_file",
        )


def _lines(path: Path, read: _Read) -> Iterator[tuple[int, str]]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            digest.update(raw)
            read.lines = number
            yield number, raw.decode("utf-8", errors="replace").strip().lstrip("\ufeff")
    read.sha256 = digest.hexdigest()


def _numbers(paths: list[Path], *, changes: bool, bad: _BadLines, reads: list[_Read]) -> Iterator[tuple[str, str]]:
    """Yield ``(e164, change)`` of every good line (``change`` is ``A`` for a full copy)."""
    for path in paths:
        read = _Read(name=path.name, sha256="", lines=0)
        reads.append(read)
        for line, text in _lines(path, read):
            if not text:
                continue
            change = "A"
            if changes:
                number, _, change = (part.strip() for part in text.partition(","))
                change = change.upper()
                if change not in ("A", "D"):
                    bad.add(read.name, line, text, "a change list's line is the number, a comma, then A or D")
                    continue
            else:
                number = text
            if not _NUMBER.match(number):
                bad.add(read.name, line, text, "not a 10-digit US number (area code, exchange, line)")
                continue
            yield f"+1{number}", change


def _stage(cursor, rows: Iterator[tuple[str, str]]) -> int:
    """Write the rows into ``registry_staging`` (``seq``, ``e164``, ``change``); return how many."""
    count = 0
    chunk: list[tuple[int, str, str]] = []

    def flush() -> None:
        if not chunk:
            return
        if connection.vendor == "postgresql":
            with cursor.copy("COPY registry_staging (seq, e164, change) FROM STDIN") as copy:
                copy.write("".join(f"{seq}\t{e164}\t{change}\n" for seq, e164, change in chunk))
        else:
            cursor.executemany("INSERT INTO registry_staging (seq, e164, change) VALUES (%s, %s, %s)", chunk)
        chunk.clear()

    for e164, change in rows:
        count += 1
        chunk.append((count, e164, change))
        if len(chunk) >= _CHUNK:
            flush()
    flush()
    return count


def registry_load(
    *,
    registry: str,
    paths: list[Path],
    changes: bool,
    actor: Actor | None = None,
    job: str = "",
    now: datetime | None = None,
) -> RegistryLoad:
    """Load ``paths`` into ``registry`` as one dated version (a full copy, or with ``changes`` a change list)
    and return its record with its counts; a bad line anywhere loads nothing (``LeadopsError``)."""
    registry = registry_code(registry)
    if not paths:
        raise LeadopsError("Give at least one file to load.", field="file")
    for path in paths:
        if not Path(path).is_file():
            raise LeadopsError(f"{path} is not a file.", field="file")
    user = actor if isinstance(actor, User) else None
    now = now or timezone.now()
    bad = _BadLines()
    reads: list[_Read] = []
    table = "suppressions_registrynumber"
    with transaction.atomic(), connection.cursor() as cursor:
        postgres = connection.vendor == "postgresql"
        if postgres:
            # One load of a registry at a time; dial checks read on meanwhile.
            cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            # Dropped at commit; and before, when the load runs in a transaction of its caller's (a test's).
            cursor.execute("DROP TABLE IF EXISTS pg_temp.registry_staging")
            cursor.execute("CREATE TEMP TABLE registry_staging (seq bigint, e164 text, change char(1)) ON COMMIT DROP")
        else:
            cursor.execute("DROP TABLE IF EXISTS temp.registry_staging")
            cursor.execute("CREATE TEMP TABLE registry_staging (seq integer, e164 text, change text)")
        staged = _stage(cursor, _numbers([Path(p) for p in paths], changes=changes, bad=bad, reads=reads))
        bad.raise_if_any()
        if not staged and not changes:
            # A full copy of nothing would remove every number: a truncated download, not a registry.
            raise LeadopsError(
                "Nothing was loaded: the files hold no number, and a full copy of nothing would remove every "
                "number listed.",
                field="file",
                code="invalid_registry_file",
            )
        previous = RegistryLoad.objects.filter(registry=registry).order_by("-loaded_at", "-id").first()
        load = RegistryLoad.objects.create(
            registry=registry,
            kind=RegistryLoad.Kind.CHANGES if changes else RegistryLoad.Kind.FULL,
            files=[{"name": r.name, "sha256": r.sha256, "lines": r.lines} for r in reads],
            loaded_at=now,
            loaded_by=user,
            loaded_by_job=job if user is None else "",
        )
        if changes:  # the last change of a number is found by this index; a full copy is only made distinct
            cursor.execute("CREATE INDEX registry_staging_e164 ON registry_staging (e164, seq)")
        cursor.execute("ANALYZE registry_staging")
        # The last change of each number wins (a full copy has only additions).
        final = (
            "SELECT s.e164, s.change FROM registry_staging s WHERE NOT EXISTS "
            "(SELECT 1 FROM registry_staging t WHERE t.e164 = s.e164 AND t.seq > s.seq)"
            if changes
            else "SELECT DISTINCT s.e164, 'A' AS change FROM registry_staging s"
        )
        if changes:
            removing = f"r.e164 IN (SELECT f.e164 FROM ({final}) f WHERE f.change = 'D')"
        else:
            removing = "NOT EXISTS (SELECT 1 FROM registry_staging s WHERE s.e164 = r.e164)"
        cursor.execute(
            f"UPDATE {table} SET removed_load_id = %s WHERE id IN (SELECT r.id FROM {table} r "
            f"WHERE r.registry = %s AND r.removed_load_id IS NULL AND {removing})",
            [load.pk, registry],
        )
        removed = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {table} (registry, e164, added_load_id) SELECT %s, f.e164, %s FROM ({final}) f "
            f"WHERE f.change = 'A' AND NOT EXISTS (SELECT 1 FROM {table} r WHERE r.e164 = f.e164 "
            # In the index's order: each page of the indexes is written once, not once per number.
            "AND r.registry = %s AND r.removed_load_id IS NULL) ORDER BY f.e164",
            [registry, load.pk, registry],
        )
        added = cursor.rowcount
        total = (previous.total if previous is not None else 0) - removed + added
        RegistryLoad.objects.filter(pk=load.pk).update(added=added, removed=removed, total=total)
        if postgres:
            # The planner must know the registry's size from the first check on (a sample: seconds at 258M).
            cursor.execute(f"ANALYZE {table}")
        cursor.execute("DROP TABLE registry_staging")
        # The scrub follows the copy: what it no longer lists is lifted, what it adds is blocked.
        lifted = _registry_blocks_lift(
            Q(evidence_id__in=RegistryNumber.objects.filter(removed_load=load).values("pk")),
            why=f"{registry_name(registry)} no longer lists the number (the copy loaded "
            f"{timezone.localtime(now):%Y-%m-%d}).",
            now=now,
        )
        added_phones = registry_blocks_sync(scope=RegistryScope(load_id=load.pk), now=now, recompute=False)
        _recompute_phones(lifted | added_phones, now=now)
    load.refresh_from_db()
    load.staged = staged
    return load


# --- The scrub: a block per number a registry lists, per scrubbed campaign ---------------------------------

SCRUB_JOB = "registry scrub"


@dataclass(frozen=True)
class RegistryScope:
    """Which leads a registry scrub looks at: those of a campaign (``campaign_id``), of contacts
    (``contact_ids``, in ``campaign_id`` when given), the leads ``lead_ids``, or those having a number a load
    added (``load_id``)."""

    campaign_id: int | None = None
    contact_ids: tuple[int, ...] | None = None
    lead_ids: tuple[int, ...] | None = None
    load_id: int | None = None

    def sql(self) -> tuple[str, list[object]]:
        where, params = [], []
        if self.campaign_id is not None:
            where.append("l.campaign_id = %s")
            params.append(self.campaign_id)
        for column, ids in (("l.contact_id", self.contact_ids), ("l.id", self.lead_ids)):
            if ids is not None:
                where.append(in_ids(column))
                params.append(id_list(ids))
        if self.load_id is not None:
            where.append("r.added_load_id = %s")
            params.append(self.load_id)
        if not where:
            raise ValueError("A registry scrub needs a scope.")
        return " AND ".join(where), params


# Each (campaign, number, registry row) where a lead of a scrubbed campaign has a number the row lists.
_LISTED_SQL = """
SELECT DISTINCT l.campaign_id, l.customer_id, cp.phone_id, r.id, r.registry, r.added_load_id
FROM campaigns_lead l
JOIN campaigns_campaign c ON c.id = l.campaign_id
JOIN campaigns_contactphone cp ON cp.contact_id = l.contact_id
JOIN campaigns_phonenumber p ON p.id = cp.phone_id
JOIN suppressions_registrynumber r ON r.e164 = p.e164 AND r.removed_load_id IS NULL
WHERE {scope}
  AND NOT (c.audience = 'business' AND EXISTS (
      SELECT 1 FROM suppressions_registryexemption x WHERE x.campaign_id = c.id AND x.revoked_at IS NULL))
"""


def registry_evidence_text(registry: str, loaded_at: datetime) -> str:
    """Return what a registry block's evidence says: "the national Do-Not-Call registry (copy of 2026-11-28)"."""
    return f"{registry_name(registry)} (copy of {timezone.localtime(loaded_at):%Y-%m-%d})"


def registry_blocks_sync(*, scope: RegistryScope, now: datetime | None = None, recompute: bool = True) -> set[int]:
    """Block, in each scrubbed campaign of the leads of ``scope``, every number of theirs that a registry lists
    (a number block reaching that campaign, source ``registry``, its evidence the registry row); recompute those
    leads' statuses (unless ``recompute`` is off: the caller does); return the ids of the numbers blocked.

    A lead whose every number is listed is then Disqualified, as any lead whose numbers are all blocked. Repeat
    calls create nothing more: a row already blocked in a campaign is left alone, and one whose block a person
    lifted is never blocked again for the same row. Runs in the caller's transaction.
    """
    now = now or timezone.now()
    where, params = scope.sql()
    with connection.cursor() as cursor:
        cursor.execute(_LISTED_SQL.format(scope=where), params)
        found = cursor.fetchall()
    if not found:
        return set()
    registry_type = ContentType.objects.get_for_model(RegistryNumber)
    known = set()
    evidence_ids = sorted({row[3] for row in found})
    for start in range(0, len(evidence_ids), 10_000):
        chunk = evidence_ids[start : start + 10_000]
        known |= set(
            Block.objects.filter(source=Block.Source.REGISTRY, evidence_type=registry_type, evidence_id__in=chunk)
            .filter(Q(lifted_at__isnull=True) | Q(lifted_by__isnull=False))
            .values_list("campaign_id", "phone_id", "evidence_id")
        )
    loads = {load.pk: load for load in RegistryLoad.objects.filter(pk__in={row[5] for row in found})}
    blocks = [
        Block(
            target=Block.Target.PHONE,
            phone_id=phone_id,
            source=Block.Source.REGISTRY,
            reason=Block.Reason.NATIONAL_DNC if registry == NATIONAL else Block.Reason.STATE_DNC,
            reach=Block.Reach.CAMPAIGN,
            customer_id=customer_id,
            campaign_id=campaign_id,
            actor_job=SCRUB_JOB,
            created_at=now,
            evidence_type=registry_type,
            evidence_id=number_id,
            evidence_text=registry_evidence_text(registry, loads[load_id].loaded_at),
        )
        for campaign_id, customer_id, phone_id, number_id, registry, load_id in sorted(found)
        if (campaign_id, phone_id, number_id) not in known
    ]
    Block.objects.bulk_create(blocks, batch_size=5000, ignore_conflicts=True)
    _analyze_blocks_after(len(blocks))
    phones = {block.phone_id for block in blocks}
    if recompute:
        _recompute_phones(phones, now=now)
    return phones


def _analyze_blocks_after(inserted: int) -> None:
    """Refresh the block table's statistics after an insert that grew it by more than a fifth (PostgreSQL), as
    matching does: the recompute that follows plans its ``EXISTS`` over blocks with them. Measured on
    ``bench/registry_pull.py``'s database: blocking 16,393 numbers of a 100,000-lead pool recomputed their
    leads in 49 s without it (a scan of the blocks per lead), the whole scrub in 2.3 s with it."""
    if connection.vendor != "postgresql" or inserted < 1000:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'campaigns_block'::regclass")
        if inserted > 0.2 * max(cursor.fetchone()[0], 0):
            cursor.execute("ANALYZE campaigns_block")


def _registry_blocks_lift(condition: Q, *, why: str, now: datetime) -> set[int]:
    """Lift the active registry blocks matching ``condition`` (by the scrub's job, with ``why``); return their
    numbers' ids."""
    active = Block.objects.filter(
        condition,
        source=Block.Source.REGISTRY,
        lifted_at__isnull=True,
        evidence_type=ContentType.objects.get_for_model(RegistryNumber),
    )
    phones = set(active.values_list("phone_id", flat=True))
    if phones:
        active.update(lifted_at=now, lifted_by_job=SCRUB_JOB, lift_reason=why)
    return phones


def _recompute_phones(phone_ids: set[int], *, now: datetime) -> None:
    if phone_ids:
        contacts = ContactPhone.objects.filter(phone_id__in=ids_query(phone_ids)).values("contact_id")
        lead_statuses_recompute(leads=Lead.objects.filter(contact_id__in=contacts), now=now)


def registry_exemption_grant(*, campaign: Campaign, reason: str, actor: User, now: datetime | None = None):
    """Exempt a business campaign from the registries (its calls are business-to-business), recorded with who
    and when; refused for a consumer campaign, without a reason, or when one is in force already."""
    if campaign.audience != Campaign.Audience.BUSINESS:
        raise LeadopsError(
            f"{campaign} calls consumers: only a business campaign may be exempted from the registries.",
            field="campaign",
        )
    if not (reason or "").strip():
        raise LeadopsError("Say why the campaign's calls are business-to-business.", field="reason")
    with transaction.atomic():
        Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        if RegistryExemption.objects.filter(campaign=campaign, revoked_at__isnull=True).exists():
            raise LeadopsError(f"{campaign} is exempted already.", field="campaign", code="conflict")
        now = now or timezone.now()
        exemption = RegistryExemption.objects.create(
            campaign=campaign, reason=reason.strip(), granted_by=actor, granted_at=now
        )
        # Its calls are no longer scrubbed: the registry blocks of the campaign are lifted.
        lifted = _registry_blocks_lift(
            Q(campaign=campaign), why=f"The campaign was exempted from the registries: {exemption.reason}", now=now
        )
        _recompute_phones(lifted, now=now)
        return exemption


def registry_exemption_revoke(*, exemption: RegistryExemption, actor: User, now: datetime | None = None):
    """End an exemption (kept as history); revoking one already revoked changes nothing."""
    with transaction.atomic():
        exemption = RegistryExemption.objects.select_for_update().get(pk=exemption.pk)
        if exemption.revoked_at is None:
            exemption.revoked_at = now or timezone.now()
            exemption.revoked_by = actor
            exemption.save(update_fields=["revoked_at", "revoked_by"])
            # Scrubbed again from now on.
            registry_blocks_sync(scope=RegistryScope(campaign_id=exemption.campaign_id), now=exemption.revoked_at)
        return exemption

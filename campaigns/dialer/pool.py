"""The lead pool: hand the next eligible leads of a campaign to a caller, each leased to one caller only.

A pull is usually one statement: ``SELECT … FOR UPDATE SKIP LOCKED`` walks the pool index (priority, then
least recently attempted, then id) and re-checks each candidate against the live blocks and the live
suppression list, and the survivors are leased, all at once. Concurrent pulls skip each other's rows
instead of waiting, and a row another transaction leased or disqualified meanwhile fails
``status = 'eligible'`` when PostgreSQL re-reads it under the lock, so no lead is leased twice.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections, transaction
from django.db.models import BooleanField, DateTimeField, Exists, ExpressionWrapper, F, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.utils import timezone

from campaigns.dialer.dialable import NumberCheck, lead_numbers
from campaigns.models import Block, CallerApproval, Campaign, Lead, LeadStatus, User
from campaigns.rules import lead_is_disqualified
from campaigns.selectors import calling
from campaigns.selectors.callers import caller_is_approved, may_work_campaign
from campaigns.selectors.explaining import OPS, Audience, Reason
from campaigns.services.actors import Actor
from campaigns.services.statuses import lead_statuses_recompute
from leadops.db import Related, id_list, in_ids, prepared_cursor
from leadops.errors import LeadopsError
from suppressions.rules import active_suppression_exists, entry_type_id
from suppressions.selectors import uploads_pending_exist
from suppressions.services.registries import RegistryScope, registry_blocks_sync

PULL_MAX = 50
# Candidates that fail the re-check are skipped and the pull looks further; this bounds how far.
PULL_MAX_ROUNDS = 10

POOL_ORDER = (F("priority").desc(), F("last_attempt_at").asc(nulls_first=True), F("id").asc())


def lease_length() -> timedelta:
    return timedelta(minutes=getattr(settings, "LEADOPS_LEASE_MINUTES", 15))


def _check_caller(caller: User, campaign: Campaign) -> None:
    if caller.customer_id is not None:
        raise LeadopsError(f"{caller.get_username()} is not one of the agency's callers.", field="caller")
    if not caller.is_active:
        raise _not_approved(caller, campaign, why="is inactive and not approved")


def _check_approved(caller: User, campaign: Campaign) -> None:
    if not caller_is_approved(caller=caller, campaign_id=campaign.pk):
        raise _not_approved(caller, campaign, why="is not approved")


def _not_approved(caller: User, campaign: Campaign, *, why: str) -> LeadopsError:
    return LeadopsError(
        f"{caller.get_username()} {why} to call the campaign {campaign} (#{campaign.pk}).",
        field="caller",
        code="caller_not_approved",
    )


def _approval_in_force(*, caller: User, campaign_id: int) -> QuerySet:
    return CallerApproval.objects.in_force().filter(caller_id=caller.pk, campaign_id=campaign_id)


def _candidates_query(*, campaign_id: int, wanted: int, skipped: list[int], now: object) -> QuerySet:
    """Return ``(pk, blocked, priority, last_attempt_at)`` of the next ``wanted`` eligible leads that no active
    suppression entry matches, locked, skipping rows others hold.

    A matched entry is a condition of the scan rather than a flag: no block reflects it until its rematch
    runs, so recomputing the lead would leave it Eligible, at the head of the pool, for every pull to trip on.
    A suppression upload of the campaign's customer not yet in force holds the whole pull (no candidate at
    all): one uncorrelated EXISTS on a partial index, evaluated once per statement. ``now`` is the moment the
    blocks' ends are judged at: a value, or the compiled statement's clock.
    """
    customer = Campaign.objects.filter(pk=campaign_id).values("customer_id")[:1]
    return (
        Lead.objects.filter(campaign_id=campaign_id, status=LeadStatus.ELIGIBLE)
        .filter(~uploads_pending_exist(Subquery(customer)))
        .filter(~active_suppression_exists())
        .exclude(pk__in=skipped)
        .annotate(blocked=ExpressionWrapper(lead_is_disqualified(now), output_field=BooleanField()))
        .order_by(*POOL_ORDER)
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("pk", "blocked", "priority", "last_attempt_at")[:wanted]
    )


# One statement per round: lock the candidates, re-check them, lease the fit ones, and return every candidate
# with, for a leased one, the lead as leased with what the dialer is shown. The caller's approval for the
# campaign is read FOR SHARE in the same statement: a revocation (``campaigns.services.callers``) waits for
# the pull and then gives back what it leased, and without an approval in force there is no candidate at all.
# What no pull reads of the contact and its account (their CRM attributes, their timestamps) stays in the table:
# a tenth of the rows' loading.
_UNREAD = {
    "contact": ("created_at", "updated_at", "attributes"),
    "contact__account": ("created_at", "updated_at", "attributes"),
}
_LEASED = Related(Lead, "l", "contact__account", table="leased", defer=_UNREAD)
_LEASE_SQL = f"""
WITH clock AS (SELECT CAST(%s AS timestamp with time zone) AS now),
approval AS (
    SELECT a.id FROM campaigns_callerapproval a
    WHERE a.campaign_id = %s AND a.caller_id = %s AND a.revoked_at IS NULL
    FOR SHARE
),
candidate AS (SELECT c.* FROM ({{candidates}}) c WHERE EXISTS (SELECT 1 FROM approval)),
leased AS (
    UPDATE campaigns_lead SET status = %s, waiting_reason = %s, waiting_until = %s, leased_to_id = %s, updated_at = %s
    FROM candidate WHERE campaigns_lead.id = candidate.pk AND NOT candidate.blocked
    RETURNING campaigns_lead.*
)
SELECT candidate.pk, candidate.blocked, {_LEASED.columns}
FROM candidate LEFT JOIN ({_LEASED.tables}) ON l.id = candidate.pk
ORDER BY candidate.priority DESC, candidate.last_attempt_at ASC NULLS FIRST, candidate.pk
"""


# The moment the compiled statement judges blocks' ends at: its first parameter, bound on every run.
_CLOCK = RawSQL("(SELECT clock.now FROM clock)", [], output_field=DateTimeField())


@functools.lru_cache(maxsize=1024)
def _lease_sql(alias: str, campaign_id: int, wanted: int, entry_type: int) -> str:
    """Return the lease statement for a campaign and a count; its parameters are the lease's values.

    Building and compiling the re-check's nested EXISTS costs the ORM 16 to 42 ms (min and median of 30
    compilations on this shared machine), as much as a whole pull's p95 at 8 clients (``bench/api_load.py``);
    the statement for a campaign and a count never changes, so it is compiled once per process (its
    conditions must therefore never capture the current time) and prepared once per connection. The ORM's
    values are written into it as literals: a generic plan then still sees the pool's partial-index
    predicate (``status = 'eligible'``), and psycopg need not adapt some fifty constants on every pull.

    Of those literals only the suppression entry's content type id (``entry_type``) is an id a database
    assigns: it is part of the key, so a statement compiled against one database (a test database flushed
    and filled again, say) is never used against another. Django's own content type cache answers it.
    """
    connection = connections[alias]
    query = _candidates_query(campaign_id=campaign_id, wanted=wanted, skipped=[], now=_CLOCK).query
    with transaction.atomic(using=alias):  # Django compiles FOR UPDATE only inside one; nothing runs here
        candidates = connection.ops.compose_sql(*query.get_compiler(using=alias).as_sql())
    return _LEASE_SQL.format(candidates=candidates.replace("%", "%%"))


def _lease_round(
    *, campaign_id: int, wanted: int, skipped: list[int], caller: User, until: datetime, now: datetime
) -> list[tuple[int, bool, Lead | None]]:
    """Lease up to ``wanted`` candidates to ``caller``; return every candidate as ``(pk, blocked, lead)`` in pool
    order, ``lead`` being the leased lead with its contact and account when the round's statement returned it.

    A blocked candidate is not leased. On PostgreSQL a round is the one prepared statement; a later round of
    the same pull (``skipped`` holds the blocked ones found so far) is rare and, like every round on the
    embedded SQLite (which writes one transaction at a time anyway), a SELECT and an UPDATE.
    """
    connection = transaction.get_connection()
    if connection.vendor == "postgresql" and not skipped:
        with prepared_cursor(connection.alias) as cursor:
            cursor.execute(
                _lease_sql(connection.alias, campaign_id, wanted, entry_type_id()),
                (now, campaign_id, caller.pk, LeadStatus.WAITING, Lead.WaitingReason.LEASED, until, caller.pk, now),
            )
            rows = cursor.fetchall()
        return [(row[0], row[1], None if row[1] else _LEASED.load(row[2:])) for row in rows]
    approval = _approval_in_force(caller=caller, campaign_id=campaign_id)
    # PostgreSQL: a revocation waits for this transaction. SQLite has no row locks but writes one transaction
    # at a time: the lease's UPDATE below re-reads the approval under the write lock.
    if not list(approval.select_for_update().values_list("pk", flat=True)):
        return []
    candidates = [
        (pk, blocked, None)
        for pk, blocked, *_ in _candidates_query(campaign_id=campaign_id, wanted=wanted, skipped=skipped, now=now)
    ]
    fit = [pk for pk, blocked, _ in candidates if not blocked]
    leased = Lead.objects.filter(Exists(approval), pk__in=fit).update(
        status=LeadStatus.WAITING,
        waiting_reason=Lead.WaitingReason.LEASED,
        waiting_until=until,
        leased_to=caller,
        updated_at=now,
    )
    if leased != len(fit):  # the approval was revoked in between: nothing was leased
        return []
    return candidates


# The pulled leads with what the dialer is shown (a number's refusal reads only ids of the lead), for the
# rounds whose statement did not return them.
_PULLED = Related(Lead, "l", "contact__account", defer=_UNREAD)
_PULLED_SQL = f"{_PULLED.sql} WHERE {in_ids('l.id')}"


def leads_pull(*, campaign: Campaign, caller: User, count: int, now: datetime | None = None) -> list[Lead]:
    """Lease the next ``count`` eligible leads of ``campaign`` to ``caller`` and return them in pool order.

    Refused (``caller_not_approved``) unless ``caller`` is active and an approval of theirs for ``campaign`` is
    in force (``campaigns.services.callers``); the lease statement itself re-checks the approval under a lock.

    Invariants: only leads that no live block or active suppression entry stops are handed out (the
    blocked ones get their status recomputed, the suppressed ones wait for their rematch); a lead is never
    leased to two callers at once; each returned lead is Waiting (leased) until ``now`` +
    ``LEADOPS_LEASE_MINUTES``. Fewer than ``count`` come back when the pool runs dry. Each call leases
    further leads: a pull is not repeatable.
    """
    if not 1 <= count <= PULL_MAX:
        raise LeadopsError(f"Pull between 1 and {PULL_MAX} leads.", field="count")
    _check_caller(caller, campaign)
    if campaign.status != Campaign.Status.ACTIVE:
        _check_approved(caller, campaign)
        raise LeadopsError(f"The campaign {campaign} is {campaign.get_status_display().lower()}.", code="conflict")
    return _leads_pull(campaign=campaign, caller=caller, count=count, now=now or timezone.now())


def _leads_pull(
    *, campaign: Campaign, caller: User, count: int, now: datetime, skipped: list[int] | None = None
) -> list[Lead]:
    """``leads_pull`` once its checks are done: lease the next ``count``, passing over the ids ``skipped``."""
    until = now + lease_length()
    lease = functools.partial(_lease_round, campaign_id=campaign.pk, caller=caller, until=until, now=now)
    if transaction.get_connection().vendor != "postgresql" or skipped:
        with transaction.atomic():
            leased = _lease_rounds(lease, wanted=count, now=now, skipped=skipped)
    else:
        # The first round is one statement, atomic by itself: without BEGIN and COMMIT around it, a pull is
        # two round trips shorter. It is the whole pull unless it met a blocked candidate whose stored status
        # was stale; the rest then runs in a transaction, and if that fails, the first round's leases are
        # given back before the error goes on, so a failed pull leases nothing.
        candidates = lease(wanted=count, skipped=[])
        leased = [(pk, lead) for pk, blocked, lead in candidates if not blocked]
        unfit = [pk for pk, blocked, _ in candidates if blocked]
        if unfit:
            try:
                with transaction.atomic():
                    lead_statuses_recompute(leads=Lead.objects.filter(pk__in=unfit), now=now)
                    if len(candidates) == count:
                        leased += _lease_rounds(lease, wanted=count - len(leased), now=now, skipped=unfit)
            except BaseException:
                _leases_give_back([pk for pk, _ in leased], caller=caller, until=until, now=now)
                raise
    if not leased:
        # Without an approval in force the lease statement finds no candidate: say so, not "the pool is dry".
        # Checked afterwards so that a pull that leases costs no statement more.
        _check_approved(caller, campaign)
    missing = [pk for pk, lead in leased if lead is None]
    if missing:
        with prepared_cursor() as cursor:
            cursor.execute(_PULLED_SQL, [id_list(missing)])
            loaded = {lead.pk: lead for lead in map(_PULLED.load, cursor.fetchall())}
        leased = [(pk, lead or loaded[pk]) for pk, lead in leased]
    return [lead for _, lead in leased]


def leads_pull_dialable(
    *,
    campaign: Campaign,
    caller: User,
    count: int,
    audience: Audience = OPS,
    now: datetime | None = None,
    passed_over: list[tuple[Lead, list[NumberCheck]]] | None = None,
) -> list[tuple[Lead, list[NumberCheck]]]:
    """Lease the next ``count`` eligible leads of ``campaign`` that may be called now, each with its numbers
    (``campaigns.dialer.dialable.lead_numbers``, worded for ``audience``), in pool order.

    ``leads_pull``'s checks, invariants and order hold. A lead none of whose numbers may be called now (each
    outside its calling window or over a frequency cap, or blocked) is passed over: its lease is given back
    at once, so it stays Eligible, where it was in the pool (time is not a block), and the pull looks
    further, at most ``PULL_MAX_ROUNDS`` times. One whose every number a registry lists (a consumer
    campaign's) is passed over the same way, its numbers then blocked in the campaign
    (``registry_blocks_sync``), so it leaves the pool Disqualified instead. ``now`` judges blocks' ends (by
    default the current time), windows and caps (by default ``calling_now()``). ``passed_over``, a list,
    receives each lead passed over as "not now" with its numbers (``pull_not_now_reason`` words them).
    """
    if not 1 <= count <= PULL_MAX:
        raise LeadopsError(f"Pull between 1 and {PULL_MAX} leads.", field="count")
    handed: list[tuple[Lead, list[NumberCheck]]] = []
    skipped: list[int] = []
    lease_now = now or timezone.now()
    asked = count
    for round_ in range(PULL_MAX_ROUNDS):
        # Every batch leased is judged here, and given back if none of it may be called now: a batch leased
        # after the last round's judgement stayed leased to the caller, handed to no one (a lease per lead
        # asked for, each pull that looked the whole ``PULL_MAX_ROUNDS`` deep).
        if round_ == 0:
            leads = leads_pull(campaign=campaign, caller=caller, count=asked, now=lease_now)
        else:
            leads = _leads_pull(campaign=campaign, caller=caller, count=asked, now=lease_now, skipped=skipped)
        numbers = lead_numbers(leads, audience=audience, now=now or calling.calling_now())
        later = [lead for lead in leads if not any(check.dialable for check in numbers[lead.pk])]
        handed += [(lead, numbers[lead.pk]) for lead in leads if lead not in later]
        listed = [lead.pk for lead in later if numbers[lead.pk] and all(_registry_listed(c) for c in numbers[lead.pk])]
        if listed:
            # Refused by a registry, not "not now": its numbers are blocked in the campaign (the import and the
            # loads block them; this lead was missed, e.g. its campaign became consumer), so that the lease
            # given back leaves it Disqualified instead of at the head of the pool for every pull.
            registry_blocks_sync(scope=RegistryScope(lead_ids=tuple(listed)), now=lease_now, recompute=False)
        if later:
            _leases_give_back([lead.pk for lead in later], caller=caller, until=later[0].waiting_until, now=lease_now)
            skipped += [lead.pk for lead in later]
            if passed_over is not None:
                passed_over += [(lead, numbers[lead.pk]) for lead in later if lead.pk not in listed]
        if not later or len(leads) < asked:
            break
        asked = count - len(handed)
    return handed


def pull_not_now_reason(
    campaign: Campaign, passed_over: list[tuple[Lead, list[NumberCheck]]], *, now: datetime | None = None
) -> Reason | None:
    """Why a pull that handed out nothing came back empty although the pool is not dry: the leads at its head
    may be called, only not now (each number outside its calling window or at a frequency cap). Says how many,
    and when the first of them may be called, with its own number's sentence; None when none was passed over
    so (a dry pool, or leads whose numbers are all blocked)."""
    waiting = [(lead, [check for check in checks if check.not_now]) for lead, checks in passed_over]
    waiting = [(lead, checks) for lead, checks in waiting if checks]
    if not waiting:
        return None
    known = [(check.reason.next_allowed_at, lead, check) for lead, checks in waiting for check in checks]
    known = [item for item in known if item[0] is not None]
    leads = f"{len(waiting)} lead{'s' if len(waiting) != 1 else ''}"
    message = (
        f"No lead of {campaign.name} may be called now: the {leads} at the head of its pool may be called only "
        "later (each number outside its calling window or at a frequency cap); they stay Eligible, in their places."
    )
    first = None
    if known:
        first, lead, check = min(known, key=lambda item: (item[0], item[1].pk))
        wait = calling.duration_words(first - (now or calling.calling_now()))
        message += f" The first may be called in {wait}. {lead.contact.full_name}: {check.reason.message}"
    return Reason(code=calling.NONE_CALLABLE_NOW, message=message, next_allowed_at=first)


_REGISTRY_CODES = frozenset({Block.Reason.NATIONAL_DNC, Block.Reason.STATE_DNC})


def _registry_listed(check: NumberCheck) -> bool:
    return check.reason is not None and check.reason.code in _REGISTRY_CODES


def _lease_rounds(
    lease, *, wanted: int, now: datetime, skipped: list[int] | None = None
) -> list[tuple[int, Lead | None]]:
    """Lease up to ``wanted`` leads in rounds; recompute the blocked candidates met and look further."""
    leased: list[tuple[int, Lead | None]] = []
    skipped = list(skipped or [])
    for _ in range(PULL_MAX_ROUNDS):
        asked = wanted - len(leased)
        # Leased in the same statement that re-checked each row under its lock: a block committed
        # meanwhile waits for the lock, then recomputes the lead.
        candidates = lease(wanted=asked, skipped=skipped)
        leased.extend((pk, lead) for pk, blocked, lead in candidates if not blocked)
        unfit = [pk for pk, blocked, _ in candidates if blocked]
        if unfit:
            skipped.extend(unfit)
            lead_statuses_recompute(leads=Lead.objects.filter(pk__in=unfit), now=now)
        if len(candidates) < asked or not unfit:
            break
    return leased


def _leases_give_back(leased: list[int], *, caller: User, until: datetime, now: datetime) -> None:
    """Undo the leases a failed pull made (those still as it made them): back to the pool, as if it never ran."""
    with transaction.atomic():
        mine = Lead.objects.filter(pk__in=leased, leased_to=caller, waiting_until=until)
        ids = list(mine.values_list("pk", flat=True))
        mine.update(leased_to=None, waiting_until=None, waiting_reason=Lead.WaitingReason.NONE)
        lead_statuses_recompute(leads=Lead.objects.filter(pk__in=ids), now=now)


def lead_release(*, lead: Lead, actor: Actor, caller: User | None = None, now: datetime | None = None) -> Lead:
    """Return a leased lead to the pool at once and return it.

    With ``caller``, only that caller's lease is released (another caller's is refused: ``conflict``).
    Releasing a lead that is not leased, e.g. a second time or after the lease expired, changes nothing; for
    a ``caller`` who may not work the lead's campaign (revoked, say) it is refused (``caller_not_approved``),
    as it is for an inactive ``caller``.
    """
    now = now or timezone.now()
    if caller is not None and not caller.is_active:
        raise _not_approved(caller, lead.campaign, why="is inactive and not approved")
    with transaction.atomic():
        lead = Lead.objects.select_for_update(of=("self",)).get(pk=lead.pk)
        if caller is not None and lead.leased_to_id != caller.pk:
            if lead.leased_to_id is not None:
                raise LeadopsError("The lead is leased to another caller.", field="caller", code="conflict")
            if not may_work_campaign(caller, lead.campaign_id):
                raise _not_approved(caller, lead.campaign, why="is not approved")
        if lead.leased_to_id is None:
            return lead
        Lead.objects.filter(pk=lead.pk).update(
            leased_to=None, waiting_until=None, waiting_reason=Lead.WaitingReason.NONE, updated_at=now
        )
        lead_statuses_recompute(leads=Lead.objects.filter(pk=lead.pk), now=now)
        lead.refresh_from_db()
    return lead

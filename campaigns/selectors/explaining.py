"""Why can't we call this lead (or this number)? Every active block that stops it, as plain sentences.

``explain`` and ``can_dial`` read the blocks themselves, never only the stored status, so a Do Not Call
is in force the moment it commits. What stops a lead before any block says so (a suppression entry not yet
matched, an upload not yet in force) is a rule of a layer above this one: that layer registers a
``LiveCheck`` (``live_check_register``, from its ``AppConfig.ready``), which both ask as well.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from campaigns.models import Block, Call, CallingPolicy, Campaign, ContactPhone, Lead, PhoneNumber
from campaigns.rules import (
    UNQUALIFY_REASONS,
    In,
    block_on_lead,
    block_on_sql,
    block_reach_covers,
    block_reach_covers_lead,
    block_reaches,
    block_reaches_lead,
    block_reaches_sql,
    block_was_in_force,
    block_was_in_force_then,
    blocks_on_any,
    blocks_stopping_lead,
    is_number_block,
)
from campaigns.selectors import calling
from campaigns.selectors.calling import CALLING_WINDOW, FREQUENCY_CAP, NONE_CALLABLE_NOW
from campaigns.selectors.loading import lead_with_relations
from campaigns.selectors.unqualifying import unqualify_reason_words
from leadops.db import Related, can_be_an_id, id_list, in_ids, prepared_cursor
from leadops.errors import LeadopsError
from leadops.normalizing import NormalizationError, format_phone, normalize_phone

# Most serious first: what the person asked for, then the customer's instructions, then our own calls.
SOURCE_RANK = {
    Block.Source.OPS_PHONE_DNC: 0,
    Block.Source.DISPOSITION: 1,
    Block.Source.REGISTRY: 2,
    Block.Source.CUSTOMER_DNC: 3,
    Block.Source.SUPPRESSION: 4,
    Block.Source.CRM_RULE: 5,
    Block.Source.OPS_DISQUALIFY: 6,
    Block.Source.MEETING_OUTCOME: 7,
    Block.Source.UNREACHABLE: 8,
    Block.Source.FIT_RULE: 9,
}
REACH_RANK = {Block.Reach.PLATFORM: 0, Block.Reach.CUSTOMER: 1, Block.Reach.CAMPAIGN: 2}
# What ``block_sentence`` reads of a block: load these with it (``select_related``) and it costs no query.
SENTENCE_RELATIONS = (
    "actor",
    "caller_campaign",
    "customer",
    "campaign",
    "phone",
    "contact",
    "account",
    "lead__contact",
)

# Who reads the sentence: agency staff see everything; a customer never learns what happened for another
# customer (a platform-wide block may come from another customer's campaign) nor the agency's staff names.
OPS = "ops"
CUSTOMER = "customer"
# How a customer reads a block an approved caller made: staff stay anonymous.
AGENCYS_CALLER = "the agency's caller"


@dataclass(frozen=True)
class CallerAudience:
    """How an approved caller reads a sentence: in the agency's words, but only about the campaigns they are
    approved for (``campaign_ids``, of ``customer_ids``). Of a block made elsewhere (a number marked Do Not Call
    on another customer's call) they read what is stopped, by whom and when, never which campaign it was, its
    note or the words of another campaign's disposition (``campaigns.selectors.scope.audience_for``)."""

    campaign_ids: frozenset[int]
    customer_ids: frozenset[int]

    def made_within(self, block: Block) -> bool:
        """Return whether ``block`` was made within this caller's campaigns: by a caller working one of them, or
        (made by ops or a job) reaching only their customers or campaigns."""
        if block.caller_campaign_id is not None:
            return block.caller_campaign_id in self.campaign_ids
        if block.reach == Block.Reach.CAMPAIGN:
            return block.campaign_id in self.campaign_ids
        if block.reach == Block.Reach.CUSTOMER:
            return block.customer_id in self.customer_ids
        return False


# OPS, CUSTOMER, or an approved caller's.
Audience = str | CallerAudience


# Sources whose words say what made the block (``_through``): a job that made one is not named.
SELF_DESCRIBING_SOURCES = frozenset(
    {Block.Source.SUPPRESSION, Block.Source.CRM_RULE, Block.Source.FIT_RULE, Block.Source.UNREACHABLE}
)


@dataclass(frozen=True)
class Reason:
    """One thing that stops a lead or a number, in a sentence a caller or a customer can read."""

    code: str
    message: str
    block: Block | None = None
    # The suppression entry behind it, when a live check found one (kept with a verdict).
    entry_id: int | None = None
    # A "not now" (``calling_window``, ``frequency_cap``): when the number may be called, the rule, the count.
    next_allowed_at: datetime | None = None
    rule: str = ""
    count: int | None = None

    @property
    def block_id(self) -> int | None:
        return self.block.pk if self.block is not None else None

    @property
    def is_not_now(self) -> bool:
        return self.code in (CALLING_WINDOW, FREQUENCY_CAP, NONE_CALLABLE_NOW)


@dataclass(frozen=True)
class DialCheck:
    allowed: bool
    number: str
    reasons: list[Reason] = field(default_factory=list)

    @property
    def next_allowed_at(self) -> datetime | None:
        """When only "not now" reasons stop the number: the first moment none of them does (None otherwise,
        or when one of them names no such moment)."""
        if self.allowed or not self.reasons or not all(r.is_not_now for r in self.reasons):
            return None
        moments = [r.next_allowed_at for r in self.reasons]
        return None if None in moments else max(moments)


@dataclass(frozen=True)
class LiveCheck:
    """Something that stops a lead, or a number for it, before any block says so: a layer above the core
    (``suppressions``) states it, and ``explain`` and the dial check ask it like the blocks.

    * ``dial_sql()``: a ``SELECT`` of rows ``('<kind>', id)`` joined into the dial check's statement by
      ``UNION ALL`` (asked once per process: its text must not change). It reads the relations ``subject``
      (the lead: ``id``, ``contact_id``, ``account_id``, ``customer_id``, ``campaign_id``) and ``dialled``
      (``id`` of the dialled number, if known), and the named parameters ``dial_params(e164)`` gives
      (``number`` is the dialled E.164);
    * ``reasons(ids, audience=...)``: the reasons for the ids of ``kind`` that statement found (no query for
      none);
    * ``lead_reasons(lead, audience=...)``: the reasons that stop ``lead`` itself (``explain`` without a number);
    * ``reasons_at(lead, e164, at, audience=...)``: the reasons it gave at the past moment ``at`` for ``lead``
      (on the number ``e164``, or the lead itself when None), from the created and removed times of what it
      reads (``explain(..., at=...)``). A check without it makes every as-of answer refuse;
    * ``numbers_reasons(leads, e164s)``: for the pull's numbers (``campaigns.dialer.dialable.lead_numbers``),
      the reason per ``(lead id, e164)`` it stops, of the ``leads`` and their numbers ``e164s`` (optional).
    """

    kind: str
    dial_sql: Callable[[], str]
    dial_params: Callable[[str], dict[str, object]]
    reasons: Callable[..., list[Reason]]
    lead_reasons: Callable[..., list[Reason]]
    reasons_at: Callable[..., list[Reason]] | None = None
    numbers_reasons: Callable[..., dict[tuple[int, str], Reason]] | None = None


_live_checks: list[LiveCheck] = []


def live_check_register(check: LiveCheck) -> None:
    """Add ``check`` to what ``explain`` and the dial check ask, after those already there; registering the same
    check again changes nothing."""
    if check not in _live_checks:
        _live_checks.append(check)


def _registered_checks() -> tuple[LiveCheck, ...]:
    if not _live_checks:
        # A wrong "yes" is the one failure to prevent: refuse rather than answer without the live checks.
        raise RuntimeError("No live check is registered: is suppressions in INSTALLED_APPS?")
    return tuple(_live_checks)


def live_checks() -> tuple[LiveCheck, ...]:
    """Return the registered live checks, in order (refused when there are none)."""
    return _registered_checks()


def _lead_with_relations(lead: Lead) -> Lead:
    if not all(lead._state.fields_cache.get(name) for name in ("contact", "campaign", "customer")):
        lead = lead_with_relations(lead.pk)
        if lead is None:
            raise Lead.DoesNotExist("The lead no longer exists.")
    return lead


def block_rank(block: Block) -> tuple[int, int, float]:
    """Order blocks as ``explain`` does: most serious source first, then widest reach, then newest."""
    return (SOURCE_RANK[block.source], REACH_RANK[block.reach], -block.created_at.timestamp())


def _active_blocks_many(leads: list[Lead], *, phone_ids: dict[int, set[int]], now: datetime) -> dict[int, list[Block]]:
    """Return, per lead, the blocks in force at ``now`` that reach it, its contact, its account or the given
    numbers.

    One query whatever the number of leads; ``phone_ids`` maps each lead to the numbers to consider.
    """
    all_phones = set().union(*phone_ids.values()) if phone_ids else set()
    subject = {
        "lead": In([lead.pk for lead in leads]),
        "contact": In({lead.contact_id for lead in leads}),
        "account": In({lead.contact.account_id for lead in leads}),
    }
    if all_phones:
        subject["phone"] = In(all_phones)
    # Narrow in SQL to blocks that can reach one of these leads; the rule then matches each to its lead.
    reachable = block_reaches(
        customer_ref=In({lead.customer_id for lead in leads}),
        campaign_ref=In({lead.campaign_id for lead in leads}),
        now=now,
    )
    blocks = list(Block.objects.filter(blocks_on_any(**subject), reachable).select_related(*SENTENCE_RELATIONS))
    return {
        lead.pk: sorted(
            (
                b
                for b in blocks
                if block_reaches_lead(b, lead, now=now) and block_on_lead(b, lead, phone_ids.get(lead.pk, set()))
            ),
            key=block_rank,
        )
        for lead in leads
    }


def blocks_stopping_many(
    leads: list[Lead], *, now: datetime | None = None
) -> dict[int, tuple[list[Block], list[ContactPhone]]]:
    """Return, per lead, the blocks in force (at ``now``, the current time by default) that stop it and its
    contact's numbers that are still dialable.

    Three queries whatever the number of leads (their relations must be loaded: contact, campaign,
    customer). Number blocks stop a lead only when together they leave it no number to dial
    (``campaigns.rules.blocks_stopping_lead``).
    """
    links_by_contact: dict[int, list[ContactPhone]] = {}
    for link in ContactPhone.objects.filter(contact_id__in={lead.contact_id for lead in leads}).select_related("phone"):
        links_by_contact.setdefault(link.contact_id, []).append(link)
    phone_ids = {lead.pk: {link.phone_id for link in links_by_contact.get(lead.contact_id, [])} for lead in leads}
    blocks_by_lead = _active_blocks_many(leads, phone_ids=phone_ids, now=now or timezone.now())
    result = {}
    for lead in leads:
        links = links_by_contact.get(lead.contact_id, [])
        blocks, dialable = blocks_stopping_lead(blocks_by_lead[lead.pk], [link.phone_id for link in links])
        still = set(dialable)
        result[lead.pk] = (blocks, [link for link in links if link.phone_id in still])
    return result


def blocks_stopping(lead: Lead, *, now: datetime | None = None) -> tuple[list[Block], list[ContactPhone]]:
    """Return the blocks in force that stop ``lead`` and the contact's numbers that are still dialable."""
    lead = _lead_with_relations(lead)
    return blocks_stopping_many([lead], now=now)[lead.pk]


def explain_many(
    leads: list[Lead], *, audience: Audience = OPS, now: datetime | None = None
) -> dict[int, list[Reason]]:
    """Return, per lead, the reasons its blocks stop it, most serious first — for list pages and exports.

    A few queries whatever the number of leads. Unlike ``explain`` it does not look at suppression entries
    whose matching has not run yet (matching follows every upload within moments).
    """
    reasons: dict[int, list[Reason]] = {}
    stopping = blocks_stopping_many(leads, now=now)
    for lead in leads:
        blocks, dialable = stopping[lead.pk]
        found = block_reasons(blocks, lead=lead, audience=audience)
        if not dialable and not any(is_number_block(b) for b in blocks):
            found.append(no_number_reason(lead, audience=audience))
        reasons[lead.pk] = found
    return reasons


def no_number_reason(lead: Lead, *, audience: Audience = OPS) -> Reason:
    """The lead's contact has no number that may be dialled, nor one a block stops, worded for its reader: ops
    and callers are told to add one; a customer, who calls no one, that the agency cannot call them."""
    if audience == CUSTOMER:
        return Reason(
            code="no_number", message=f"{lead.contact} has no phone number on file: the agency cannot call them."
        )
    return Reason(code="no_number", message=f"{lead.contact} has no phone number on file: add one to call them.")


def explain(
    lead: Lead,
    number: str | None = None,
    *,
    audience: Audience = OPS,
    at: datetime | None = None,
    now: datetime | None = None,
) -> list[Reason]:
    """Return every reason that stops ``lead`` (or ``lead`` on ``number``), most serious first.

    An empty list means nothing stops it. Waiting (cool-down, lease) is not a reason: it ends by itself.
    ``audience=CUSTOMER`` words the sentences for the customer's portal (see ``block_sentence``). With ``at``,
    the reasons as of that past moment (``explain_at``).
    """
    if number is not None:
        return can_dial(lead, number, audience=audience, at=at, now=now).reasons
    lead = _lead_with_relations(lead)
    if at is not None:
        return explain_at(lead, at=at, audience=audience)
    reasons = explain_many([lead], audience=audience, now=now)[lead.pk]
    live = [reason for check in _registered_checks() for reason in check.lead_reasons(lead, audience=audience)]
    if live:
        # No block says so yet (matching has not run for these entries): they stop the lead all the same.
        no_number = [r for r in reasons if r.code == "no_number"]
        reasons = [r for r in reasons if r.code != "no_number"] + live + no_number
    return reasons


def can_dial(
    lead: Lead, number: str, *, audience: Audience = OPS, at: datetime | None = None, now: datetime | None = None
) -> DialCheck:
    """Return whether ``number`` (in any writing) may be dialled for ``lead`` now (or, with ``at``, as of that
    past moment: ``can_dial_at``), with the reasons if not.

    This is the authoritative answer: it reads the blocks directly, never only the stored status, and the
    number's calling window and frequency caps (``campaigns.selectors.calling``). ``now`` is the moment
    judged (blocks' ends, windows and caps alike); by default the current time, and for windows and caps
    ``calling_now()``.
    """
    lead = _lead_with_relations(lead)
    e164 = _e164(number, lead.customer.phone_region)
    if at is not None:
        return can_dial_at(lead, e164, at=at, audience=audience)
    check = _dial_check(lead.pk, e164, customer_id=None, lead=lead, audience=audience, now=now)
    if check is None:
        raise Lead.DoesNotExist(f"Lead {lead.pk} no longer exists.")
    return check


def can_dial_lead(
    lead_id: int,
    number: str,
    *,
    customer_id: int | None = None,
    audience: Audience = OPS,
    at: datetime | None = None,
    now: datetime | None = None,
) -> DialCheck | None:
    """``can_dial`` for a lead known only by id, or None when there is no such lead (of ``customer_id``).

    The dialer's path: for a number written in E.164 this is one statement, and one more to word the blocks
    of a refusal; the lead is loaded first only to read a national number with its customer's region, and
    after only to name its contact when the number is not theirs. With ``at``, the answer as of that moment
    (``can_dial_at``: a few ORM queries, off the hot path).
    """
    if not can_be_an_id(lead_id):
        return None
    if at is not None:
        lead = lead_with_relations(lead_id, customer_id=customer_id)
        if lead is None:
            return None
        return can_dial_at(lead, _e164(number, lead.customer.phone_region), at=at, audience=audience)
    lead = None
    e164 = _e164_without_region(number)
    if e164 is None:
        lead = lead_with_relations(lead_id, customer_id=customer_id)
        if lead is None:
            return None
        e164 = _e164(number, lead.customer.phone_region)
    return _dial_check(lead_id, e164, customer_id=customer_id, lead=lead, audience=audience, now=now)


# --- As of a past moment ---------------------------------------------------------------------------------
# What was in force at ``at`` is read from the records' own times: a block from ``created_at`` until
# ``lifted_at``, a suppression entry from ``created_at`` until ``removed_at``, an upload held its customer's
# calls from ``created_at`` until ``read_at`` (or it failed). Blocks are never deleted and lifting only stamps,
# so the blocks of any past moment are all still there. What has no history is read as it is now: the
# contact's numbers, emails and account website (``docs/compliance.md``).


def moment_parse(text: str, *, now: datetime | None = None) -> datetime:
    """Return the past moment ``text`` names in ISO 8601 (``2026-03-02T14:05``, ``2026-03-02 14:05:09+01:00``,
    a date alone for its midnight), read in the current time zone when it names none; refuse a moment to come
    or one that is not a moment, saying so."""
    text = (text or "").strip()
    try:
        moment = parse_datetime(text)
        if moment is None and parse_date(text) is not None:
            moment = datetime.combine(parse_date(text), time.min)
    except ValueError:
        moment = None
    if moment is None:
        raise LeadopsError(
            f"'{text}' is not a moment: write it in ISO 8601, like 2026-03-02T14:05 or 2026-03-02T14:05:00+00:00.",
            field="at",
            code="invalid_moment",
        )
    return moment_in_past(moment, now=now)


def moment_in_past(moment: datetime | None, *, now: datetime | None = None) -> datetime:
    """Return ``moment`` (read in the current time zone when naive) if it has passed; else refuse, saying so."""
    if moment is None:
        raise LeadopsError(
            "Say which moment: ISO 8601, like 2026-03-02T14:05:00+00:00.", field="at", code="invalid_moment"
        )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment > (now or timezone.now()):
        raise LeadopsError(
            f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z} has not come yet: ask about a past moment, or leave it "
            "out for now.",
            field="at",
            code="moment_in_future",
        )
    return moment


def _checks_at() -> tuple[LiveCheck, ...]:
    checks = _registered_checks()
    missing = [check.kind for check in checks if check.reasons_at is None]
    if missing:
        # Refuse rather than answer "allowed then" without asking what stopped calls before any block did.
        raise RuntimeError(f"The live checks {', '.join(missing)} cannot answer for a past moment.")
    return checks


def _blocks_in_force_at(lead: Lead, phone_ids: set[int], *, at: datetime) -> list[Block]:
    """Return the blocks in force at ``at`` that reached ``lead`` and were on it or on one of ``phone_ids``."""
    subject: dict[str, object] = {"lead": lead.pk, "contact": lead.contact_id, "account": lead.contact.account_id}
    if phone_ids:
        subject["phone"] = In(phone_ids)
    blocks = Block.objects.filter(
        blocks_on_any(**subject),
        block_reach_covers(customer_ref=lead.customer_id, campaign_ref=lead.campaign_id),
        block_was_in_force_then(at),
    ).select_related(*SENTENCE_RELATIONS)
    return sorted(
        (
            b
            for b in blocks
            if block_was_in_force(b, at) and block_reach_covers_lead(b, lead) and block_on_lead(b, lead, phone_ids)
        ),
        key=block_rank,
    )


def explain_at(lead: Lead, *, at: datetime, audience: Audience = OPS) -> list[Reason]:
    """Return every reason that stopped ``lead`` at the past moment ``at``, worded as they read then, in the
    order ``explain`` gives them."""
    lead = _lead_with_relations(lead)
    links = list(ContactPhone.objects.filter(contact_id=lead.contact_id).order_by("pk"))
    phone_ids = [link.phone_id for link in links]
    blocks, dialable = blocks_stopping_lead(_blocks_in_force_at(lead, set(phone_ids), at=at), phone_ids)
    reasons = block_reasons(blocks, lead=lead, audience=audience)
    live = [r for check in _checks_at() for r in check.reasons_at(lead, None, at, audience=audience)]
    reasons += live
    if not dialable and not any(is_number_block(b) for b in blocks):
        reasons.append(no_number_reason(lead, audience=audience))
    return reasons


def can_dial_at(lead: Lead, e164: str, *, at: datetime, audience: Audience = OPS) -> DialCheck:
    """Return whether ``e164`` might have been dialled for ``lead`` at the past moment ``at``, and why not: the
    dial check's answer as of then, with the sentences as they read then (its calling window and caps too:
    ``_not_now_reasons_at``). Never recorded as a verdict."""
    lead = _lead_with_relations(lead)
    phone = PhoneNumber.objects.filter(e164=e164).first()
    is_contacts = phone is not None and ContactPhone.objects.filter(contact_id=lead.contact_id, phone=phone).exists()
    blocks = _blocks_in_force_at(lead, {phone.pk} if phone is not None else set(), at=at)
    reasons = block_reasons(blocks, lead=lead, audience=audience)
    for check in _checks_at():
        reasons += check.reasons_at(lead, e164, at, audience=audience)
    if not is_contacts:
        reasons.append(
            Reason(
                code="not_contacts_number",
                message=(f"{format_phone(e164)} is not one of {lead.contact}'s numbers: add it to the contact first."),
            )
        )
    reasons += _not_now_reasons_at(lead, e164, at=at) if is_contacts else []
    return DialCheck(allowed=not reasons, number=e164, reasons=reasons)


def _not_now_reasons_at(lead: Lead, e164: str, *, at: datetime) -> list[Reason]:
    """Return why the contact's number might not have been called at the past moment ``at`` (its window, its
    caps), as the dial check judged them then: the calls recorded up to ``at``, and the campaign's calling
    policy and the jurisdiction table as they are now (neither keeps a history; ``docs/compliance.md``)."""
    version = CallingPolicy.objects.filter(campaign_id=lead.campaign_id).values_list("version", flat=True).first()
    business = lead.campaign.audience == Campaign.Audience.BUSINESS
    policy = calling.policy_for(lead.campaign_id, version, business=business)
    rules = calling.rules_for(calling.rules_version())
    # Only the calls a cap that applies to the number counts are read: none when no cap applies.
    kinds = {cap.counts for cap in calling.caps_reached(e164, _EVERY_COUNT_REACHED, policy=policy, rules=rules)}
    times = call_times_counted(lead.pk, e164, kinds, since=at - calling.CAP_PERIOD, until=at) if kinds else {}
    counts = calling.CallCounts(**{kind: len(moments) for kind, moments in times.items()})
    return _not_now(e164, policy=policy, rules=rules, counts=counts, times_of=lambda kinds: times, now=at)


# Counts every cap reaches: ``caps_reached`` with them names the caps that apply at all.
_EVERY_COUNT_REACHED = calling.CallCounts(**dict.fromkeys(calling.CAP_SCOPES, 2**62))


def _e164(number: str, region: str) -> str:
    try:
        return normalize_phone(number, region)
    except NormalizationError as exc:
        raise LeadopsError(exc.message, field="number", code="invalid_number") from exc


def _e164_without_region(number: str) -> str | None:
    """Return a number written with its country code (``+…``) as E.164, or None when it needs a region.

    Read without a region, such a number reads as it would with any (a property test holds that); one
    that does not read that way (``+00…``, say) is left to the customer's region, which may read it.
    """
    if not number.strip().startswith("+"):
        return None
    try:
        return normalize_phone(number, "")
    except NormalizationError:
        return None


def _dial_check(
    lead_id: int,
    e164: str,
    *,
    customer_id: int | None,
    lead: Lead | None,
    audience: Audience,
    now: datetime | None = None,
) -> DialCheck | None:
    checks = _registered_checks()
    blocks_now = now or timezone.now()
    calling_at = now or calling.calling_now()
    found = _dial_lookup(lead_id, e164, customer_id=customer_id, checks=checks, now=blocks_now, calling_at=calling_at)
    if found is None:
        return None
    is_contacts, block_ids, live_ids, facts = found
    not_now = _not_now_reasons(lead_id, e164, facts, now=calling_at) if is_contacts else []
    if is_contacts and not block_ids and not any(live_ids.values()) and not not_now:
        return DialCheck(allowed=True, number=e164)
    # A block's sentence reads what its own statement loads (``block_sentence`` needs no lead): the lead is
    # loaded only to name its contact when the number is not one of theirs.
    reasons = block_reasons(blocks_for_sentences(block_ids), lead=lead, audience=audience)
    for check in checks:
        reasons += check.reasons(live_ids[check.kind], audience=audience)
    if not is_contacts:
        lead = lead or lead_with_relations(lead_id, customer_id=customer_id)
        if lead is None:
            return None
        reasons.append(
            Reason(
                code="not_contacts_number",
                message=(f"{format_phone(e164)} is not one of {lead.contact}'s numbers: add it to the contact first."),
            )
        )
    return DialCheck(allowed=False, number=e164, reasons=reasons + not_now)


def _not_now_reasons(lead_id: int, e164: str, facts: dict[str, int], *, now: datetime) -> list[Reason]:
    """Return why the contact's number may not be called at ``now`` although it may be called: its window, its
    caps. ``facts`` is what the dial check's statement read: the policy's and the rules' versions, the calls."""
    policy = calling.policy_for(facts["campaign"], facts.get("policy"), business=bool(facts.get("business")))
    counts = calling.CallCounts(
        number=facts.get("calls_number", 0),
        contact=facts.get("calls_contact", 0),
        account=facts.get("calls_account", 0),
        number_everywhere=facts.get("calls_everywhere", 0),
    )

    def times_of(kinds: set[str]) -> dict[str, list[datetime]]:
        # Refusals only: the times of the calls counted, to say when the number may be called again.
        return call_times_counted(lead_id, e164, kinds, since=now - calling.CAP_PERIOD)

    return _not_now(
        e164, policy=policy, rules=calling.rules_for(facts.get("rules", 0)), counts=counts, times_of=times_of, now=now
    )


def _not_now(
    e164: str,
    *,
    policy: calling.Policy,
    rules: tuple[calling.Rule, ...],
    counts: calling.CallCounts,
    times_of: Callable[[set[str]], dict[str, list[datetime]]],
    now: datetime,
) -> list[Reason]:
    """The window's and the caps' reasons at ``now``, live or as of a past moment; ``times_of(kinds)`` gives,
    per kind of the caps reached, the times of the calls it counted."""
    verdicts = []
    window = calling.window_check(e164, policy=policy, rules=rules, now=now)
    if not window.allowed:
        verdicts.append(window)
    caps = calling.caps_reached(e164, counts, policy=policy, rules=rules)
    if caps:
        times = times_of({cap.counts for cap in caps})
        verdicts += [calling.cap_verdict(e164, cap, times=times[cap.counts], now=now) for cap in caps]
    return [not_now_reason(verdict) for verdict in verdicts]


def not_now_reason(verdict: calling.Verdict) -> Reason:
    return Reason(
        code=verdict.code,
        message=verdict.message,
        next_allowed_at=verdict.next_allowed_at,
        rule=verdict.rule,
        count=verdict.count,
    )


def call_times_counted(
    lead_id: int, e164: str, kinds: set[str], *, since: datetime, until: datetime | None = None
) -> dict[str, list[datetime]]:
    """Return, for each of ``kinds`` (``number``, ``contact``, ``account``, ``number_everywhere``), the times of
    the calls after ``since`` (and up to ``until``) the lead's caps count: one query per kind asked."""
    lead = Lead.objects.filter(pk=lead_id).values("customer_id", "contact_id", "contact__account_id").get()
    recent = Call.objects.filter(created_at__gt=since).order_by("created_at")
    if until is not None:
        recent = recent.filter(created_at__lte=until)
    scopes = {
        "number": recent.filter(phone__e164=e164, lead__customer_id=lead["customer_id"]),
        "number_everywhere": recent.filter(phone__e164=e164),
        "contact": recent.filter(lead__contact_id=lead["contact_id"]),
        "account": recent.filter(lead__contact__account_id=lead["contact__account_id"]),
    }
    return {kind: list(scopes[kind].values_list("created_at", flat=True)) for kind in kinds}


# The dial check is the hot path: one hand-written statement finds the lead (within one customer's, for a
# customer's key), whether the number is the contact's, the ids of the blocks in force that reach the lead
# or that number (``campaigns.rules``' SQL), what the number's calling window and caps need (the versions of
# the campaign's calling policy and of the jurisdiction table, so that the copies in memory are known to be
# current; whether the campaign is a business one; the calls of the last 24 hours to the number, the contact
# and the account within the customer, and to the number by anyone), and the rows of each registered
# ``LiveCheck``: suppressions' active entries that match but have no block yet
# (``suppressions.rules.live_entries_sql``), and the customer's uploads not yet in force (queued or
# reading), which hold every call until they are read. Rows are loaded only to word a refusal. The statement
# is prepared once per connection (``leadops.db``): planning it cost PostgreSQL several times what running
# it does.
_DIAL_SQL = """
WITH subject AS (
    SELECT l.id, l.contact_id, c.account_id, l.customer_id, l.campaign_id
    FROM campaigns_lead l JOIN campaigns_contact c ON c.id = l.contact_id
    WHERE l.id = CAST(%(lead)s AS bigint)
      AND (CAST(%(scope)s AS bigint) IS NULL OR l.customer_id = CAST(%(scope)s AS bigint))
), dialled AS (
    SELECT id FROM campaigns_phonenumber WHERE e164 = %(number)s
)
SELECT 'lead', subject.id FROM subject
UNION ALL
SELECT 'campaign', subject.campaign_id FROM subject
UNION ALL
SELECT 'phone', cp.phone_id
FROM subject JOIN campaigns_contactphone cp ON cp.contact_id = subject.contact_id
JOIN dialled ON dialled.id = cp.phone_id
UNION ALL
SELECT 'block', b.id
FROM subject JOIN campaigns_block b ON {reaches}
  AND {on_subject}
UNION ALL
SELECT 'policy', pol.version FROM subject JOIN campaigns_callingpolicy pol ON pol.campaign_id = subject.campaign_id
UNION ALL
SELECT 'business', 1 FROM subject JOIN campaigns_campaign camp ON camp.id = subject.campaign_id
WHERE camp.audience = 'business'
UNION ALL
SELECT 'rules', v.version FROM campaigns_callingrulesversion v
UNION ALL
SELECT 'calls_everywhere', COUNT(*) FROM campaigns_call k
WHERE k.phone_id = (SELECT id FROM dialled) AND k.created_at > %(since)s
UNION ALL
SELECT 'calls_number', COUNT(*) FROM subject
JOIN campaigns_call k ON k.phone_id = (SELECT id FROM dialled) AND k.created_at > %(since)s
JOIN campaigns_lead kl ON kl.id = k.lead_id AND kl.customer_id = subject.customer_id
UNION ALL
SELECT 'calls_contact', COUNT(*) FROM subject
JOIN campaigns_lead kl ON kl.contact_id = subject.contact_id
JOIN campaigns_call k ON k.lead_id = kl.id AND k.created_at > %(since)s
UNION ALL
SELECT 'calls_account', COUNT(*) FROM subject
JOIN campaigns_contact kc ON kc.account_id = subject.account_id
JOIN campaigns_lead kl ON kl.contact_id = kc.id
JOIN campaigns_call k ON k.lead_id = kl.id AND k.created_at > %(since)s
""".format(
    reaches=block_reaches_sql("b", customer="subject.customer_id", campaign="subject.campaign_id", now="%(now)s"),
    on_subject=block_on_sql(
        "b",
        lead="subject.id",
        contact="subject.contact_id",
        account="subject.account_id",
        phone="(SELECT id FROM dialled)",
    ),
)
# The rows of the statement that are facts for the window and the caps, not ids to word.
_FACTS = (
    "campaign",
    "policy",
    "business",
    "rules",
    "calls_everywhere",
    "calls_number",
    "calls_contact",
    "calls_account",
)


@functools.cache
def _dial_sql(checks: tuple[LiveCheck, ...]) -> str:
    return _DIAL_SQL + "".join(f"UNION ALL\n{check.dial_sql()}\n" for check in checks)


def _dial_params(
    checks: tuple[LiveCheck, ...],
    lead_id: int,
    e164: str,
    customer_id: int | None = None,
    *,
    now: datetime | None = None,
    calling_at: datetime | None = None,
) -> dict[str, object]:
    params: dict[str, object] = {"number": e164}
    for check in checks:
        params.update(check.dial_params(e164))
    ops = connection.ops
    since = (calling_at or calling.calling_now()) - calling.CAP_PERIOD
    return {
        **params,
        "lead": lead_id,
        "scope": customer_id,
        "now": ops.adapt_datetimefield_value(now or timezone.now()),
        "since": ops.adapt_datetimefield_value(since),
    }


def dial_check_statement() -> tuple[str, Callable[..., dict[str, object]]]:
    """Return the dial check's statement and ``params(lead_id, e164, customer_id=None)``, its parameters: the
    statement as it runs, for plans, tests and benchmarks."""
    checks = _registered_checks()
    return _dial_sql(checks), functools.partial(_dial_params, checks)


def _dial_lookup(
    lead_id: int,
    e164: str,
    *,
    customer_id: int | None,
    checks: tuple[LiveCheck, ...],
    now: datetime,
    calling_at: datetime,
) -> tuple[bool, list[int], dict[str, list[int]], dict[str, int]] | None:
    """Return whether the contact has the number, the ids of the blocks that stop it, per live check's kind
    the ids it found, and the facts the window and the caps read; None when there is no such lead (of
    ``customer_id``)."""
    with prepared_cursor() as cursor:
        cursor.execute(
            _dial_sql(checks), _dial_params(checks, lead_id, e164, customer_id, now=now, calling_at=calling_at)
        )
        rows = cursor.fetchall()
    if not any(kind == "lead" for kind, _ in rows):
        return None
    return (
        any(kind == "phone" for kind, _ in rows),
        [value for kind, value in rows if kind == "block"],
        # A row may come back once per way it matched (an email domain that is also the website).
        {check.kind: sorted({value for kind, value in rows if kind == check.kind}) for check in checks},
        {kind: value for kind, value in rows if kind in _FACTS},
    )


# Everything a block's sentence reads, in one prepared statement (a refused dial check words its reasons).
_SENTENCE_BLOCKS = Related(Block, "b", *SENTENCE_RELATIONS)
_SENTENCE_BLOCKS_SQL = f"{_SENTENCE_BLOCKS.sql} WHERE {in_ids('b.id')}"


def blocks_for_sentences(block_ids: list[int]) -> list[Block]:
    """Return these blocks, ranked, with everything ``block_sentence`` reads (no query when there are none)."""
    if not block_ids:
        return []
    with prepared_cursor() as cursor:
        cursor.execute(_SENTENCE_BLOCKS_SQL, [id_list(block_ids)])
        blocks = [_SENTENCE_BLOCKS.load(row) for row in cursor.fetchall()]
    return sorted(blocks, key=block_rank)


# A reason's short badge, for lists and for every place but the one where its sentence is printed.
REASON_BADGES = {
    "no_number": "No number",
    "not_contacts_number": "Not their number",
    # Live checks (``suppressions``): an entry matched but not blocked yet, an upload not yet in force.
    "suppression_entry": "Suppressed",
    "suppression_upload_pending": "Upload being read",
}


def block_badge(block: Block, *, audience: Audience = OPS) -> str:
    """Return a block's badge: a few words that link or expand to its sentence ("Platform DNC", "Suppressed —
    upload do-not-contact.csv")."""
    own_words = not isinstance(audience, CallerAudience) or audience.made_within(block)
    if block.is_platform_dnc:
        return "Platform DNC"
    match block.source:
        case Block.Source.SUPPRESSION:
            where = block.evidence_text.split(",")[0] if own_words and block.evidence_text.startswith("upload ") else ""
            return f"Suppressed — {where}" if where else "Suppressed"
        case Block.Source.CUSTOMER_DNC:
            return "Customer DNC"
        case Block.Source.DISPOSITION:
            label = block.evidence_text if own_words and block.evidence_text else block.get_reason_display()
            return f"Call: {label}"
        case Block.Source.OPS_PHONE_DNC:
            return f"DNC for {block.customer}" if block.customer_id else "Number DNC"
        case Block.Source.CRM_RULE:
            return "CRM rule"
        case Block.Source.MEETING_OUTCOME:
            return f"Meeting: {block.get_reason_display()}"
        case Block.Source.UNREACHABLE:
            return "Attempt cap"
        case Block.Source.FIT_RULE:
            return "Not a fit"
        case Block.Source.REGISTRY:
            return "DNC registry"
        case Block.Source.OPS_DISQUALIFY if block.target == Block.Target.LEAD and block.reason in UNQUALIFY_REASONS:
            return "Unqualified"
    return f"Disqualified: {block.get_reason_display()}"


def reason_badge(reason: Reason, *, audience: Audience = OPS) -> str:
    """Return the badge of ``reason``: its block's, or a few words for a reason no block gives."""
    if reason.block is not None:
        return block_badge(reason.block, audience=audience)
    return REASON_BADGES.get(reason.code, "Held")


def block_reasons(blocks: list[Block], *, lead: Lead | None, audience: Audience = OPS) -> list[Reason]:
    """Return a ``Reason`` for each of ``blocks`` (in their order), worded for ``audience``."""
    return [
        Reason(code=reason_code(block), message=block_sentence(block, lead=lead, audience=audience), block=block)
        for block in blocks
    ]


def reason_code(block: Block) -> str:
    """Return the code the dialer gets for ``block``: ``platform_dnc``, or the block's source."""
    if block.is_platform_dnc:
        return "platform_dnc"
    if block.source == Block.Source.REGISTRY:
        return block.reason  # national_dnc or state_dnc, as the registries' live check says it
    return block.source


def _subject(block: Block, *, lead: Lead | None) -> str:
    if block.target == Block.Target.LEAD:
        target_lead = block.lead if lead is None or block.lead_id != lead.pk else lead
        return f"{target_lead.contact}'s lead in {block.campaign or target_lead.campaign}"
    if block.target == Block.Target.CONTACT:
        return str(block.contact)
    if block.target == Block.Target.ACCOUNT:
        return f"The account {block.account}"
    if block.target == Block.Target.PHONE:
        return format_phone(block.phone.e164)
    return f"{format_phone(block.phone.e164)} for {block.contact}"


def _reach_words(block: Block) -> str:
    if block.reach == Block.Reach.PLATFORM:
        return " for every customer"
    if block.reach == Block.Reach.CUSTOMER:
        return f" for {block.customer}"
    if block.target == Block.Target.LEAD:
        return ""  # "X's lead in Clinic outreach" already says which campaign
    return f" in the campaign {block.campaign}"


def _through(block: Block, *, own_words: bool = True, audience: Audience = OPS) -> str:
    """Return how the block was made; without ``own_words``, without the words its evidence was recorded with
    (another campaign's disposition label)."""
    evidence = f" ({block.evidence_text})" if block.evidence_text and own_words else ""
    match block.source:
        case Block.Source.DISPOSITION:
            if not own_words:
                return "after a call disposition"
            label = block.evidence_text or block.get_reason_display()
            return f"after a '{label}' call disposition"
        case Block.Source.OPS_DISQUALIFY if block.target == Block.Target.LEAD and block.reason in UNQUALIFY_REASONS:
            return f"with Unqualify ({unqualify_reason_words(block.reason)})"
        case Block.Source.OPS_DISQUALIFY:
            return "with Disqualify"
        case Block.Source.OPS_PHONE_DNC:
            return "with Mark Phone DNC"
        case Block.Source.CUSTOMER_DNC:
            return f"as {block.customer}'s own Do Not Call instruction"
        case Block.Source.SUPPRESSION:
            return f"by {_whose(block, audience)} suppression list{evidence}"
        case Block.Source.CRM_RULE:
            return f"by {_whose(block, audience)} CRM rule{evidence}"
        case Block.Source.MEETING_OUTCOME:
            return f"when the meeting outcome was set{evidence}"
        case Block.Source.UNREACHABLE:
            cap = block.campaign.attempt_cap if block.campaign_id else None
            return f"after {cap} attempts without a connect" if cap else "after the attempt cap without a connect"
        case Block.Source.FIT_RULE:
            return f"by the campaign's fit rules{evidence}"
    return block.get_source_display()


def _whose(block: Block, audience: Audience) -> str:
    return "your" if audience == CUSTOMER else f"{block.customer}'s"


def _how_to_lift(block: Block) -> str:
    if block.is_platform_dnc:
        return "Only an Ops lead may lift it (Undisqualify), and only if the person withdrew the request."
    if block.source == Block.Source.SUPPRESSION:
        return (
            "The customer removes the entry from its list, or ops lift it for this contact as an exception "
            "(Undisqualify)."
        )
    if block.source == Block.Source.CUSTOMER_DNC:
        return "The customer removes its mark in the portal, or ops lift it on the customer's word (Undisqualify)."
    if block.source == Block.Source.CRM_RULE:
        return "It lifts itself when the CRM record stops matching the rule; ops may lift it as an exception."
    if block.source == Block.Source.FIT_RULE:
        return "It lifts itself when the campaign's fit rules change; ops may lift it (Undisqualify)."
    if block.source == Block.Source.REGISTRY:
        return (
            "It lifts itself when a registry load no longer lists the number, or when ops exempt a business "
            "campaign from the registries."
        )
    return "Ops may lift it with Undisqualify."


def end_words(moment: datetime) -> str:
    """Return the date a block ends as a sentence gives it: ``3 Mar 2027``."""
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b %Y}"


def until_words(block: Block) -> str:
    """Return `` until 3 Mar 2027`` for a block that ends by itself, else nothing."""
    return f" until {end_words(block.ends_at)}" if block.ends_at is not None else ""


def day_words(moment: datetime) -> str:
    """Return a date as people say it in a sentence: ``3 Dec``."""
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b}"


def date_words(moment: datetime) -> str:
    """Return a date in words, with its year when it is not this year's: ``3 Dec``, ``14 Mar 2025``."""
    local = timezone.localtime(moment)
    this_year = timezone.localtime(timezone.now()).year
    return day_words(moment) if local.year == this_year else f"{day_words(moment)} {local.year}"


def moment_words(moment: datetime) -> str:
    """Return a date and time in words: ``3 Dec, 14:30`` (with the year when it is not this year's)."""
    return f"{date_words(moment)}, {timezone.localtime(moment):%H:%M}"


def waiting_sentence(lead: Lead) -> str:
    """Return why a Waiting lead waits and until when, in words: a meeting waits for its outcome (no date: it ends
    when someone sets it), a cool-down, a callback or a lease until its moment."""
    until = moment_words(lead.waiting_until) if lead.waiting_until else None
    match lead.waiting_reason:
        case Lead.WaitingReason.MEETING:
            return "Waiting for the meeting's outcome: set it with Meeting outcome to move the lead on."
        case Lead.WaitingReason.CALLBACK:
            return f"Callback booked for {until}." if until else "Callback booked."
        case Lead.WaitingReason.LEASED:
            return f"Leased to a caller until {until}." if until else "Leased to a caller."
        case Lead.WaitingReason.COOLDOWN:
            return f"Cooling down after an attempt until {until}." if until else "Cooling down after an attempt."
    return f"Waiting until {until}." if until else "Waiting."


def qualified_sentence(block: Block, *, lead: Lead | None = None, audience: Audience = OPS) -> str:
    """Return the sentence of a qualification (a success, never "disqualified"): ``Outreach finished: qualified
    on 3 Dec (meeting on 29 Nov).``, then whose lead it is and, for ops, who qualified it."""
    meeting = f" ({block.evidence_text})" if block.evidence_text.startswith("meeting on ") else ""
    finished = f"Outreach finished: qualified on {day_words(block.created_at)}{meeting}."
    subject = _subject(block, lead=lead)
    if audience == CUSTOMER:
        return f"{finished} {subject} became an opportunity."
    who = (_staff_who(block, audience) or "the agency").rstrip(",")
    return f"{finished} {subject} was qualified by {who}."


def _staff_who(block: Block, audience: Audience) -> str | None:
    """Return who made ``block`` in the agency's words: a person by their username, an approved caller by their
    name in their role ("Amy Lee, approved caller for Clinic outreach Q3,"), a job by its name."""
    if not block.actor_id:
        return None  # a job: the sentence says what it did instead (``_through``)
    if block.caller_campaign_id is None:
        return block.actor.get_username()
    name = block.actor.get_full_name() or block.actor.get_username()
    if isinstance(audience, CallerAudience) and block.caller_campaign_id not in audience.campaign_ids:
        return f"{name}, an approved caller of a campaign you do not work,"
    return f"{name}, approved caller for {block.caller_campaign},"


def block_sentence(block: Block, *, lead: Lead | None = None, audience: Audience = OPS) -> str:
    """Return one plain sentence: what is stopped, by whom, when, through what, and how to lift it.

    For ops (``OPS``) a block an approved caller made names them in their role: "marked by Amy Lee, approved
    caller for Clinic outreach Q3, on …". For ``audience=CUSTOMER`` a platform-wide block says only that the
    number (or person) is on the agency's Do-Not-Call list and since when (it may come from another customer's
    campaign), the agency's people are "the agency" ("the agency's caller" for an approved caller), and a note
    is quoted only when the customer may read it (``Block.note_for_customer``: ops marked it shown, or the
    customer's own user wrote it). The evidence words it quotes are written by the system, never typed by ops:
    a disposition's label, an upload's name and line, a CRM or fit rule, a meeting's outcome. An approved
    caller (a ``CallerAudience``) reads the ops wording, less what a block made outside their campaigns says of
    them: its caller's campaign, its note and its evidence words.
    """
    if block.source == Block.Source.MEETING_OUTCOME and block.reason == Block.Reason.QUALIFIED:
        return qualified_sentence(block, lead=lead, audience=audience)
    subject = _subject(block, lead=lead)
    if block.source == Block.Source.REGISTRY:
        # A job's scrub; its evidence names the registry and the copy ("the national Do-Not-Call registry (copy
        # of 2026-11-28)").
        lift = "" if audience == CUSTOMER else f" {_how_to_lift(block)}"
        return f"{subject} is on {block.evidence_text}: it may not be called{_reach_words(block)}.{lift}"
    when = date_words(block.created_at)
    own_words = not isinstance(audience, CallerAudience) or audience.made_within(block)
    if audience == CUSTOMER:
        if block.reach == Block.Reach.PLATFORM:
            listed = "is on the agency's Do-Not-Call list" if block.is_platform_dnc else "is blocked by the agency"
            return (
                f"{subject} {listed} (since {when}){until_words(block)}. Ask your account manager if you believe "
                "this is wrong."
            )
        own_user = block.actor_id and block.actor.customer_id == block.customer_id
        if own_user:
            who = block.actor.get_username()
        elif block.caller_campaign_id is not None:
            who = AGENCYS_CALLER
        else:
            # A job is not named: what it did says it ("by your suppression list").
            who = None if block.source in SELF_DESCRIBING_SOURCES else "the agency"
    else:
        who = _staff_who(block, audience)
    if block.is_platform_dnc and block.target == Block.Target.PHONE:
        state = f"{subject} is on the platform Do-Not-Call list"
    elif is_number_block(block):
        state = f"{subject} may not be dialled{_reach_words(block)} ({block.get_reason_display()})"
    else:
        state = f"{subject} is disqualified{_reach_words(block)} ({block.get_reason_display()})"
    state += until_words(block)
    shown_note = block.note_for_customer if audience == CUSTOMER else (block.note if own_words else "")
    note = f' Note: "{shown_note}".' if shown_note else ""
    lift = "" if audience == CUSTOMER else f" {_how_to_lift(block)}"
    through = _through(block, own_words=own_words, audience=audience)
    if who is None:
        # Made by a job, never named: what did it says who ("by the campaign's fit rules", "after 6 attempts
        # without a connect"), or the sentence says it was made automatically.
        how = "" if block.source in SELF_DESCRIBING_SOURCES else " automatically"
        return f"{state}: marked{how} on {when} {through}.{note}{lift}"
    return f"{state}: marked by {who} on {when} {through}.{note}{lift}"

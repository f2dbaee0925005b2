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

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from campaigns.models import Block, ContactPhone, Lead, PhoneNumber
from campaigns.rules import (
    UNQUALIFY_REASONS,
    In,
    block_in_force_at,
    block_on_lead,
    block_on_sql,
    block_reach_covers,
    block_reach_covers_lead,
    block_reaches,
    block_reaches_lead,
    block_reaches_sql,
    block_was_in_force,
    blocks_on_any,
    blocks_stopping_lead,
    is_number_block,
)
from campaigns.selectors.loading import lead_with_relations
from campaigns.selectors.unqualifying import unqualify_reason_words
from leadops.db import Related, can_be_an_id, id_list, in_ids, prepared_cursor
from leadops.errors import LeadopsError
from leadops.normalizing import NormalizationError, format_phone, normalize_phone

# Most serious first: what the person asked for, then the customer's instructions, then our own calls.
SOURCE_RANK = {
    Block.Source.OPS_PHONE_DNC: 0,
    Block.Source.DISPOSITION: 1,
    Block.Source.CUSTOMER_DNC: 2,
    Block.Source.SUPPRESSION: 3,
    Block.Source.CRM_RULE: 4,
    Block.Source.OPS_DISQUALIFY: 5,
    Block.Source.MEETING_OUTCOME: 6,
    Block.Source.UNREACHABLE: 7,
    Block.Source.FIT_RULE: 8,
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
# How a customer reads "who" for a block a job made on its behalf, by the block's source.
CUSTOMER_FACING_JOBS = {
    Block.Source.SUPPRESSION: "matching against your suppression list",
    Block.Source.CRM_RULE: "your CRM sync",
    Block.Source.FIT_RULE: "the campaign's fit rules",
    Block.Source.UNREACHABLE: "the dialer",
}


@dataclass(frozen=True)
class Reason:
    """One thing that stops a lead or a number, in a sentence a caller or a customer can read."""

    code: str
    message: str
    block: Block | None = None
    # The suppression entry behind it, when a live check found one (kept with a verdict).
    entry_id: int | None = None

    @property
    def block_id(self) -> int | None:
        return self.block.pk if self.block is not None else None


@dataclass(frozen=True)
class DialCheck:
    allowed: bool
    number: str
    reasons: list[Reason] = field(default_factory=list)


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


def _active_blocks_many(leads: list[Lead], *, phone_ids: dict[int, set[int]]) -> dict[int, list[Block]]:
    """Return, per lead, the active blocks that reach it, its contact, its account or the given numbers.

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
        customer_ref=In({lead.customer_id for lead in leads}), campaign_ref=In({lead.campaign_id for lead in leads})
    )
    blocks = list(Block.objects.filter(blocks_on_any(**subject), reachable).select_related(*SENTENCE_RELATIONS))
    return {
        lead.pk: sorted(
            (
                b
                for b in blocks
                if block_reaches_lead(b, lead) and block_on_lead(b, lead, phone_ids.get(lead.pk, set()))
            ),
            key=block_rank,
        )
        for lead in leads
    }


def blocks_stopping_many(leads: list[Lead]) -> dict[int, tuple[list[Block], list[ContactPhone]]]:
    """Return, per lead, the active blocks that stop it and its contact's numbers that are still dialable.

    Three queries whatever the number of leads (their relations must be loaded: contact, campaign,
    customer). Number blocks stop a lead only when together they leave it no number to dial
    (``campaigns.rules.blocks_stopping_lead``).
    """
    links_by_contact: dict[int, list[ContactPhone]] = {}
    for link in ContactPhone.objects.filter(contact_id__in={lead.contact_id for lead in leads}).select_related("phone"):
        links_by_contact.setdefault(link.contact_id, []).append(link)
    phone_ids = {lead.pk: {link.phone_id for link in links_by_contact.get(lead.contact_id, [])} for lead in leads}
    blocks_by_lead = _active_blocks_many(leads, phone_ids=phone_ids)
    result = {}
    for lead in leads:
        links = links_by_contact.get(lead.contact_id, [])
        blocks, dialable = blocks_stopping_lead(blocks_by_lead[lead.pk], [link.phone_id for link in links])
        still = set(dialable)
        result[lead.pk] = (blocks, [link for link in links if link.phone_id in still])
    return result


def blocks_stopping(lead: Lead) -> tuple[list[Block], list[ContactPhone]]:
    """Return the active blocks that stop ``lead`` and the contact's numbers that are still dialable."""
    lead = _lead_with_relations(lead)
    return blocks_stopping_many([lead])[lead.pk]


def explain_many(leads: list[Lead], *, audience: Audience = OPS) -> dict[int, list[Reason]]:
    """Return, per lead, the reasons its blocks stop it, most serious first — for list pages and exports.

    A few queries whatever the number of leads. Unlike ``explain`` it does not look at suppression entries
    whose matching has not run yet (matching follows every upload within moments).
    """
    reasons: dict[int, list[Reason]] = {}
    stopping = blocks_stopping_many(leads)
    for lead in leads:
        blocks, dialable = stopping[lead.pk]
        found = block_reasons(blocks, lead=lead, audience=audience)
        if not dialable and not any(is_number_block(b) for b in blocks):
            found.append(
                Reason(code="no_number", message=f"{lead.contact} has no phone number on file: add one to call them.")
            )
        reasons[lead.pk] = found
    return reasons


def explain(
    lead: Lead, number: str | None = None, *, audience: Audience = OPS, at: datetime | None = None
) -> list[Reason]:
    """Return every reason that stops ``lead`` (or ``lead`` on ``number``), most serious first.

    An empty list means nothing stops it. Waiting (cool-down, lease) is not a reason: it ends by itself.
    ``audience=CUSTOMER`` words the sentences for the customer's portal (see ``block_sentence``). With ``at``,
    the reasons as of that past moment (``explain_at``).
    """
    if number is not None:
        return can_dial(lead, number, audience=audience, at=at).reasons
    lead = _lead_with_relations(lead)
    if at is not None:
        return explain_at(lead, at=at, audience=audience)
    reasons = explain_many([lead], audience=audience)[lead.pk]
    live = [reason for check in _registered_checks() for reason in check.lead_reasons(lead, audience=audience)]
    if live:
        # No block says so yet (matching has not run for these entries): they stop the lead all the same.
        no_number = [r for r in reasons if r.code == "no_number"]
        reasons = [r for r in reasons if r.code != "no_number"] + live + no_number
    return reasons


def can_dial(lead: Lead, number: str, *, audience: Audience = OPS, at: datetime | None = None) -> DialCheck:
    """Return whether ``number`` (in any writing) may be dialled for ``lead`` now (or, with ``at``, as of that
    past moment: ``can_dial_at``), with the reasons if not.

    This is the authoritative answer: it reads the blocks directly, never only the stored status.
    """
    lead = _lead_with_relations(lead)
    e164 = _e164(number, lead.customer.phone_region)
    if at is not None:
        return can_dial_at(lead, e164, at=at, audience=audience)
    check = _dial_check(lead.pk, e164, customer_id=None, lead=lead, audience=audience)
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
    return _dial_check(lead_id, e164, customer_id=customer_id, lead=lead, audience=audience)


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
        block_in_force_at(at),
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
        reasons.append(
            Reason(code="no_number", message=f"{lead.contact} has no phone number on file: add one to call them.")
        )
    return reasons


def can_dial_at(lead: Lead, e164: str, *, at: datetime, audience: Audience = OPS) -> DialCheck:
    """Return whether ``e164`` might have been dialled for ``lead`` at the past moment ``at``, and why not: the
    dial check's answer as of then, with the sentences as they read then. Never recorded as a verdict."""
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
    return DialCheck(allowed=not reasons, number=e164, reasons=reasons)


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
    lead_id: int, e164: str, *, customer_id: int | None, lead: Lead | None, audience: Audience
) -> DialCheck | None:
    checks = _registered_checks()
    found = _dial_lookup(lead_id, e164, customer_id=customer_id, checks=checks)
    if found is None:
        return None
    is_contacts, block_ids, live_ids = found
    if is_contacts and not block_ids and not any(live_ids.values()):
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
    return DialCheck(allowed=False, number=e164, reasons=reasons)


# The dial check is the hot path: one hand-written statement finds the lead (within one customer's, for a
# customer's key), whether the number is the contact's, the ids of the active blocks that reach the lead
# or that number (``campaigns.rules``' SQL), and the rows of each registered ``LiveCheck``: suppressions'
# active entries that match but have no block yet (``suppressions.rules.live_entries_sql``), and the
# customer's uploads not yet in force (queued or reading), which hold every call until they are read.
# Rows are loaded only to word a refusal. The statement is prepared once per connection (``leadops.db``):
# planning it cost PostgreSQL several times what running it does.
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
SELECT 'phone', cp.phone_id
FROM subject JOIN campaigns_contactphone cp ON cp.contact_id = subject.contact_id
JOIN dialled ON dialled.id = cp.phone_id
UNION ALL
SELECT 'block', b.id
FROM subject JOIN campaigns_block b ON {reaches}
  AND {on_subject}
""".format(
    reaches=block_reaches_sql("b", customer="subject.customer_id", campaign="subject.campaign_id"),
    on_subject=block_on_sql(
        "b",
        lead="subject.id",
        contact="subject.contact_id",
        account="subject.account_id",
        phone="(SELECT id FROM dialled)",
    ),
)


@functools.cache
def _dial_sql(checks: tuple[LiveCheck, ...]) -> str:
    return _DIAL_SQL + "".join(f"UNION ALL\n{check.dial_sql()}\n" for check in checks)


def _dial_params(
    checks: tuple[LiveCheck, ...], lead_id: int, e164: str, customer_id: int | None = None
) -> dict[str, object]:
    params: dict[str, object] = {"number": e164}
    for check in checks:
        params.update(check.dial_params(e164))
    return {**params, "lead": lead_id, "scope": customer_id}


def dial_check_statement() -> tuple[str, Callable[..., dict[str, object]]]:
    """Return the dial check's statement and ``params(lead_id, e164, customer_id=None)``, its parameters: the
    statement as it runs, for plans, tests and benchmarks."""
    checks = _registered_checks()
    return _dial_sql(checks), functools.partial(_dial_params, checks)


def _dial_lookup(
    lead_id: int, e164: str, *, customer_id: int | None, checks: tuple[LiveCheck, ...]
) -> tuple[bool, list[int], dict[str, list[int]]] | None:
    """Return whether the contact has the number, the ids of the blocks that stop it, and per live check's kind
    the ids it found; None when there is no such lead (of ``customer_id``)."""
    with prepared_cursor() as cursor:
        cursor.execute(_dial_sql(checks), _dial_params(checks, lead_id, e164, customer_id))
        rows = cursor.fetchall()
    if not any(kind == "lead" for kind, _ in rows):
        return None
    return (
        any(kind == "phone" for kind, _ in rows),
        [value for kind, value in rows if kind == "block"],
        # A row may come back once per way it matched (an email domain that is also the website).
        {check.kind: sorted({value for kind, value in rows if kind == check.kind}) for check in checks},
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
        return "for every customer"
    if block.reach == Block.Reach.CUSTOMER:
        return f"for {block.customer}"
    return f"in the campaign {block.campaign}"


def _through(block: Block, *, own_words: bool = True) -> str:
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
            return "with the Disqualify workflow"
        case Block.Source.OPS_PHONE_DNC:
            return "with the Mark Phone DNC workflow"
        case Block.Source.CUSTOMER_DNC:
            return f"as {block.customer}'s own Do Not Call instruction"
        case Block.Source.SUPPRESSION:
            return f"because it matches {block.customer}'s suppression list{evidence}"
        case Block.Source.CRM_RULE:
            return f"by {block.customer}'s CRM rule{evidence}"
        case Block.Source.MEETING_OUTCOME:
            return f"when the meeting outcome was set{evidence}"
        case Block.Source.UNREACHABLE:
            return "after the attempt cap was reached without a connect"
        case Block.Source.FIT_RULE:
            return f"because it fails the campaign's fit rule{evidence}"
    return block.get_source_display()


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
    return "Ops may lift it with Undisqualify."


def day_words(moment: datetime) -> str:
    """Return a date as people say it in a sentence: ``3 Dec``."""
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b}"


def qualified_sentence(block: Block, *, lead: Lead | None = None, audience: Audience = OPS) -> str:
    """Return the sentence of a qualification (a success, never "disqualified"): ``Outreach finished: qualified
    on 3 Dec (meeting on 29 Nov).``, then whose lead it is and, for ops, who qualified it."""
    meeting = f" ({block.evidence_text})" if block.evidence_text.startswith("meeting on ") else ""
    finished = f"Outreach finished: qualified on {day_words(block.created_at)}{meeting}."
    subject = _subject(block, lead=lead)
    if audience == CUSTOMER:
        return f"{finished} {subject} became an opportunity."
    return f"{finished} {subject} was qualified by {_staff_who(block, audience).rstrip(',')}."


def _staff_who(block: Block, audience: Audience) -> str:
    """Return who made ``block`` in the agency's words: a person by their username, an approved caller by their
    name in their role ("Amy Lee, approved caller for Clinic outreach Q3,"), a job by its name."""
    if not block.actor_id:
        return f"the {block.actor_job} job"
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
    when = timezone.localtime(block.created_at).strftime("%Y-%m-%d")
    own_words = not isinstance(audience, CallerAudience) or audience.made_within(block)
    if audience == CUSTOMER:
        if block.reach == Block.Reach.PLATFORM:
            listed = "is on the agency's Do-Not-Call list" if block.is_platform_dnc else "is blocked by the agency"
            return f"{subject} {listed} (since {when}). Ask your account manager if you believe this is wrong."
        own_user = block.actor_id and block.actor.customer_id == block.customer_id
        if own_user:
            who = block.actor.get_username()
        elif block.caller_campaign_id is not None:
            who = AGENCYS_CALLER
        else:
            who = CUSTOMER_FACING_JOBS.get(block.source, "the agency")
    else:
        who = _staff_who(block, audience)
    if block.is_platform_dnc and block.target == Block.Target.PHONE:
        state = f"{subject} is on the platform Do-Not-Call list"
    elif is_number_block(block):
        state = f"{subject} may not be dialled {_reach_words(block)} ({block.get_reason_display()})"
    else:
        state = f"{subject} is disqualified {_reach_words(block)} ({block.get_reason_display()})"
    shown_note = block.note_for_customer if audience == CUSTOMER else (block.note if own_words else "")
    note = f' Note: "{shown_note}".' if shown_note else ""
    lift = "" if audience == CUSTOMER else f" {_how_to_lift(block)}"
    return f"{state}: marked by {who} on {when} {_through(block, own_words=own_words)}.{note}{lift}"

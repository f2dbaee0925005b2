"""When a block in force reaches a lead: the one place the rule is written.

A block stops a lead when it is **in force** (not lifted, and not past its end: a block with ``ends_at``
stops nothing from that moment on, whether or not the expiry job has lifted it yet), its **reach** covers
the lead (platform-wide; or its customer is the lead's; or its campaign is the lead's) and its **target**
is the lead's: the lead itself, its contact, its contact's account, one of the contact's numbers, or the
contact's use of one of its numbers. A lead is Disqualified when a block on the lead, its contact or its
account stops it, or when number blocks leave it no number to dial.

The two tables below say it once; everything else here is produced from them, for each reader:

* ORM conditions: ``block_reaches`` and ``block_on`` (a ``Q`` over ``Block`` rows), ``dialable_phones`` and
  ``lead_is_disqualified`` (the status rule, compiled into the recompute's UPDATE and the pull's lease
  statement), ``lead_stopped_by`` (which blocks stop a lead: the portal's and a lead import's counts by
  source), and the inverses ``leads_reached_by`` (the leads a set of blocks may touch) and
  ``active_blocks_on`` (the blocks on a set of contacts, their accounts, leads and numbers: Undisqualify);
* SQL fragments for the hand-written hot paths (the dial check, the pull's numbers): ``block_reaches_sql``
  and ``block_on_sql``, given the aliases of the statement around them; and ``leads_stopped_sql``, the leads
  a set of new blocks stops (the status recompute after matching);
* Python, for blocks already loaded (``explain``): ``block_reaches_lead``, ``block_on_lead`` and
  ``blocks_stopping_lead``;
* as of a past moment (``explain(..., at=...)``): ``block_was_in_force_then`` (ORM) and
  ``block_was_in_force`` (Python) read ``created_at``, ``lifted_at`` and ``ends_at`` where the live rule reads
  ``lifted_at IS NULL`` and ``ends_at``.

Every reader is given the moment it judges at (``now``): a value, or for a statement compiled once, an SQL
expression its caller binds on each run.

``tests/campaigns/test_block_rule_agreement.py`` holds every reader to the same answers.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from campaigns.models import Block, Call, ContactPhone, Disposition, Lead, LeadStage, Meeting

# What a block's reach compares with the lead: nothing (platform-wide), or one of the lead's scope keys.
REACH_KEYS: dict[str, str | None] = {
    Block.Reach.PLATFORM: None,
    Block.Reach.CUSTOMER: "customer",
    Block.Reach.CAMPAIGN: "campaign",
}
# What a block's target compares with the lead: each key is one of the lead's subjects ("lead" is the lead
# itself, "account" its contact's account, "phone" one of its contact's numbers). The first key names the
# leads a block may touch (``leads_reached_by``).
TARGET_KEYS: dict[str, tuple[str, ...]] = {
    Block.Target.LEAD: ("lead",),
    Block.Target.CONTACT: ("contact",),
    Block.Target.ACCOUNT: ("account",),
    Block.Target.PHONE: ("phone",),
    Block.Target.CONTACT_PHONE: ("contact", "phone"),
}
# The block's column holding each key.
COLUMNS = {
    "customer": "customer_id",
    "campaign": "campaign_id",
    "lead": "lead_id",
    "contact": "contact_id",
    "account": "account_id",
    "phone": "phone_id",
}
# Blocks on the lead, its contact or its account stop it; number blocks stop a number, and the lead only when
# they leave it none.
LEAD_TARGETS = (Block.Target.LEAD, Block.Target.CONTACT, Block.Target.ACCOUNT)
NUMBER_TARGETS = (Block.Target.PHONE, Block.Target.CONTACT_PHONE)


@dataclass(frozen=True)
class In:
    """An ORM value for a key: the block's column is one of ``values``."""

    values: Any


@dataclass(frozen=True)
class Through:
    """An ORM value for a key reached by another lookup of ``Block``: ``Through("account__contacts", ref)``."""

    lookup: str
    value: Any


def _lookup(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, In):
        return {f"{COLUMNS[key]}__in": value.values}
    if isinstance(value, Through):
        return {value.lookup: value.value}
    return {COLUMNS[key]: value}


# --- ORM ------------------------------------------------------------------------------------------------


def block_reach_covers(*, customer_ref: Any, campaign_ref: Any) -> Q:
    """Return the condition, over ``Block`` rows, that a block's reach covers a lead of that customer and campaign
    (values, ``OuterRef``s, or ``In(...)`` for leads of several), lifted or not."""
    scope = {"customer": customer_ref, "campaign": campaign_ref}
    reach = Q()
    for kind, key in REACH_KEYS.items():
        reach |= Q(reach=kind, **(_lookup(key, scope[key]) if key else {}))
    return reach


def block_in_force(now: Any = None) -> Q:
    """Return the condition, over ``Block`` rows, that a block is in force at ``now`` (a moment or an
    expression; the current time when None): not lifted, and without an end or ending after ``now``."""
    now = timezone.now() if now is None else now
    return Q(lifted_at__isnull=True) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))


def block_reaches(*, customer_ref: Any, campaign_ref: Any, now: Any = None) -> Q:
    """Return the condition, over ``Block`` rows, that a block in force at ``now`` reaches a lead of that
    customer and campaign (values, ``OuterRef``s, or ``In(...)`` for leads of several)."""
    return block_in_force(now) & block_reach_covers(customer_ref=customer_ref, campaign_ref=campaign_ref)


def block_was_in_force_then(at: Any) -> Q:
    """Return the condition, over ``Block`` rows, that a block was in force at the past moment ``at``: made at
    or before it, not lifted by then, and not past its end (the ``as of`` reading of ``block_in_force``)."""
    return (
        Q(created_at__lte=at)
        & (Q(lifted_at__isnull=True) | Q(lifted_at__gt=at))
        & (Q(ends_at__isnull=True) | Q(ends_at__gt=at))
    )


def block_on(kind: str, **subject: Any) -> Q:
    """Return the condition, over ``Block`` rows, that a block of target ``kind`` is on ``subject``: a value
    (or ``OuterRef``, ``In``, ``Through``) for each key of the kind (``TARGET_KEYS``)."""
    return Q(target=kind, **{name: v for key in TARGET_KEYS[kind] for name, v in _lookup(key, subject[key]).items()})


def blocks_on_any(kinds: Iterable[str] = TARGET_KEYS, **subject: Any) -> Q:
    """Return the condition that a block is on ``subject`` by any of ``kinds`` whose keys ``subject`` gives."""
    condition = Q()
    for kind in kinds:
        if all(key in subject for key in TARGET_KEYS[kind]):
            condition |= block_on(kind, **subject)
    return condition


def dialable_phones(*, contact_ref, customer_ref, campaign_ref, now: Any = None) -> QuerySet[ContactPhone]:
    """Return the contact's numbers that no block in force stops, for a lead of that customer and campaign."""
    reaches = block_reaches(customer_ref=customer_ref, campaign_ref=campaign_ref, now=now)
    # One EXISTS per kind: each is one probe of its own index.
    use = {"contact": OuterRef("contact_id"), "phone": OuterRef("phone_id")}
    stopped = [~Exists(Block.objects.filter(reaches, block_on(kind, **use))) for kind in NUMBER_TARGETS]
    return ContactPhone.objects.filter(contact_id=contact_ref).filter(*stopped)


# How a lead (seen from a query on ``Block`` one level below it) names each of its subjects.
_LEAD_SUBJECT = {
    "lead": OuterRef("pk"),
    "contact": OuterRef("contact_id"),
    # From a lead, its account is its contact's: a join on the block's side, never on the lead's (the
    # recompute is an UPDATE of leads, which refuses joins).
    "account": Through("account__contacts", OuterRef("contact_id")),
}


# And each of the contact's numbers: a number block is on the lead's numbers when its number is the contact's.
_LEAD_NUMBERS = {
    "contact": OuterRef("contact_id"),
    "phone": Through("phone__contact_links__contact_id", OuterRef("contact_id")),
}


def _no_number_left(now: Any) -> Exists:
    """Return ``NOT EXISTS``, over ``Lead`` rows: none of the contact's numbers is dialable for the lead."""
    return ~Exists(
        dialable_phones(
            contact_ref=OuterRef("contact_id"),
            customer_ref=OuterRef(OuterRef("customer_id")),
            campaign_ref=OuterRef(OuterRef("campaign_id")),
            now=now,
        )
    )


def lead_is_disqualified(now: Any = None) -> Q:
    """Return the condition, over ``Lead`` rows, that the lead is Disqualified at ``now``."""
    now = timezone.now() if now is None else now
    reaches = block_reaches(customer_ref=OuterRef("customer_id"), campaign_ref=OuterRef("campaign_id"), now=now)
    on_lead = [Q(Exists(Block.objects.filter(reaches, block_on(kind, **_LEAD_SUBJECT)))) for kind in LEAD_TARGETS]
    return functools.reduce(operator.or_, [*on_lead, Q(_no_number_left(now))])


def lead_stopped_by(blocks: QuerySet[Block], now: Any = None) -> Q:
    """Return the condition, over ``Lead`` rows, that one of ``blocks`` stops the lead: an active one that
    reaches it is on the lead, its contact or its account, or is on one of its numbers while no number is left
    to dial (as in the status rule, a number block stops a lead only with the others that leave it none).

    ``blocks`` narrows the blocks asked (a source, the dates they were made); reach and lifting are applied
    here. A Disqualified lead whose contact has no number at all is stopped by no block.
    """
    now = timezone.now() if now is None else now
    reaching = blocks.filter(
        block_reaches(customer_ref=OuterRef("customer_id"), campaign_ref=OuterRef("campaign_id"), now=now)
    )
    on_lead = [Q(Exists(reaching.filter(block_on(kind, **_LEAD_SUBJECT)))) for kind in LEAD_TARGETS]
    on_number = functools.reduce(
        operator.or_, [Q(Exists(reaching.filter(block_on(kind, **_LEAD_NUMBERS)))) for kind in NUMBER_TARGETS]
    )
    return functools.reduce(operator.or_, [*on_lead, on_number & Q(_no_number_left(now))])


# The inverse: for each first key of a target, the leads whose subject it is, given the blocks' column.
def _leads_by(key: str, values: QuerySet) -> QuerySet[Lead]:
    match key:
        case "lead":
            return Lead.objects.filter(pk__in=values)
        case "contact":
            return Lead.objects.filter(contact_id__in=values)
        case "account":
            return Lead.objects.filter(contact__account_id__in=values)
        case "phone":
            return Lead.objects.filter(
                contact_id__in=ContactPhone.objects.filter(phone_id__in=values).values("contact_id")
            )
    raise ValueError(f"No lead has a subject {key!r}.")


def leads_reached_by(blocks: QuerySet[Block]) -> QuerySet[Lead]:
    """Return every lead whose status may depend on one of ``blocks`` (a superset is harmless: reach and
    lifting are not looked at).

    A UNION of one indexed lookup per subject the targets name first: an OR across them would scan every lead.
    """
    kinds_by_key: dict[str, list[str]] = {}
    for kind, keys in TARGET_KEYS.items():
        kinds_by_key.setdefault(keys[0], []).append(kind)
    parts = [
        _leads_by(key, blocks.filter(target__in=kinds).values(COLUMNS[key])).order_by().values("pk")
        for key, kinds in kinds_by_key.items()
    ]
    # SQLite refuses ORDER BY inside a compound statement, so each part drops Lead's default ordering.
    return Lead.objects.filter(pk__in=parts[0].union(*parts[1:], all=True))


def active_blocks_on(**subject: Any) -> QuerySet[Block]:
    """Return the active blocks on ``subject``: ``In(...)`` for each key (``TARGET_KEYS``) it gives, by every
    target kind whose keys it gives, whatever their reach.

    A UNION of one indexed lookup per kind, like ``leads_reached_by``: an OR across them would scan every block.
    """
    active = Block.objects.active().order_by()
    parts = [
        active.filter(block_on(kind, **subject)).values("pk")
        for kind, keys in TARGET_KEYS.items()
        if all(key in subject for key in keys)
    ]
    return Block.objects.filter(pk__in=parts[0].union(*parts[1:], all=True))


# --- SQL ------------------------------------------------------------------------------------------------


def block_active_sql(block: str, *, now: str) -> str:
    """Return SQL: the block (table alias ``block``) is in force at ``now`` (an SQL expression: a parameter)."""
    return f"{block}.lifted_at IS NULL AND ({block}.ends_at IS NULL OR {block}.ends_at > {now})"


def block_reaches_sql(block: str, *, customer: str, campaign: str, now: str) -> str:
    """Return SQL: the block ``block``, in force at ``now``, reaches a lead whose customer and campaign ids are
    the SQL expressions ``customer`` and ``campaign``."""
    scope = {"customer": customer, "campaign": campaign}
    reach = " OR ".join(
        f"({block}.reach = '{kind}'" + (f" AND {block}.{COLUMNS[key]} = {scope[key]})" if key else ")")
        for kind, key in REACH_KEYS.items()
    )
    return f"{block_active_sql(block, now=now)} AND ({reach})"


def block_on_sql(block: str, kinds: Iterable[str] = TARGET_KEYS, **subject: str) -> str:
    """Return SQL: the block ``block`` is on ``subject`` by one of ``kinds``, each key of ``subject`` an SQL
    expression (``contact="subject.contact_id"``); kinds whose keys ``subject`` lacks are left out."""
    parts = [
        " AND ".join(
            [f"{block}.target = '{kind}'", *(f"{block}.{COLUMNS[key]} = {subject[key]}" for key in TARGET_KEYS[kind])]
        )
        for kind in kinds
        if all(key in subject for key in TARGET_KEYS[kind])
    ]
    return "(" + " OR ".join(f"({part})" for part in parts) + ")"


# How each target kind a lead is stopped by joins the blocks ``b`` to the leads ``l`` it is on.
_LEAD_JOINS_SQL = {
    "lead": "JOIN campaigns_lead l ON l.id = b.lead_id",
    "contact": "JOIN campaigns_lead l ON l.contact_id = b.contact_id",
    "account": "JOIN campaigns_contact c ON c.account_id = b.account_id JOIN campaigns_lead l ON l.contact_id = c.id",
}
_LEAD_SUBJECT_SQL = {"lead": "l.id", "contact": "l.contact_id", "account": "c.account_id"}


def leads_stopped_sql(blocks: str, *, now: str, customer: str | None = None) -> str:
    """Return SQL selecting the ids of the leads that a block of ``blocks`` (SQL naming a relation with
    ``campaigns_block``'s columns, a table or a parenthesised subquery) stops on its own: an active one on the
    lead, its contact or its account that reaches it (the rule of ``lead_is_disqualified`` without its number
    part, for a few blocks rather than a few leads).

    One join per target kind, glued by ``UNION ALL``: an ``OR`` across them would scan every lead. A lead may
    be listed more than once. Number blocks are not looked at: they stop a lead only with the others.
    ``now`` (SQL, a parameter) is the moment judged, for blocks' ends. ``customer`` (SQL, a parameter) keeps to
    the leads, contacts and blocks of that customer, when the caller knows the blocks reach no other's. Each
    part reads ``blocks``' parameters, then ``now``, then ``customer``.
    """
    parts = []
    for kind in LEAD_TARGETS:
        (key,) = TARGET_KEYS[kind]
        on = block_on_sql("b", [kind], **{key: _LEAD_SUBJECT_SQL[key]})
        reaches = block_reaches_sql("b", customer="l.customer_id", campaign="l.campaign_id", now=now)
        where = [on, reaches]
        if customer:
            where += [f"l.customer_id = {customer}", "b.customer_id = l.customer_id"]
            where += ["c.customer_id = l.customer_id"] if key == "account" else []
        parts.append(f"SELECT l.id FROM {blocks} b {_LEAD_JOINS_SQL[key]} WHERE {' AND '.join(where)}")
    return " UNION ALL ".join(parts)


# --- Python, for loaded blocks --------------------------------------------------------------------------


def block_in_force_at(block: Block, now: datetime) -> bool:
    """Return whether the loaded ``block`` is in force at ``now`` (the rule of ``block_in_force``)."""
    return block.lifted_at is None and (block.ends_at is None or block.ends_at > now)


def block_reaches_lead(block: Block, lead: Lead, *, now: datetime) -> bool:
    """Return whether ``block``, in force at ``now``, reaches ``lead`` (the rule of ``block_reaches``, for one
    loaded lead)."""
    if not block_in_force_at(block, now):
        return False
    return block_reach_covers_lead(block, lead)


def block_was_in_force(block: Block, at: datetime) -> bool:
    """Return whether ``block`` was in force at ``at`` (the rule of ``block_was_in_force_then``, for a loaded
    block): made by then, not lifted by then, not past its end."""
    return (
        block.created_at <= at
        and (block.lifted_at is None or block.lifted_at > at)
        and (block.ends_at is None or block.ends_at > at)
    )


def block_reach_covers_lead(block: Block, lead: Lead) -> bool:
    """Return whether ``block``'s reach covers ``lead``, lifted or not (``block_reach_covers``, in Python)."""
    key = REACH_KEYS[block.reach]
    scope = {"customer": lead.customer_id, "campaign": lead.campaign_id}
    return key is None or getattr(block, COLUMNS[key]) == scope[key]


def block_on_lead(block: Block, lead: Lead, phone_ids: Collection[int]) -> bool:
    """Return whether ``block`` is on ``lead`` (its contact needs loading for the account), or on one of
    ``phone_ids`` (the contact's numbers to consider)."""
    subject = {
        "lead": {lead.pk},
        "contact": {lead.contact_id},
        "account": {lead.contact.account_id},
        "phone": phone_ids,
    }
    return all(getattr(block, COLUMNS[key]) in subject[key] for key in TARGET_KEYS[block.target])


def is_number_block(block: Block) -> bool:
    return block.target in NUMBER_TARGETS


def blocks_stopping_lead(blocks: list[Block], phone_ids: Iterable[int]) -> tuple[list[Block], list[int]]:
    """Given the active blocks that reach a lead and are on it or on its numbers, return those that stop it and
    the ids of its numbers still dialable (``phone_ids`` in their order).

    Number blocks stop the lead only when together they leave it no number to dial: a contact with one DNC
    number and one clean number is not stopped, and its DNC number is not listed.
    """
    blocked = {block.phone_id for block in blocks if is_number_block(block)}
    dialable = [pk for pk in phone_ids if pk not in blocked]
    return ([b for b in blocks if not is_number_block(b)] if dialable else list(blocks)), dialable


# What each reason Unqualify offers means (the seed's definitions): the form shows them, the sentences say them.
UNQUALIFY_DEFINITIONS: dict[str, str] = {
    Block.Reason.INVALID_NUMBER: "The number was invalid when it was called.",
    Block.Reason.UNREACHABLE: "Several attempts, and the lead still could not be reached.",
    Block.Reason.WRONG_NUMBER: "The call connected, but the number belongs to someone unrelated.",
    Block.Reason.NO_LONGER_INTERESTED: "The call connected, and the lead insisted on opting out of any communication.",
}
UNQUALIFY_REASONS = tuple(UNQUALIFY_DEFINITIONS)


def unqualifies_lead() -> Q:
    """The blocks (on a lead) that unqualify it and that Reopen lifts: ops' unqualify reasons, the attempt cap."""
    return Q(source=Block.Source.OPS_DISQUALIFY, reason__in=UNQUALIFY_REASONS) | Q(source=Block.Source.UNREACHABLE)


def qualifies_lead() -> Q:
    """The blocks (on a lead) that say it was qualified: the meeting-outcome block Qualify and a meeting write."""
    return Q(source=Block.Source.MEETING_OUTCOME, reason=Block.Reason.QUALIFIED)


def lead_stage_expression() -> Case:
    """Return the stage of a lead (in an UPDATE or annotation over ``Lead``) from what happened to it.

    Qualified while a block on the lead says so; Unqualified while an unqualification (or a meeting's Not
    qualified) stands; else Meeting booked when a meeting of it did not end in a no-show; Connected when a
    call on it connected; Attempted when it was called; else New. Lifting the block (Reopen, Undisqualify)
    steps the stage back to what the calls and meetings say.
    """
    on_lead = Block.objects.filter(lifted_at__isnull=True, target=Block.Target.LEAD, lead=OuterRef("pk"))
    calls = Call.objects.filter(lead=OuterRef("pk"))
    unqualified = unqualifies_lead() | Q(source=Block.Source.MEETING_OUTCOME, reason=Block.Reason.NOT_QUALIFIED)
    return Case(
        When(Exists(on_lead.filter(qualifies_lead())), then=Value(LeadStage.QUALIFIED)),
        When(Exists(on_lead.filter(unqualified)), then=Value(LeadStage.UNQUALIFIED)),
        When(
            Exists(Meeting.objects.filter(lead=OuterRef("pk")).exclude(outcome=Meeting.Outcome.NO_SHOW)),
            then=Value(LeadStage.MEETING_BOOKED),
        ),
        When(Exists(calls.exclude(disposition__effect=Disposition.Effect.NO_CONNECT)), then=Value(LeadStage.CONNECTED)),
        When(Exists(calls), then=Value(LeadStage.ATTEMPTED)),
        default=Value(LeadStage.NEW),
    )

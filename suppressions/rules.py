"""When a suppression entry matches a contact: the one place the rule is written.

An **active** entry (not removed) of a customer matches a lead of that customer in one of the ways of
``WAYS``, each paired with the target its block is made on: one of the contact's numbers, one of its emails
or an email's domain (the contact), or its account's website (the account). A domain entry covers its
subdomains (``eu.acme.com`` is under ``acme.com``; a TLD is never one). A match is **in force** until a
suppression block with the entry as evidence exists on that target: an active one is reported as a block, a
lifted one is an exception ops made for that target only (so an exception on the account never hides a
contact's own email, nor one on the contact its account's website).

Each way is one row of ``WAYS``, with its ORM and SQL spellings side by side; from them come:

* ``active_suppression_exists`` — an ``Exists`` over ``Lead`` rows, the pull's live filter;
* ``live_entries_sql`` — the dial check's (and ``explain``'s) live look-up, hand-written SQL for speed;
* ``match_from_sql`` — the ``FROM … WHERE`` of the statements that make the blocks
  (``suppressions.services.matching``).

``tests/suppressions/test_live_agreement.py`` and ``tests/suppressions/test_entry_rule_agreement.py`` hold
them to the same answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import CharField, Exists, Func, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Concat

from campaigns.models import Block, Contact, ContactEmail, ContactPhone
from suppressions.models import Entry

# The owner of a matched value: its table and alias in the matching statements, and its column on a block.
OWNERS = {
    Block.Target.CONTACT: ("campaigns_contact", "c", "contact_id"),
    Block.Target.ACCOUNT: ("campaigns_account", "a", "account_id"),
}


@dataclass(frozen=True)
class Way:
    """One way an entry matches: its kind, the target its block is made on, and where the value is found."""

    name: str
    kind: str
    target: str
    domain: bool  # the entry is a domain, which covers the value's parents as well as the value
    # ORM: the rows holding the value, filtered by the contact's id through ``orm_owner``, and the value's field.
    orm_model: type
    orm_owner: str
    orm_value: str
    orm_exclude_empty: bool
    # SQL: ``sql_from`` joined to the owner's id by ``sql_owner``, then ``sql_joins``; the value is ``sql_value``.
    sql_from: str
    sql_owner: str
    sql_joins: str
    sql_value: str
    sql_where: str = ""


WAYS = (
    Way(
        "phone",
        Entry.Kind.PHONE,
        Block.Target.CONTACT,
        False,
        ContactPhone,
        "contact_id",
        "phone__e164",
        False,
        "campaigns_contactphone cp",
        "cp.contact_id",
        "JOIN campaigns_phonenumber p ON p.id = cp.phone_id",
        "p.e164",
    ),
    Way(
        "email",
        Entry.Kind.EMAIL,
        Block.Target.CONTACT,
        False,
        ContactEmail,
        "contact_id",
        "email",
        False,
        "campaigns_contactemail ce",
        "ce.contact_id",
        "",
        "ce.email",
    ),
    Way(
        "email domain",
        Entry.Kind.DOMAIN,
        Block.Target.CONTACT,
        True,
        ContactEmail,
        "contact_id",
        "domain",
        False,
        "campaigns_contactemail ce",
        "ce.contact_id",
        "",
        "ce.domain",
    ),
    Way(
        "website",
        Entry.Kind.DOMAIN,
        Block.Target.ACCOUNT,
        True,
        Contact,
        "pk",
        "account__domain",
        True,
        "campaigns_account a",
        "a.id",
        "",
        "a.domain",
        "a.domain <> ''",
    ),
)


def entry_type_id() -> int:
    return ContentType.objects.get_for_model(Entry).pk


# --- A domain covers its subdomains ---------------------------------------------------------------------


class DomainSuffixes(Func):
    """Every suffix of a domain that is a domain, one per row: ``a.b.acme.com`` → ``a.b.acme.com``,
    ``b.acme.com``, ``acme.com`` (``suppressions_domain_suffixes``, migration 0002).

    So "is this domain, or a parent of it, suppressed?" is indexed equality, never ``LIKE``.
    """

    function = "suppressions_domain_suffixes"
    template = "unnest(%(function)s(%(expressions)s))"
    output_field = CharField()


def _domain_matches(domains: QuerySet, field: str) -> Q:
    """Return the condition on ``Entry`` that its value is one of ``domains``' ``field`` or a parent of it."""
    if connection.vendor == "postgresql":
        return Q(value__in=domains.annotate(suffix=DomainSuffixes(field)).values("suffix"))
    # Other databases (the embedded SQLite demo): a suffix test that no index helps, fine at demo sizes.
    return Q(
        Exists(
            domains.filter(
                Q(**{field: OuterRef("value")})
                | Q(**{f"{field}__endswith": Concat(Value("."), OuterRef("value"), output_field=CharField())})
            )
        )
    )


def _domain_join_sql(domain_column: str) -> str:
    """Return a join of ``e`` (domain entries) to rows whose ``domain_column`` equals or is under e.value."""
    if connection.vendor == "postgresql":
        # Each domain's suffixes (a.b.acme.com → b.acme.com → acme.com) joined by equality: a hash join.
        # Written inline rather than calling suppressions_domain_suffixes(): about 5x faster per row.
        return (
            "CROSS JOIN LATERAL (SELECT array_to_string(p.labels[i:], '.') AS suffix "
            f"FROM (SELECT string_to_array({domain_column}, '.') AS labels) AS p, "
            "generate_series(1, array_length(p.labels, 1) - 1) AS i) AS s "
            "JOIN suppressions_entry e ON e.value = s.suffix"
        )
    return f"JOIN suppressions_entry e ON (e.value = {domain_column} OR {domain_column} LIKE '%%.' || e.value)"


def _domain_suffixes_sql(domains: str) -> str:
    """Return SQL selecting ``(target, suffix)``: each domain of ``domains`` (rows ``(target, domain)``) with
    each parent domain but the TLD."""
    if connection.vendor == "postgresql":
        return f"SELECT d.target, unnest(suppressions_domain_suffixes(d.domain)) AS suffix FROM ({domains}) d"
    # The embedded SQLite demo has no suffix function: the same suffixes, by a recursive query.
    return f"""WITH RECURSIVE suffix(target, suffix) AS (
        {domains}
        UNION SELECT target, substr(suffix, instr(suffix, '.') + 1) FROM suffix
        WHERE instr(substr(suffix, instr(suffix, '.') + 1), '.') > 0
    ) SELECT target, suffix FROM suffix"""


# --- ORM: the pull's live filter ------------------------------------------------------------------------


def _outer(name: str, depth: int):
    ref = OuterRef(name)
    for _ in range(depth - 1):
        ref = OuterRef(ref)
    return ref


def _unblocked(entries: QuerySet[Entry], *, target: str, ref) -> QuerySet[Entry]:
    """Keep the entries with no suppression block (active or lifted) on that target having the entry as evidence."""
    return entries.filter(
        ~Exists(
            Block.objects.filter(
                evidence_type_id=entry_type_id(),
                evidence_id=OuterRef("pk"),
                source=Block.Source.SUPPRESSION,
                target=target,
                **{OWNERS[target][2]: ref},
            )
        )
    )


def matching_entries(*, lead: Callable[[str, int], object]) -> list[QuerySet[Entry]]:
    """Return one Entry queryset per way (``WAYS``) an active entry matches a lead's contact or its account and
    is in force.

    ``lead(field, depth)`` returns the lead's ``customer_id`` or ``contact_id`` as seen from a query
    ``depth`` levels below the lead's own: a value, or a nested ``OuterRef``.
    """
    active = Entry.objects.filter(customer_id=lead("customer_id", 1), removed_at__isnull=True)
    owner_refs = {
        Block.Target.CONTACT: lead("contact_id", 2),
        Block.Target.ACCOUNT: Subquery(
            Contact.objects.filter(pk=lead("contact_id", 3)).order_by().values("account_id")[:1]
        ),
    }
    parts = []
    for way in WAYS:
        rows = way.orm_model.objects.filter(**{way.orm_owner: lead("contact_id", 2)})
        if way.orm_exclude_empty:
            rows = rows.exclude(**{way.orm_value: ""})
        matching = _domain_matches(rows, way.orm_value) if way.domain else Q(value__in=rows.values(way.orm_value))
        parts.append(_unblocked(active.filter(matching, kind=way.kind), target=way.target, ref=owner_refs[way.target]))
    return parts


_LEAD_FIELDS = {"customer_id": "customer_id", "contact_id": "contact_id"}


def active_suppression_exists() -> Exists:
    """Return an ``Exists`` over ``Lead`` rows: an active entry of the lead's customer matches its contact.

    Use it as ``Lead.objects.filter(~active_suppression_exists())``: the live counterpart of suppression
    blocks, true from the moment an entry commits until its rematch has blocked the contact (and false
    again for a contact ops excepted by lifting that entry's block).
    """
    parts = matching_entries(lead=lambda field, depth: _outer(_LEAD_FIELDS[field], depth))
    ids = [part.values("pk") for part in parts]
    return Exists(ids[0].union(*ids[1:], all=True))


# --- SQL: the dial check's live look-up -----------------------------------------------------------------


def _in_force_sql(
    *, entry: str, entry_type: str, source: str, target: str, owners: dict[str, str], customer: str | None = None
) -> str:
    """Return SQL: no suppression block (active or lifted) has ``entry`` as evidence on ``target`` (a target
    kind in SQL), the target being the row whose id is ``owners[target kind]``. ``customer``, the entry's
    customer as SQL, pins the blocks looked at to it (a suppression block is always its entry's customer's)."""
    owned = " OR ".join(f"({target} = '{kind}' AND b.{OWNERS[kind][2]} = {ref})" for kind, ref in owners.items())
    pinned = f" AND b.customer_id = {customer}" if customer else ""
    return (
        f"NOT EXISTS (SELECT 1 FROM campaigns_block b WHERE b.evidence_type_id = {entry_type} "
        f"AND b.evidence_id = {entry} AND b.source = {source} AND b.target = {target} AND ({owned}){pinned})"
    )


def _subject_values_sql(way: Way, *, value: str) -> str:
    owner = f"subject.{OWNERS[way.target][2]}"
    where = f" WHERE {way.sql_where}" if way.sql_where else ""
    return f"SELECT {value} FROM subject JOIN {way.sql_from} ON {way.sql_owner} = {owner} {way.sql_joins}{where}"


# The lead's few values are listed first, each with the target it blocks, and each is looked up, by a
# subquery of its own, in the active-entry index on (customer, kind, value), whatever the planner estimates:
# a customer's list may hold millions of entries, and scanning them costs seconds. The dialled number is
# matched as the contact's (the phone way's target), whether it is one of theirs or not.
_LIVE_SQL = """
SELECT probe.entry_id AS id FROM (
    SELECT (
        SELECT e.id FROM suppressions_entry e
        WHERE e.customer_id = subject.customer_id AND e.kind = wanted.kind AND e.value = wanted.value
          AND e.removed_at IS NULL
    ) AS entry_id, wanted.target
    FROM (
        SELECT '{phone_kind}' AS kind, CAST(%(number)s AS varchar) AS value, '{phone_target}' AS target
        {values}
        UNION SELECT '{domain_kind}', suffix, target FROM ({domain_suffixes}) suffixes
    ) wanted CROSS JOIN subject
) probe CROSS JOIN subject
WHERE probe.entry_id IS NOT NULL
  AND {in_force}
"""


def live_entries_sql() -> str:
    """Return the live look-up as SQL selecting entry ids of the lead in the relation ``subject`` (columns
    ``customer_id``, ``contact_id``, ``account_id``) that the statement around it defines, with the named
    parameters ``number`` (the dialled number, or NULL) and ``entry_type`` (``live_entries_params``)."""
    (phone,) = [way for way in WAYS if way.kind == Entry.Kind.PHONE]
    values = "\n        ".join(
        "UNION " + _subject_values_sql(way, value=f"'{way.kind}', {way.sql_value}, '{way.target}'")
        for way in WAYS
        if not way.domain
    )
    domains = " UNION ".join(
        _subject_values_sql(way, value=f"'{way.target}' AS target, {way.sql_value} AS domain")
        for way in WAYS
        if way.domain
    )
    return _LIVE_SQL.format(
        phone_kind=phone.kind,
        phone_target=phone.target,
        values=values,
        domain_kind=Entry.Kind.DOMAIN,
        domain_suffixes=_domain_suffixes_sql(domains),
        in_force=_in_force_sql(
            entry="probe.entry_id",
            entry_type="%(entry_type)s",
            source=f"'{Block.Source.SUPPRESSION}'",
            target="probe.target",
            owners={kind: f"subject.{column}" for kind, (_, _, column) in OWNERS.items()},
        ),
    )


def live_entries_params(phone_e164: str | None) -> dict[str, object]:
    return {"number": phone_e164, "entry_type": entry_type_id()}


# --- SQL: the matching statements -----------------------------------------------------------------------


def match_from_sql(way: Way, *, entries_where: str, owners_where: str) -> str:
    """Return ``FROM … WHERE …`` joining entries ``e`` of ``%(customer)s`` (and ``entries_where``) that match
    ``way`` to their owner (alias ``c`` for a contact, ``a`` for an account; ``owners_where`` filters it), with
    the entry's upload as ``u``, leaving out matches that have their block (active or lifted) already.

    Parameters: ``customer``, ``ct`` (the entry type) and ``source``.
    """
    table, alias, _ = OWNERS[way.target]
    if way.sql_from == f"{table} {alias}":  # the value is on the owner's row
        rows = f"{way.sql_from} {way.sql_joins}"
    else:
        rows = f"{table} {alias} JOIN {way.sql_from} ON {way.sql_owner} = {alias}.id {way.sql_joins}"
    entries = (
        _domain_join_sql(way.sql_value) if way.domain else f"JOIN suppressions_entry e ON e.value = {way.sql_value}"
    )
    where = [
        f"e.customer_id = %(customer)s AND e.removed_at IS NULL AND e.kind = '{way.kind}'",
        entries_where,
        f"{alias}.customer_id = %(customer)s",
        *([way.sql_where] if way.sql_where else []),
        owners_where,
        _in_force_sql(
            entry="e.id",
            entry_type="%(ct)s",
            source="%(source)s",
            target=f"'{way.target}'",
            owners={way.target: f"{alias}.id"},
            customer="e.customer_id",
        ),
    ]
    # An entry's upload is its customer's: joined on both, every table of the statement is pinned to the customer.
    upload = "LEFT JOIN suppressions_upload u ON u.id = e.upload_id AND u.customer_id = e.customer_id"
    return f" FROM {rows} {entries} {upload} WHERE " + " AND ".join(where)

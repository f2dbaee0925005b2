"""Search that finds what people type: names, accounts, emails and phone numbers, on every list of people.

A search is words. Each word must begin a word of one of a contact's first name, last name, account name or
email address ("Mia Young", "Harbor Medical", "Oak Park Pharmacy", "mia.young@"), and different words may
match different fields. A search that reads as a phone number in any writing ("202-726-6092", "(202) 726
6092", "2027266092", "+1 202 726 6092") is read with the customers' regions (``leadops.normalizing``) and
finds that number, its contacts and their leads.

At a million rows it is a few index probes, never a scan: each word is looked up per field through the
trigram indexes on the upper-cased columns (PostgreSQL, ``pg_trgm``; migration ``0020``), the words' contact
ids are intersected in the database, and the list then filters on those ids; a number is looked up by its
E.164 index. SQLite runs the same statements without those indexes.

Every function returns a ``Q`` to filter the list's own queryset with, so a list keeps its own scope (a
customer's, an approved caller's) in the same query; ``customer_id`` narrows the lookups themselves too.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from campaigns.models import Customer
from leadops.normalizing import NormalizationError, normalize_email, normalize_phone

MAX_WORDS = 6
# What a number may be written with: digits, a leading +, spaces, dots, dashes, slashes and brackets.
_PHONE_WRITING = re.compile(r"^\+?[\d\s().\-/]+$")
MIN_PHONE_DIGITS = 7
# A search is broad when at least one in BROAD_SHARE of the newest BROAD_WINDOW leads matches it: then the lead
# list walks the newest leads and checks each one's contact, reading about BROAD_SHARE leads per lead shown.
BROAD_WINDOW = 5_000
BROAD_SHARE = 100


def search_words(term: str) -> list[str]:
    """Return the words of ``term`` (upper-cased, at most ``MAX_WORDS``, each once, in order)."""
    words = [w for w in re.split(r"[\s,;]+", term.strip().upper()) if w]
    return list(dict.fromkeys(words))[:MAX_WORDS]


def phone_numbers_typed(term: str, *, customer_id: int | None = None) -> list[str]:
    """Return the E.164 numbers ``term`` may be, read with the customer's region (or each customer's), or
    none when it does not look like a phone number."""
    term = term.strip()
    if not _PHONE_WRITING.match(term) or sum(ch.isdigit() for ch in term) < MIN_PHONE_DIGITS:
        return []
    if term.startswith("+"):
        regions = [""]
    else:
        customers = Customer.objects.all() if customer_id is None else Customer.objects.filter(pk=customer_id)
        regions = sorted(set(customers.values_list("phone_region", flat=True))) or ["US"]
    found = []
    for region in regions:
        try:
            e164 = normalize_phone(term, region)
        except NormalizationError:
            continue
        if e164 not in found:
            found.append(e164)
    return found


def _like(word: str) -> tuple[str, str]:
    """Return the two LIKE patterns of ``word``: it begins the value, or a word of it."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%", f"% {escaped}%"


def _begins(column: str) -> str:
    return f"(UPPER({column}) LIKE %s ESCAPE '\\' OR UPPER({column}) LIKE %s ESCAPE '\\')"


def _scoped(sql: str, params: list, column: str, customer_id: int | None) -> tuple[str, list]:
    if customer_id is None:
        return sql, params
    return f"{sql} AND {column} = %s", [*params, customer_id]


def _word_contacts(word: str, *, customer_id: int | None) -> tuple[str, list]:
    """The ids of contacts one of whose fields ``word`` begins (a word of), as one statement; a whole email
    address is that address (one probe of the email index)."""
    email = _whole_email(word)
    if email is not None:
        return _scoped(
            "SELECT e.contact_id FROM campaigns_contactemail e JOIN campaigns_contact ec ON ec.id = e.contact_id "
            "WHERE e.email = %s",
            [email],
            "ec.customer_id",
            customer_id,
        )
    patterns = list(_like(word))
    parts = []
    params: list = []
    sql, p = _scoped(
        f"SELECT c.id FROM campaigns_contact c WHERE ({_begins('c.first_name')} OR {_begins('c.last_name')})",
        patterns * 2,
        "c.customer_id",
        customer_id,
    )
    parts.append(sql)
    params += p
    sql, p = _scoped(
        "SELECT c.id FROM campaigns_contact c WHERE c.account_id IN "
        f"(SELECT a.id FROM campaigns_account a WHERE {_begins('a.name')}",
        patterns,
        "a.customer_id",
        customer_id,
    )
    parts.append(sql + ")")
    params += p
    # An email is begun by its local part or its domain: "mia.young", "harborclinic.org".
    where = "(UPPER(e.email) LIKE %s ESCAPE '\\' OR UPPER(e.email) LIKE %s ESCAPE '\\')"
    email_params = [patterns[0], "%@" + patterns[0]]
    sql, p = _scoped(
        f"SELECT e.contact_id FROM campaigns_contactemail e JOIN campaigns_contact ec ON ec.id = e.contact_id "
        f"WHERE {where}",
        email_params,
        "ec.customer_id",
        customer_id,
    )
    parts.append(sql)
    params += p
    # UNION ALL: the list keeps a row whose contact is IN these ids; a duplicate id costs nothing, dropping
    # duplicates of a broad word's 100,000 ids would cost a sort.
    return " UNION ALL ".join(parts), params


def _is_broad(holds: tuple[str, list], *, customer_id: int | None, table: str = "campaigns_lead") -> bool:
    """Return whether at least one in ``BROAD_SHARE`` of the newest ``BROAD_WINDOW`` rows of ``table`` (the
    customer's, when the table has a customer) is found by ``holds`` (a condition on the row ``recent``): one
    bounded query, a walk of that many rows by the primary key (about 30 ms at a million rows on PostgreSQL,
    whatever the search). The newest rows are a fair sample of the list; its own sort order is not (the first
    5,000 contacts by last name are all Browns)."""
    sql, params = holds
    scoped = customer_id is not None and table != "campaigns_phonenumber"
    scope, scope_params = ("WHERE l.customer_id = %s", [customer_id]) if scoped else ("", [])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT l.* FROM {table} l {scope} ORDER BY l.id DESC LIMIT %s) recent WHERE {sql}",
            [*scope_params, BROAD_WINDOW, *params],
        )
        return cursor.fetchone()[0] * BROAD_SHARE >= BROAD_WINDOW


def _word_on_contact(word: str, contact: str) -> tuple[str, list]:
    """The condition that ``word`` finds the contact row ``contact`` (a table alias), checked on the row: its
    names as they stand, its account and emails against the word's accounts and emails (sets PostgreSQL
    hashes once per statement, so each row costs a lookup, not a probe). The same rule as ``_word_contacts``."""
    email = _whole_email(word)
    if email is not None:
        return f"{contact}.id IN (SELECT e.contact_id FROM campaigns_contactemail e WHERE e.email = %s)", [email]
    patterns = list(_like(word))
    sql = (
        f"({_begins(contact + '.first_name')} OR {_begins(contact + '.last_name')} "
        f"OR {contact}.account_id IN (SELECT a.id FROM campaigns_account a WHERE {_begins('a.name')}) "
        f"OR {contact}.id IN (SELECT e.contact_id FROM campaigns_contactemail e WHERE "
        "(UPPER(e.email) LIKE %s ESCAPE '\\' OR UPPER(e.email) LIKE %s ESCAPE '\\')))"
    )
    return sql, [*patterns, *patterns, *patterns, patterns[0], "%@" + patterns[0]]


def _all_words_on_contact(term: str, contact: str) -> tuple[str, list]:
    holds = [_word_on_contact(word, contact) for word in search_words(term)]
    return " AND ".join(f"({sql})" for sql, _ in holds), [p for _, ps in holds for p in ps]


def _contact_row_holds(term: str, contact_id: str, *, customer_id: int | None) -> tuple[str, list]:
    """The condition that every word of ``term`` finds the contact whose id is the column ``contact_id``: one
    probe of the contact by its id, its fields checked on the row."""
    sql, params = _all_words_on_contact(term, "hc")
    scope, scope_params = (" AND hc.customer_id = %s", [customer_id]) if customer_id is not None else ("", [])
    return _checked(f"SELECT 1 FROM campaigns_contact hc WHERE hc.id = {contact_id}{scope} AND {sql}"), [
        *scope_params,
        *params,
    ]


def _checked(select: str) -> str:
    """Whether ``select`` finds a row, as a value the planner checks row by row: an ``EXISTS`` at the top of a
    WHERE is made a join, and PostgreSQL then hashes every contact the words might find (a sequential scan of a
    million contacts) instead of walking the list and stopping at its page."""
    return f"COALESCE(({select} LIMIT 1) = 1, FALSE)"


def _account_row_holds(term: str, account: str) -> tuple[str, list]:
    """The condition that every word of ``term`` begins a word of the account row ``account``'s name or its
    domain, or finds one of its contacts (``accounts_found``'s rule, on the row)."""
    parts, params = [], []
    for word in search_words(term):
        patterns = list(_like(word))
        on_contact, contact_params = _word_on_contact(word, "ac")
        parts.append(
            f"({_begins(account + '.name')} OR UPPER({account}.domain) LIKE %s ESCAPE '\\' OR EXISTS "
            f"(SELECT 1 FROM campaigns_contact ac WHERE ac.account_id = {account}.id AND {on_contact}))"
        )
        params += [*patterns, patterns[0], *contact_params]
    return " AND ".join(parts), params


def _walked(sql: str, params: list, row: str, *, customer_id: int | None) -> Q:
    """The list's filter for a broad search: ``sql`` checked on each row of the list as it walks its own order
    (an index on it), stopping at its page, instead of gathering every row the search finds first."""
    if customer_id is not None:
        sql, params = f"{row}.customer_id = %s AND {sql}", [customer_id, *params]
    return Q(RawSQL(sql, params, output_field=BooleanField()))


def _phone_row_holds(term: str, phone: str, *, customer_id: int | None) -> tuple[str, list]:
    """The condition that ``term`` finds a contact of the number row ``phone``."""
    sql, params = _contact_row_holds(term, "cp.contact_id", customer_id=customer_id)
    return _checked(f"SELECT 1 FROM campaigns_contactphone cp WHERE cp.phone_id = {phone}.id AND {sql}"), params


def _whole_email(word: str) -> str | None:
    """Return ``word`` as a stored email address when it is a whole one ("mia.young@harbormedical.org")."""
    if word.count("@") != 1 or "." not in word.split("@")[1]:
        return None
    try:
        return normalize_email(word)
    except NormalizationError:
        return None


def _number_contacts(e164s: list[str]) -> tuple[str, list]:
    marks = ", ".join(["%s"] * len(e164s))
    return (
        "SELECT cp.contact_id FROM campaigns_contactphone cp JOIN campaigns_phonenumber p ON p.id = cp.phone_id "
        f"WHERE p.e164 IN ({marks})",
        list(e164s),
    )


def _contact_ids(term: str, *, customer_id: int | None) -> tuple[str, list, bool] | None:
    """One statement of the ids of the contacts ``term`` finds, its parameters and whether ``term`` read as a
    phone number (None for an empty search). A number is that number (its digits begin no name): one probe of
    the E.164 index."""
    words = search_words(term)
    if not words:
        return None
    numbers = phone_numbers_typed(term, customer_id=customer_id)
    if numbers:
        return (*_number_contacts(numbers), True)
    statements = [_word_contacts(word, customer_id=customer_id) for word in words]
    sql = " INTERSECT ".join(f"SELECT * FROM ({s}) w{i}" for i, (s, _) in enumerate(statements))
    params = [p for _, ps in statements for p in ps]
    return sql, params, False


def _ids(sql: str, params: list, *, also_id: int | None) -> Q:
    if also_id is not None:
        # A number is also a row's id ("#123"): in the same statement, so that the list filters on one index.
        sql, params = f"SELECT * FROM ({sql}) found UNION SELECT CAST(%s AS bigint)", [*params, also_id]
    return Q(pk__in=RawSQL(sql, params))


def typed_id(term: str, *, is_number: bool = False) -> int | None:
    """Return the row id ``term`` may be ("123", "#123"), or None (a search that reads as a phone number is
    that number, not an id)."""
    digits = term.strip().lstrip("#")
    if is_number or not digits.isdigit() or len(digits) > 18:
        return None
    return int(digits)


def contacts_found(term: str, *, customer_id: int | None = None) -> Q:
    """Return the condition that keeps the contacts ``term`` finds (or whose id it is): by their names, their
    account's name, an email, or a phone number of theirs in any writing."""
    found = _contact_ids(term, customer_id=customer_id)
    if found is None:
        return Q()
    sql, params, is_number = found
    also_id = typed_id(term, is_number=is_number)
    if (
        also_id is None
        and not is_number
        and _is_broad(_all_words_on_contact(term, "recent"), customer_id=customer_id, table="campaigns_contact")
    ):
        # A broad search ("Davis": 100,000 contacts at a million): the list walks its own order (last name, first
        # name, id: an index) and checks each contact's names on the row, stopping at its page.
        return _walked(
            *_all_words_on_contact(term, '"campaigns_contact"'), '"campaigns_contact"', customer_id=customer_id
        )
    return _ids(sql, params, also_id=also_id)


def leads_found(term: str, *, customer_id: int | None = None) -> Q:
    """Return the condition that keeps the leads ``term`` finds (or whose id it is): the leads of the contacts
    it finds."""
    found = _contact_ids(term, customer_id=customer_id)
    if found is None:
        return Q()
    contacts, params, is_number = found
    lead_id = typed_id(term, is_number=is_number)
    if (
        lead_id is None
        and not is_number
        and _is_broad(_contact_row_holds(term, "recent.contact_id", customer_id=customer_id), customer_id=customer_id)
    ):
        # A broad search ("Davis": a tenth of a million contacts): the list walks the newest leads by its index
        # and checks each lead's contact, stopping at its page, instead of gathering every matching contact
        # and every one of their leads first (fifty times slower at a million; docs/ops-pages.md).
        sql, holds_params = _contact_row_holds(term, '"campaigns_lead"."contact_id"', customer_id=customer_id)
        return Q(RawSQL(sql, holds_params, output_field=BooleanField()))
    if lead_id is None:
        # On the lead's own contact column: for a broad word (a tenth of a million contacts) the list walks the
        # newest leads and stops at its page, instead of fetching every matching lead first.
        return Q(contact_id__in=RawSQL(contacts, params))
    sql = f"SELECT l.id FROM campaigns_lead l WHERE l.contact_id IN ({contacts})"
    return _ids(sql, params, also_id=lead_id)


def accounts_found(term: str, *, customer_id: int | None = None) -> Q:
    """Return the condition that keeps the accounts ``term`` finds (or whose id it is): each word begins a word
    of the account's name, its domain, or a field of one of its contacts."""
    words = search_words(term)
    if not words:
        return Q()
    numbers = phone_numbers_typed(term, customer_id=customer_id)
    if numbers:
        number_sql, number_params = _number_contacts(numbers)
        sql = f"SELECT c.account_id FROM campaigns_contact c WHERE c.id IN ({number_sql})"
        return _ids(sql, number_params, also_id=None)
    if typed_id(term) is None and _is_broad(
        _account_row_holds(term, "recent"), customer_id=customer_id, table="campaigns_account"
    ):
        # A broad search: the list walks its own order (name, id: an index) and checks each account on the row.
        return _walked(*_account_row_holds(term, '"campaigns_account"'), '"campaigns_account"', customer_id=customer_id)
    statements = []
    for word in words:
        patterns = list(_like(word))
        own, own_params = _scoped(
            f"SELECT a.id FROM campaigns_account a WHERE ({_begins('a.name')} OR UPPER(a.domain) LIKE %s ESCAPE '\\')",
            [*patterns, patterns[0]],
            "a.customer_id",
            customer_id,
        )
        contacts, contact_params = _word_contacts(word, customer_id=customer_id)
        statements.append(
            (
                f"SELECT * FROM ({own}) o UNION "
                f"SELECT c.account_id FROM campaigns_contact c WHERE c.id IN ({contacts})",
                [*own_params, *contact_params],
            )
        )
    sql = " INTERSECT ".join(f"SELECT * FROM ({s}) w{i}" for i, (s, _) in enumerate(statements))
    params = [p for _, ps in statements for p in ps]
    return _ids(sql, params, also_id=typed_id(term))


def phone_numbers_found(term: str, *, customer_id: int | None = None) -> Q:
    """Return the condition that keeps the phone numbers ``term`` finds: the number itself in any writing, an
    E.164 prefix ("+1202"), or else the numbers of the contacts it finds by name, account or email."""
    if not search_words(term):
        return Q()
    stripped = term.strip()
    numbers = phone_numbers_typed(term, customer_id=customer_id)
    if numbers or (stripped.startswith("+") and stripped[1:].isdigit()):
        marks = ", ".join(["%s"] * len(numbers)) or "NULL"
        sql = f"SELECT p.id FROM campaigns_phonenumber p WHERE p.e164 IN ({marks})"
        params: list = list(numbers)
        if stripped.startswith("+") and stripped[1:].isdigit():
            sql += " OR p.e164 LIKE %s"
            params.append(f"{stripped}%")
        return _ids(sql, params, also_id=None)
    holds = _phone_row_holds(term, "recent", customer_id=customer_id)
    if _is_broad(holds, customer_id=customer_id, table="campaigns_phonenumber"):
        # A broad search: the list walks its own order (the E.164 index) and checks each number's contacts.
        sql, holds_params = _phone_row_holds(term, '"campaigns_phonenumber"', customer_id=customer_id)
        return Q(RawSQL(sql, holds_params, output_field=BooleanField()))
    contacts, params, _ = _contact_ids(term, customer_id=customer_id)
    sql = f"SELECT cp.phone_id FROM campaigns_contactphone cp WHERE cp.contact_id IN ({contacts})"
    return _ids(sql, list(params), also_id=None)

"""Reads over suppression lists, including the live check the pull and the dial check make.

Live safety: an entry is in force the moment it commits, before its rematch has made any block. The
live check skips a match of an entry that already has a block (active or lifted) with the entry as
evidence on the target that way of matching blocks — the contact for a number, an email or an email
domain, the account for its website: an active one is reported as a block already, and a lifted one is
an exception ops made for that target, which the live check must respect just as the rematch does. An
exception on the account never covers a contact's own email, nor one on the contact its account's website.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import CharField, Exists, Func, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Concat
from django.utils import timezone

from campaigns.models import Block, Contact, ContactEmail, ContactPhone, Customer, Lead
from campaigns.selectors.explaining import CUSTOMER, OPS, Reason
from leadops.db import prepared_cursor
from leadops.normalizing import format_phone
from suppressions.models import PENDING_STATUSES, Entry, Upload


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


def _entry_ct_id() -> int:
    return ContentType.objects.get_for_model(Entry).pk


def _unblocked(entries: QuerySet[Entry], *, target: str, column: str, ref) -> QuerySet[Entry]:
    """Keep the entries with no suppression block on that target having the entry as evidence."""
    return entries.filter(
        ~Exists(
            Block.objects.filter(
                evidence_type_id=_entry_ct_id(),
                evidence_id=OuterRef("pk"),
                source=Block.Source.SUPPRESSION,
                target=target,
                **{column: ref},
            )
        )
    )


def _outer(name: str, depth: int):
    ref = OuterRef(name)
    for _ in range(depth - 1):
        ref = OuterRef(ref)
    return ref


def _matching_entries(*, lead: Callable[[str, int], object]) -> list[QuerySet[Entry]]:
    """Return one Entry queryset per way an active entry can match a lead's contact or its account.

    ``lead(field, depth)`` returns the lead's ``customer_id`` or ``contact_id`` as seen from a query
    ``depth`` levels below the lead's own: a value, or a nested ``OuterRef``.
    """
    active = Entry.objects.filter(customer_id=lead("customer_id", 1), removed_at__isnull=True)
    phones = ContactPhone.objects.filter(contact_id=lead("contact_id", 2))
    emails = ContactEmail.objects.filter(contact_id=lead("contact_id", 2))
    by_phone = active.filter(kind=Entry.Kind.PHONE, value__in=phones.values("phone__e164"))
    by_email = active.filter(kind=Entry.Kind.EMAIL, value__in=emails.values("email"))
    by_email_domain = active.filter(_domain_matches(emails, "domain"), kind=Entry.Kind.DOMAIN)
    by_website = active.filter(
        _domain_matches(
            Contact.objects.filter(pk=lead("contact_id", 2)).exclude(account__domain=""), "account__domain"
        ),
        kind=Entry.Kind.DOMAIN,
    )
    contact_ref = lead("contact_id", 2)
    account_ref = Subquery(Contact.objects.filter(pk=lead("contact_id", 3)).order_by().values("account_id")[:1])
    return [
        _unblocked(by_phone, target=Block.Target.CONTACT, column="contact_id", ref=contact_ref),
        _unblocked(by_email, target=Block.Target.CONTACT, column="contact_id", ref=contact_ref),
        _unblocked(by_email_domain, target=Block.Target.CONTACT, column="contact_id", ref=contact_ref),
        _unblocked(by_website, target=Block.Target.ACCOUNT, column="account_id", ref=account_ref),
    ]


_LEAD_FIELDS = {"customer_id": "customer_id", "contact_id": "contact_id"}


def active_suppression_exists() -> Exists:
    """Return an ``Exists`` over ``Lead`` rows: an active entry of the lead's customer matches its contact.

    Use it as ``Lead.objects.filter(~active_suppression_exists())``: the live counterpart of suppression
    blocks, true from the moment an entry commits until its rematch has blocked the contact (and false
    again for a contact ops excepted by lifting that entry's block).
    """
    parts = _matching_entries(lead=lambda field, depth: _outer(_LEAD_FIELDS[field], depth))
    ids = [part.values("pk") for part in parts]
    return Exists(ids[0].union(*ids[1:], all=True))


# The dial check's live look-up, written by hand: it runs before every call, and building the equivalent
# ORM union costs more than the database does. Same rule as ``_matching_entries``: an active entry of the
# customer matching the contact's numbers (or the dialled one), emails or email domains, or its account's
# website (a domain covers its subdomains), that has no suppression block (active or lifted) for it on the
# target that way of matching blocks: the contact for a number, an email or an email domain, the account for
# the website (``suppressions.services.matching`` makes the blocks the same way). A block lifted on the
# account is an exception for its website only, never for a contact's own email, and the other way round.
# It reads its lead from a relation named ``subject`` (columns ``customer_id``, ``contact_id``,
# ``account_id``) that the statement around it defines.
#
# The lead's few values are listed first, each with the target it blocks, and each is looked up, by a
# subquery of its own, in the active-entry index on (customer, kind, value), whatever the planner estimates:
# a customer's list may hold millions of entries, and scanning them costs seconds.
_LIVE_SQL = """
SELECT probe.entry_id AS id FROM (
    SELECT (
        SELECT e.id FROM suppressions_entry e
        WHERE e.customer_id = subject.customer_id AND e.kind = wanted.kind AND e.value = wanted.value
          AND e.removed_at IS NULL
    ) AS entry_id, wanted.target
    FROM (
        SELECT 'phone' AS kind, CAST(%(number)s AS varchar) AS value, 'contact' AS target
        UNION SELECT 'phone', p.e164, 'contact'
            FROM subject JOIN campaigns_contactphone cp ON cp.contact_id = subject.contact_id
            JOIN campaigns_phonenumber p ON p.id = cp.phone_id
        UNION SELECT 'email', ce.email, 'contact'
            FROM subject JOIN campaigns_contactemail ce ON ce.contact_id = subject.contact_id
        UNION SELECT 'domain', suffix, target FROM ({domain_suffixes}) suffixes
    ) wanted CROSS JOIN subject
) probe CROSS JOIN subject
WHERE probe.entry_id IS NOT NULL
  AND NOT EXISTS (
        SELECT 1 FROM campaigns_block b
        WHERE b.evidence_type_id = %(entry_type)s AND b.evidence_id = probe.entry_id AND b.source = 'suppression'
          AND b.target = probe.target
          AND ((probe.target = 'contact' AND b.contact_id = subject.contact_id)
               OR (probe.target = 'account' AND b.account_id = subject.account_id)))
"""
# Every domain of the contact's emails (blocking the contact) and of its account's website (blocking the
# account), with each parent domain but the TLD.
_DOMAINS = """
SELECT 'contact' AS target, ce.domain FROM subject JOIN campaigns_contactemail ce ON ce.contact_id = subject.contact_id
UNION SELECT 'account', a.domain FROM subject JOIN campaigns_account a ON a.id = subject.account_id WHERE a.domain <> ''
"""
_DOMAIN_SUFFIXES = {
    "postgresql": f"SELECT d.target, unnest(suppressions_domain_suffixes(d.domain)) AS suffix FROM ({_DOMAINS}) d",
    # The embedded SQLite demo has no suffix function: the same suffixes, by a recursive query.
    "sqlite": f"""WITH RECURSIVE suffix(target, suffix) AS (
        {_DOMAINS}
        UNION SELECT target, substr(suffix, instr(suffix, '.') + 1) FROM suffix
        WHERE instr(substr(suffix, instr(suffix, '.') + 1), '.') > 0
    ) SELECT target, suffix FROM suffix""",
}
# The live look-up for one lead given by its ids, on its own.
_LIVE_FOR_LEAD_SQL = """
WITH subject AS (
    SELECT CAST(%(customer)s AS bigint) AS customer_id, CAST(%(contact)s AS bigint) AS contact_id,
           CAST(%(account)s AS bigint) AS account_id
)
{live} ORDER BY id
"""


def live_entries_sql() -> str:
    """Return the live look-up as SQL selecting entry ids of the lead in the relation ``subject``, with the
    named parameters ``number`` (the dialled number, or NULL) and ``entry_type`` (``live_entries_params``)."""
    return _LIVE_SQL.format(domain_suffixes=_DOMAIN_SUFFIXES.get(connection.vendor, _DOMAIN_SUFFIXES["sqlite"]))


def live_entries_params(phone_e164: str | None) -> dict[str, object]:
    return {"number": phone_e164, "entry_type": _entry_ct_id()}


def live_suppression_reasons(*, lead: Lead, phone_e164: str | None = None, audience: str = OPS) -> list[Reason]:
    """Return a reason for each active entry that matches ``lead`` (or ``phone_e164``) and has no block yet.

    One hand-written query (and one more to word the entries, only when there are some); a match that
    already made a block on its target (active, or lifted as an exception) is left to that block.
    """
    params = {
        **live_entries_params(phone_e164),
        "customer": lead.customer_id,
        "contact": lead.contact_id,
        "account": lead.contact.account_id,
    }
    with prepared_cursor() as cursor:
        cursor.execute(_LIVE_FOR_LEAD_SQL.format(live=live_entries_sql()), params)
        # An entry matching two ways (an email domain that is also the website) comes back once per way.
        ids = sorted({row[0] for row in cursor.fetchall()})
    return entry_reasons(ids, audience=audience)


def entry_reasons(ids: list[int], *, audience: str = OPS) -> list[Reason]:
    """Return the reason sentence of each of these entries, in id order (no query when there are none)."""
    if not ids:
        return []
    entries = Entry.objects.filter(pk__in=ids).select_related("upload", "customer").order_by("pk")
    return [Reason(code="suppression_entry", message=entry_sentence(entry, audience=audience)) for entry in entries]


def entry_sentence(entry: Entry, *, audience: str = OPS) -> str:
    """Return one sentence saying which list, upload and line stop the lead, and how that ends; for
    ``audience=CUSTOMER`` the list is "your" list and the way out is the customer's own."""
    value = format_phone(entry.value) if entry.kind == Entry.Kind.PHONE else entry.value
    source = f"upload {entry.upload.original_name}, line {entry.line}" if entry.upload_id else f"entry #{entry.pk}"
    when = timezone.localtime(entry.created_at).strftime("%Y-%m-%d")
    if audience == CUSTOMER:
        source = source if entry.upload_id else "added by hand"
        return (
            f"{value} is on your suppression list ({source}, added {when}): "
            "remove the entry from your list if it should be called again."
        )
    return (
        f"{value} is on {entry.customer}'s suppression list ({source}, added {when}): "
        "the customer removes the entry from its list, or, once matching has run, ops lift it for this "
        "contact as an exception (Undisqualify)."
    )


def _visible_to(user, rows: QuerySet) -> QuerySet:
    """Keep the ``rows`` ``user`` may see: every customer's for agency staff, its own for a customer user,
    none for anyone else."""
    if getattr(user, "customer_id", None):
        return rows.filter(customer_id=user.customer_id)
    if getattr(user, "is_staff", False):
        return rows
    return rows.none()


def entries_visible_to(user) -> QuerySet[Entry]:
    """Return the suppression entries ``user`` may see."""
    return _visible_to(user, Entry.objects.select_related("customer", "upload"))


def uploads_visible_to(user) -> QuerySet[Upload]:
    """Return the suppression uploads ``user`` may see."""
    return _visible_to(user, Upload.objects.select_related("customer", "uploaded_by"))


@dataclass(frozen=True)
class PreviewRow:
    line: int
    column: str
    raw: str
    kind: str
    value: str
    outcome: str  # "accepted", "duplicate" or "rejected"
    reason: str


@dataclass(frozen=True)
class UploadPreview:
    """What an upload would do, from the first values of its file: shown before ops confirm it."""

    has_header: bool
    columns: list[tuple[str, str]]  # (column, what it is read as)
    rows: list[PreviewRow]
    sample_size: int
    accepted: int
    duplicate: int
    rejected: int


def upload_preview(
    *,
    customer: Customer,
    path: str,
    filename: str,
    column_mapping: dict[str, str] | None = None,
    allow_broad_domains: bool = False,
    show: int = 20,
    sample: int = 1_000,
) -> UploadPreview:
    """Read the first ``sample`` values of the file and say what would become of each (nothing is written).

    Duplicates are counted against the sample itself and the customer's active list. Raise
    ``LeadopsError`` (``UnreadableFile``) when the file cannot be read.
    """
    from suppressions.reading import AREA_CODE
    from suppressions.services.pipeline import read_values

    plan, values = read_values(
        path,
        filename=filename,
        region=customer.phone_region,
        allow_broad_domains=allow_broad_domains,
        columns=column_mapping,
    )
    taken = list(islice(values, sample))
    close = getattr(values, "close", None)
    if close is not None:
        close()
    valid = {(item.kind, item.value) for item in taken if not item.reason}
    on_list: set[tuple[str, str]] = set()
    for kind in {kind for kind, _ in valid}:
        wanted = [value for k, value in valid if k == kind]
        on_list |= {
            (kind, value)
            for value in Entry.objects.active()
            .filter(customer=customer, kind=kind, value__in=wanted)
            .values_list("value", flat=True)
        }
    seen: set[tuple[str, str]] = set()
    rows = []
    for item in taken:
        if item.reason:
            outcome = "rejected"
        elif (item.kind, item.value) in seen or (item.kind, item.value) in on_list:
            outcome = "duplicate"
        else:
            outcome = "accepted"
            seen.add((item.kind, item.value))
        rows.append(PreviewRow(item.line, item.column, item.raw, item.kind, item.value, outcome, item.reason))
    columns = [
        (plan.header[index] if plan.has_header and index < len(plan.header) else f"#{index + 1}", field)
        for index, field in plan.fields.items()
    ]
    if plan.area_code_pair is not None:
        columns.append((f"#{plan.area_code_pair[0] + 1}", AREA_CODE))
    return UploadPreview(
        has_header=plan.has_header,
        columns=columns,
        rows=rows[:show],
        sample_size=len(rows),
        accepted=sum(row.outcome == "accepted" for row in rows),
        duplicate=sum(row.outcome == "duplicate" for row in rows),
        rejected=sum(row.outcome == "rejected" for row in rows),
    )


# --- Uploads not yet in force --------------------------------------------------------------------------
# An upload still queued or being read holds its customer's calls: its entries are not committed, so no live
# check can see them. The dial check's statement probes the partial index ``upload_pending_customer`` (only
# the uploads waiting to be read) for the lead's customer; the pull filters on ``uploads_pending_exist``.
PENDING_CODE = "suppression_upload_pending"


def uploads_pending_exist(customer_id) -> Exists:
    """Return an ``Exists``: the customer (an id or an expression) has an upload not yet in force.

    Uncorrelated with the rows it filters when ``customer_id`` is (the pull's: a subquery on its campaign), so
    PostgreSQL evaluates it once per statement, as a one-time filter over the partial index.
    """
    return Exists(Upload.objects.filter(customer_id=customer_id, status__in=PENDING_STATUSES))


def upload_pending_reasons(
    *, upload_ids: list[int] | None = None, customer_id: int | None = None, audience: str = OPS
) -> list[Reason]:
    """Return the reason that holds a customer's calls (its oldest upload not yet in force), or ``[]``.

    Give the ids the dial check found, or the customer. One query (none for an empty list of ids).
    """
    if upload_ids is not None and not upload_ids:
        return []
    pending = Upload.objects.filter(status__in=PENDING_STATUSES).select_related("customer")
    pending = pending.filter(pk__in=upload_ids) if upload_ids is not None else pending.filter(customer_id=customer_id)
    upload = pending.order_by("created_at", "pk").first()
    return (
        []
        if upload is None
        else [Reason(code=PENDING_CODE, message=upload_pending_sentence(upload, audience=audience))]
    )


def upload_pending_sentence(upload: Upload, *, audience: str = OPS) -> str:
    """Return "a suppression upload received at 14:02 UTC is still being loaded; calls … wait …"."""
    received = timezone.localtime(upload.created_at)
    at = (
        received.strftime("%H:%M %Z")
        if received.date() == timezone.localdate()
        else received.strftime("%Y-%m-%d %H:%M %Z")
    )
    if audience == CUSTOMER:
        return (
            f"Your suppression upload {upload.original_name}, received at {at}, is still being loaded; "
            "calls to your leads wait until it is in force."
        )
    return (
        f"A suppression upload of {upload.customer} ({upload.original_name}), received at {at}, is still being "
        "loaded; calls for this customer wait until it is in force."
    )

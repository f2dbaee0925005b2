"""Reads over suppression lists, including the live check the pull and the dial check make.

Live safety: an entry is in force the moment it commits, before its rematch has made any block. When an
entry matches a lead, and when a match is in force, is ``suppressions.rules``; here it is worded.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns.models import Block, Lead
from campaigns.selectors.explaining import CUSTOMER, OPS, LiveCheck, Reason, date_words, moment_words
from leadops.db import prepared_cursor
from leadops.normalizing import format_phone
from suppressions.models import PENDING_STATUSES, Entry, Upload

# The rule's readers (the pull, tests) may import it from here; the live checks below use it.
from suppressions.rules import (  # noqa: F401
    WAYS,
    active_suppression_exists,
    entry_type_id,
    live_entries_params,
    live_entries_sql,
)

# The live look-up for one lead given by its ids, on its own (``suppressions.rules.live_entries_sql``).
_LIVE_FOR_LEAD_SQL = """
WITH subject AS (
    SELECT CAST(%(customer)s AS bigint) AS customer_id, CAST(%(contact)s AS bigint) AS contact_id,
           CAST(%(account)s AS bigint) AS account_id
)
{live} ORDER BY id
"""


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
    return [
        Reason(code="suppression_entry", message=entry_sentence(entry, audience=audience), entry_id=entry.pk)
        for entry in entries
    ]


def entry_sentence(entry: Entry, *, audience: str = OPS) -> str:
    """Return one sentence saying which list, upload and line stop the lead, and how that ends; for
    ``audience=CUSTOMER`` the list is "your" list and the way out is the customer's own."""
    value = format_phone(entry.value) if entry.kind == Entry.Kind.PHONE else entry.value
    source = f"upload {entry.upload.original_name}, line {entry.line}" if entry.upload_id else f"entry #{entry.pk}"
    when = date_words(entry.created_at)
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
        else f"{moment_words(upload.created_at)} {received:%Z}"
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


# --- What the core's ``explain`` and dial check ask (``SuppressionsConfig.ready`` registers them) ----------


def _live_entries_dial_sql() -> str:
    return f"SELECT 'entry', live.id FROM ({live_entries_sql()}) live"


def _live_entries_of_lead(lead: Lead, *, audience: str) -> list[Reason]:
    return live_suppression_reasons(lead=lead, audience=audience)


# The probe of the partial index ``upload_pending_customer``, which holds only the uploads still queued or
# being read (``PENDING_STATUSES``), for the lead's customer.
def _uploads_pending_dial_sql() -> str:
    statuses = ", ".join(f"'{status}'" for status in PENDING_STATUSES)
    return (
        "SELECT 'pending', u.id\n"
        f"FROM subject JOIN suppressions_upload u ON u.customer_id = subject.customer_id AND u.status IN ({statuses})"
    )


def _uploads_pending_params(e164: str) -> dict[str, object]:
    return {}


def _uploads_pending_by_ids(ids: list[int], *, audience: str) -> list[Reason]:
    return upload_pending_reasons(upload_ids=ids, audience=audience)


def _uploads_pending_of_lead(lead: Lead, *, audience: str) -> list[Reason]:
    return upload_pending_reasons(customer_id=lead.customer_id, audience=audience)


# --- As of a past moment (``explain(..., at=...)``) --------------------------------------------------------


def _domain_and_parents(domain: str) -> list[str]:
    """Return ``a.b.acme.com``, ``b.acme.com``, ``acme.com``: the domain and each parent but the TLD, as
    ``suppressions_domain_suffixes`` does."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def entries_in_force_at(*, lead: Lead, phone_e164: str | None, at: datetime) -> list[int]:
    """Return the ids of the entries that matched ``lead`` (or ``phone_e164``) at the moment ``at`` and had no
    block on their target by then: added at or before it, not removed by then (``suppressions.rules``' rule,
    read from the entries' and blocks' times). The contact's values are read as they are now."""
    owners = {Block.Target.CONTACT: lead.contact_id, Block.Target.ACCOUNT: lead.contact.account_id}
    wanted: set[tuple[str, str, str]] = set()
    if phone_e164 is not None:
        (phone,) = [way for way in WAYS if way.kind == Entry.Kind.PHONE]
        wanted.add((phone.kind, phone_e164, phone.target))
    for way in WAYS:
        rows = way.orm_model.objects.filter(**{way.orm_owner: lead.contact_id}).values_list(way.orm_value, flat=True)
        for value in rows:
            if not value:
                continue
            for each in _domain_and_parents(value) if way.domain else [value]:
                wanted.add((way.kind, each, way.target))
    if not wanted:
        return []
    by_value = Q()
    for kind, value, _ in wanted:
        by_value |= Q(kind=kind, value=value)
    entries = list(
        Entry.objects.filter(by_value, customer_id=lead.customer_id, created_at__lte=at)
        .exclude(removed_at__lte=at)
        .values_list("pk", "kind", "value")
    )
    if not entries:
        return []
    blocked = set(
        Block.objects.filter(
            evidence_type_id=entry_type_id(),
            evidence_id__in=[pk for pk, _, _ in entries],
            source=Block.Source.SUPPRESSION,
            created_at__lte=at,
        )
        .filter(
            Q(target=Block.Target.CONTACT, contact_id=owners[Block.Target.CONTACT])
            | Q(target=Block.Target.ACCOUNT, account_id=owners[Block.Target.ACCOUNT])
        )
        .values_list("evidence_id", "target")
    )
    return sorted(
        {
            pk
            for pk, kind, value in entries
            for k, v, target in wanted
            if (k, v) == (kind, value) and (pk, target) not in blocked
        }
    )


def uploads_pending_at(*, customer_id: int, at: datetime) -> QuerySet[Upload]:
    """Return the customer's uploads that were not yet in force at ``at``: received by then, and still queued
    or being read, or in force only later (their entries committed, ``read_at``, or the upload failed,
    ``finished_at``, after ``at``). An upload that is done without either time (made before they were kept)
    counts as in force from its receipt."""
    return (
        Upload.objects.filter(customer_id=customer_id, created_at__lte=at)
        .alias(in_force_at=Coalesce("read_at", "finished_at"))
        .filter(Q(status__in=PENDING_STATUSES) | Q(in_force_at__gt=at))
        .select_related("customer")
    )


def _entries_at(lead: Lead, phone_e164: str | None, at: datetime, *, audience: str) -> list[Reason]:
    return entry_reasons(entries_in_force_at(lead=lead, phone_e164=phone_e164, at=at), audience=audience)


def _uploads_pending_at(lead: Lead, phone_e164: str | None, at: datetime, *, audience: str) -> list[Reason]:
    upload = uploads_pending_at(customer_id=lead.customer_id, at=at).order_by("created_at", "pk").first()
    if upload is None:
        return []
    return [Reason(code=PENDING_CODE, message=upload_pending_sentence(upload, audience=audience))]


# An active entry that matches the lead (or the dialled number) and has no block yet: in force at once.
LIVE_ENTRIES = LiveCheck(
    kind="entry",
    dial_sql=_live_entries_dial_sql,
    dial_params=live_entries_params,
    reasons=entry_reasons,
    lead_reasons=_live_entries_of_lead,
    reasons_at=_entries_at,
)
# An upload of the lead's customer not yet in force: every call waits until it is read.
UPLOADS_PENDING = LiveCheck(
    kind="pending",
    dial_sql=_uploads_pending_dial_sql,
    dial_params=_uploads_pending_params,
    reasons=_uploads_pending_by_ids,
    lead_reasons=_uploads_pending_of_lead,
    reasons_at=_uploads_pending_at,
)


# --- What an upload did: one measure in the admin and the portal -----------------------------------------


def upload_blocks(upload: Upload) -> QuerySet[Block]:
    """Return the active blocks the upload's entries make (suppression blocks with one of them as evidence)."""
    return Block.objects.active().filter(
        source=Block.Source.SUPPRESSION,
        evidence_type=ContentType.objects.get_for_model(Entry),
        evidence_id__in=Entry.objects.filter(upload=upload).values("pk"),
    )


def leads_out_by_upload(upload: Upload) -> QuerySet[Lead]:
    """Return the upload's customer's leads those blocks stop: the leads that left the pool because of it."""
    blocks = upload_blocks(upload)
    return Lead.objects.filter(customer_id=upload.customer_id).filter(
        Q(contact_id__in=blocks.filter(target=Block.Target.CONTACT).values("contact_id"))
        | Q(contact__account_id__in=blocks.filter(target=Block.Target.ACCOUNT).values("account_id"))
    )

"""Junk: judge contacts added one at a time as an import judges its rows, and purge what is junk and nothing else.

"You should delete junk leads": a purge deletes imported junk rows (the cells an import kept out of the pool)
and the contacts judged junk, with their leads, that have no history: no call, meeting, opportunity, import
record or block of any kind on them or their leads (blocks are never deleted, so a contact with one is never
purged). Each purge is one transaction of a fixed number of statements and writes a ``PurgeLog``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from campaigns.imports import junk
from campaigns.imports.models import ContactJunk, ImportedLead, LeadImportIssue, PurgeLog
from campaigns.models import Block, Call, Campaign, Contact, ContactEmail, Customer, Lead, Meeting, Opportunity
from campaigns.services.actors import Actor, actor_fields
from leadops.db import ids_query


def contacts_junk_judge(*, customer: Customer, contact_ids: list[int], campaign: Campaign | None = None) -> None:
    """Judge ``contact_ids`` by the import's junk rules (``junk.judge``: no number to dial and no usable email
    or a name that is not a name) and record or clear each one's ``ContactJunk``.

    A scrub step (``ImportsConfig.ready``): ``contact_create`` and the other services that add people run it.
    Contacts with a number are never junk, so for them it is one DELETE of stale judgements; phoneless ones
    add a read of their names and emails and one INSERT. A repeat changes nothing.
    """
    phoneless = list(
        Contact.objects.filter(pk__in=ids_query(contact_ids), customer_id=customer.pk, phones__isnull=True).values_list(
            "pk", "first_name", "last_name"
        )
    )
    verdicts: dict[int, junk.Verdict] = {}
    if phoneless:
        emails: dict[int, list[str]] = {}
        for contact_id, email in ContactEmail.objects.filter(contact_id__in=[pk for pk, *_ in phoneless]).values_list(
            "contact_id", "email"
        ):
            emails.setdefault(contact_id, []).append(email)
        for pk, first, last in phoneless:
            verdict, _ = junk.judge(name=f"{first} {last}".strip(), valid_phones=0, emails=emails.get(pk, []))
            if verdict.is_junk:
                verdicts[pk] = verdict
    ContactJunk.objects.filter(contact_id__in=ids_query(contact_ids)).exclude(contact_id__in=list(verdicts)).delete()
    if verdicts:
        ContactJunk.objects.bulk_create(
            [ContactJunk(contact_id=pk, rules=",".join(v.problems)) for pk, v in verdicts.items()],
            ignore_conflicts=True,
        )


def _purgeable_contacts() -> QuerySet[Contact]:
    """Contacts judged junk with no history on them or their leads (what a purge deletes)."""
    contact = OuterRef("pk")
    return Contact.objects.filter(junk__isnull=False).exclude(
        Exists(Block.objects.filter(contact=contact))
        | Exists(Block.objects.filter(lead__contact=contact))
        | Exists(Call.objects.filter(lead__contact=contact))
        | Exists(Meeting.objects.filter(lead__contact=contact))
        | Exists(Opportunity.objects.filter(contact=contact))
        | Exists(ImportedLead.objects.filter(lead__contact=contact))
    )


def _junk_rows() -> QuerySet[LeadImportIssue]:
    return LeadImportIssue.objects.filter(kind=LeadImportIssue.Kind.JUNK)


@dataclass(frozen=True)
class PurgeCounts:
    """How many of each a purge deletes (the preview) or deleted."""

    junk_rows: int
    contacts: int
    leads: int

    @property
    def nothing(self) -> bool:
        return not (self.junk_rows or self.contacts or self.leads)


def junk_purge_preview() -> PurgeCounts:
    """Return how many junk rows, contacts and leads a purge would delete now (the confirmation page's counts)."""
    contacts = _purgeable_contacts()
    return PurgeCounts(
        junk_rows=_junk_rows().count(),
        contacts=contacts.count(),
        leads=Lead.objects.filter(contact__in=contacts).count(),
    )


def junk_purge(*, actor: Actor) -> PurgeLog:
    """Delete the imported junk rows and the contacts judged junk (with their leads) that have no history;
    return the ``PurgeLog`` saying who, when and how many of each.

    Nothing with history is deleted: a contact with a call, a meeting, an opportunity, an import record or any
    block (active or lifted) on it or its leads stays. All or nothing, in a fixed number of statements
    whatever the number of rows. A repeat finds nothing and logs a purge of zero.
    """
    with transaction.atomic():
        ids = list(_purgeable_contacts().select_for_update(of=("self",)).values_list("pk", flat=True))
        junk_rows, _ = _junk_rows().delete()
        leads = Lead.objects.filter(contact_id__in=ids_query(ids))
        lead_count = leads.count()
        leads.delete()
        Contact.objects.filter(pk__in=ids_query(ids)).delete()
        log = PurgeLog(
            at=timezone.now(),
            junk_rows=junk_rows,
            contacts=len(ids),
            leads=lead_count,
            **actor_fields(actor, user_field="actor", job_field="actor_job"),
        )
        log.full_clean()
        log.save()
    return log

"""A dossier per number and per contact: the record a compliance officer hands to a lawyer.

For a phone number (or a contact): every block and lift (who, when, source, reach, evidence: the upload's
name, SHA-256 and line, the call, the CRM record in words), every suppression entry that matched, every verdict
the dialer was given (``campaigns.models.Verdict``) and every call with its disposition, across every customer
the viewer may see. A read: nothing here writes.

It lives here, above the core, because it reads suppression entries and uploads; the back office and the
portal both read it. Who reads it is a ``Viewer``: the agency's staff (``viewer_for_user``: ops everything, an
approved caller their campaigns' leads, worded for them) or a customer (``viewer_for_customer``: its own leads,
entries and calls; platform-wide blocks only as "on the agency's Do-Not-Call list"; never an agency note, a
lift's reason or a staff name).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils import timezone

from campaigns.models import Block, Call, Contact, ContactEmail, ContactPhone, Customer, Lead, User, Verdict
from campaigns.rules import In, block_reach_covers
from campaigns.selectors.explaining import CUSTOMER, Audience, CallerAudience, block_sentence
from campaigns.selectors.scope import audience_for, blocks_visible_to, customers_visible_to, leads_visible_to
from leadops.normalizing import format_phone
from suppressions.models import Entry, RegistryLoad, RegistryNumber, Upload, registry_name


@dataclass(frozen=True)
class Viewer:
    """Who reads a dossier: what they may see and how it is worded for them."""

    audience: Audience
    blocks: QuerySet[Block]
    leads: QuerySet[Lead]
    customers: QuerySet[Customer]

    @property
    def is_customer(self) -> bool:
        return self.audience == CUSTOMER


def viewer_for_user(user: User) -> Viewer:
    """Return the agency user's viewer: ops see every customer, an approved caller their campaigns' rows."""
    return Viewer(
        audience=audience_for(user),
        blocks=blocks_visible_to(user),
        leads=leads_visible_to(user),
        customers=customers_visible_to(user),
    )


def viewer_for_customer(customer: Customer) -> Viewer:
    """Return a customer's viewer: the blocks that reach its leads, its own leads, entries and calls."""
    return Viewer(
        audience=CUSTOMER,
        blocks=Block.objects.filter(
            block_reach_covers(customer_ref=customer.pk, campaign_ref=In(customer.campaigns.values("pk")))
        ),
        leads=Lead.objects.filter(customer_id=customer.pk),
        customers=Customer.objects.filter(pk=customer.pk),
    )


def _moment(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


class _Files:
    """The SHA-256 of each upload's stored file, read once per dossier."""

    def __init__(self) -> None:
        self._digests: dict[int, str | None] = {}

    def sha256(self, upload: Upload) -> str | None:
        if upload.pk not in self._digests:
            try:
                with upload.file.open("rb") as stored:
                    self._digests[upload.pk] = hashlib.file_digest(stored, "sha256").hexdigest()
            except (FileNotFoundError, ValueError):
                self._digests[upload.pk] = None  # the file is no longer stored: said so in the dossier
        return self._digests[upload.pk]


def _upload_record(upload: Upload | None, line: int | None, files: _Files) -> dict[str, Any] | None:
    if upload is None:
        return None
    digest = files.sha256(upload)
    return {
        "upload_id": upload.pk,
        "file_name": upload.original_name,
        "sha256": digest,
        "file_stored": digest is not None,
        "line": line,
        "received_at": _moment(upload.created_at),
    }


def _evidence(block: Block, viewer: Viewer, entries: dict[int, Entry], calls: dict[int, Call], files: _Files):
    if viewer.is_customer and block.reach == Block.Reach.PLATFORM:
        return None  # it may come from another customer's campaign: its evidence is none of this customer's
    if block.evidence_type_id is None:
        return {"kind": "words", "text": block.evidence_text} if block.evidence_text else None
    model = ContentType.objects.get_for_id(block.evidence_type_id).model_class()
    if model is Entry and block.evidence_id in entries:
        entry = entries[block.evidence_id]
        return {
            "kind": "suppression entry",
            "entry_id": entry.pk,
            "value": entry.value,
            "upload": _upload_record(entry.upload, entry.line, files),
        }
    if model is Call and block.evidence_id in calls:
        call = calls[block.evidence_id]
        return {
            "kind": "call",
            "call_id": call.pk,
            "at": _moment(call.created_at),
            "disposition": call.disposition.label,
        }
    return {
        "kind": model._meta.verbose_name if model else "record",
        "id": block.evidence_id,
        "text": block.evidence_text,
    }


def _who(block: Block) -> str:
    return block.actor.get_username() if block.actor_id else f"the {block.actor_job} job"


def _lifter(block: Block) -> str:
    return block.lifted_by.get_username() if block.lifted_by_id else f"the {block.lifted_by_job} job"


def _blocks(blocks: QuerySet[Block], viewer: Viewer, files: _Files) -> list[dict[str, Any]]:
    rows = list(
        blocks.filter(pk__in=viewer.blocks.values("pk")).select_related(
            "lead__contact",
            "lead__campaign",
            "contact",
            "account",
            "phone",
            "customer",
            "campaign",
            "actor",
            "lifted_by",
            "caller_campaign",
        )
    )
    entry_type, call_type = ContentType.objects.get_for_model(Entry), ContentType.objects.get_for_model(Call)
    entries = Entry.objects.filter(pk__in=[b.evidence_id for b in rows if b.evidence_type_id == entry_type.pk])
    calls = Call.objects.filter(pk__in=[b.evidence_id for b in rows if b.evidence_type_id == call_type.pk])
    entries_by_id = {e.pk: e for e in entries.select_related("upload")}
    calls_by_id = {c.pk: c for c in calls.select_related("disposition")}
    found = []
    for block in sorted(rows, key=lambda b: (b.created_at, b.pk)):
        # An approved caller reads, of a block made outside their campaigns, what the sentence says: not its note,
        # its evidence or who made it (``CallerAudience``).
        own_words = not isinstance(viewer.audience, CallerAudience) or viewer.audience.made_within(block)
        record: dict[str, Any] = {
            "block_id": block.pk,
            "made_at": _moment(block.created_at),
            "sentence": block_sentence(block, audience=viewer.audience),
            "source": block.get_source_display(),
            "reach": block.get_reach_display(),
            "target": block.get_target_display(),
            "evidence": _evidence(block, viewer, entries_by_id, calls_by_id, files) if own_words else None,
            "lifted_at": _moment(block.lifted_at),
        }
        if not viewer.is_customer and own_words:
            record["made_by"] = _who(block)
            record["note"] = block.note
            if block.lifted_at is not None:
                record["lifted_by"] = _lifter(block)
                record["lift_reason"] = block.lift_reason
        found.append(record)
    return found


def _entries(entries: QuerySet[Entry], viewer: Viewer, files: _Files) -> list[dict[str, Any]]:
    found = []
    for entry in entries.filter(customer_id__in=viewer.customers.values("pk")).select_related("upload", "customer"):
        record: dict[str, Any] = {
            "entry_id": entry.pk,
            "customer": entry.customer.name,
            "kind": entry.get_kind_display(),
            "value": entry.value,
            "added_at": _moment(entry.created_at),
            "upload": _upload_record(entry.upload, entry.line, files),
            "removed_at": _moment(entry.removed_at),
        }
        if not viewer.is_customer and entry.removed_at is not None:
            record["remove_reason"] = entry.remove_reason
        found.append(record)
    return sorted(found, key=lambda r: (r["added_at"], r["entry_id"]))


def _verdicts(verdicts: QuerySet[Verdict], viewer: Viewer) -> list[dict[str, Any]]:
    rows = verdicts.filter(lead_id__in=viewer.leads.values("pk")).order_by("at", "id")
    found = []
    for verdict in rows.select_related("api_key", "caller"):
        record: dict[str, Any] = {
            "verdict_id": verdict.pk,
            "at": _moment(verdict.at),
            "kind": verdict.get_kind_display(),
            "lead_id": verdict.lead_id,
            "number": verdict.number,
            "allowed": verdict.allowed,
            "reasons": verdict.reasons,
        }
        if not viewer.is_customer:
            record["api_key"] = str(verdict.api_key.prefix) if verdict.api_key_id else None
            record["caller"] = verdict.caller.get_username() if verdict.caller_id else None
        found.append(record)
    return found


def _calls(calls: QuerySet[Call], viewer: Viewer) -> list[dict[str, Any]]:
    rows = calls.filter(lead_id__in=viewer.leads.values("pk")).select_related("disposition", "phone", "caller")
    found = []
    for call in rows.order_by("created_at", "pk"):
        record: dict[str, Any] = {
            "call_id": call.pk,
            "at": _moment(call.created_at),
            "lead_id": call.lead_id,
            "number": call.phone.e164 if call.phone_id else None,
            "disposition": call.disposition.label,
            "effect": call.disposition.get_effect_display(),
        }
        if not viewer.is_customer:
            record["caller"] = call.caller.get_username()
            record["notes"] = call.notes
        found.append(record)
    return found


def _load_record(load: RegistryLoad, viewer: Viewer) -> dict[str, Any]:
    record: dict[str, Any] = {
        "load_id": load.pk,
        "registry": load.registry,
        "name": registry_name(load.registry),
        "kind": load.get_kind_display(),
        "loaded_at": _moment(load.loaded_at),
        "files": load.files,
        "added": load.added,
        "removed": load.removed,
        "total": load.total,
    }
    if not viewer.is_customer:
        record["loaded_by"] = load.loaded_by.get_username() if load.loaded_by_id else load.loaded_by_job
    return record


def _registry_listings(e164s: list[str]) -> list[dict[str, Any]]:
    """Each time a registry listed one of these numbers: from which load until which load."""
    rows = RegistryNumber.objects.filter(e164__in=e164s).select_related("added_load", "removed_load")
    return [
        {
            "registry": row.registry,
            "name": registry_name(row.registry),
            "number": row.e164,
            "listed_at": _moment(row.added_load.loaded_at),
            "listed_by_load": row.added_load_id,
            "removed_at": _moment(row.removed_load.loaded_at) if row.removed_load_id else None,
            "removed_by_load": row.removed_load_id,
        }
        for row in sorted(rows, key=lambda r: (r.added_load.loaded_at, r.pk))
    ]


def _registry_versions(verdicts: list[dict[str, Any]], moments: list[datetime], viewer: Viewer) -> list[dict]:
    """Return the registry loads in force at each verdict's moment (each verdict gets their ids as
    ``registry_load_ids``) and now, oldest first."""
    loads = list(RegistryLoad.objects.select_related("loaded_by").order_by("loaded_at", "id"))
    used: dict[int, RegistryLoad] = {}

    def in_force(at: datetime) -> list[int]:
        newest: dict[str, RegistryLoad] = {}
        for load in loads:
            if load.loaded_at > at:
                break
            newest[load.registry] = load
        used.update((load.pk, load) for load in newest.values())
        return sorted(load.pk for load in newest.values())

    for verdict, at in zip(verdicts, moments, strict=True):
        verdict["registry_load_ids"] = in_force(at)
    in_force(timezone.now())
    return [_load_record(load, viewer) for load in sorted(used.values(), key=lambda load: (load.loaded_at, load.pk))]


def _with_registries(dossier: dict[str, Any], e164s: list[str], verdicts: QuerySet, viewer: Viewer) -> dict:
    moments = list(
        verdicts.filter(lead_id__in=viewer.leads.values("pk")).order_by("at", "id").values_list("at", flat=True)
    )
    dossier["registry_listings"] = _registry_listings(e164s)
    dossier["registry_versions"] = _registry_versions(dossier["verdicts"], moments, viewer)
    return dossier


def _parents(domain: str) -> list[str]:
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def number_dossier(e164: str, *, viewer: Viewer) -> dict[str, Any]:
    """Return the dossier of the number ``e164`` (JSON-ready): its blocks and lifts, the suppression entries of
    it, the verdicts and the calls, as ``viewer`` may see them, oldest first."""
    files = _Files()
    holders = Contact.objects.filter(phones__phone__e164=e164, leads__in=viewer.leads).distinct().order_by("pk")
    verdicts = Verdict.objects.filter(number=e164)
    dossier = {
        "subject": {
            "number": e164,
            "written": format_phone(e164),
            "contacts": [{"contact_id": c.pk, "name": str(c)} for c in holders],
        },
        "generated_at": _moment(timezone.now()),
        "blocks": _blocks(Block.objects.filter(phone__e164=e164), viewer, files),
        "suppression_entries": _entries(Entry.objects.filter(kind=Entry.Kind.PHONE, value=e164), viewer, files),
        "verdicts": _verdicts(verdicts, viewer),
        "calls": _calls(Call.objects.filter(phone__e164=e164), viewer),
    }
    return _with_registries(dossier, [e164], verdicts, viewer)


def contact_dossier(contact: Contact, *, viewer: Viewer) -> dict[str, Any]:
    """Return the dossier of ``contact`` (JSON-ready): the blocks on it, its leads, its account and its numbers,
    with their lifts; the suppression entries of its numbers, emails and domains; the verdicts and calls of its
    leads, as ``viewer`` may see them, oldest first."""
    files = _Files()
    leads = Lead.objects.filter(contact_id=contact.pk)
    phones = list(ContactPhone.objects.filter(contact_id=contact.pk).values_list("phone_id", "phone__e164"))
    emails = list(ContactEmail.objects.filter(contact_id=contact.pk).values_list("email", "domain"))
    domains = {p for _, domain in emails for p in _parents(domain)}
    if contact.account.domain:
        domains.update(_parents(contact.account.domain))
    blocks = Block.objects.filter(
        Q(lead__in=leads)
        | Q(contact_id=contact.pk)
        | Q(account_id=contact.account_id)
        | Q(target=Block.Target.PHONE, phone_id__in=[pk for pk, _ in phones])
    )
    entries = Entry.objects.filter(customer_id=contact.customer_id).filter(
        Q(kind=Entry.Kind.PHONE, value__in=[e164 for _, e164 in phones])
        | Q(kind=Entry.Kind.EMAIL, value__in=[email for email, _ in emails])
        | Q(kind=Entry.Kind.DOMAIN, value__in=domains)
    )
    verdicts = Verdict.objects.filter(lead_id__in=leads.values("pk"))
    dossier = {
        "subject": {
            "contact_id": contact.pk,
            "name": str(contact),
            "account": contact.account.name,
            "numbers": [e164 for _, e164 in phones],
            "emails": [email for email, _ in emails],
        },
        "generated_at": _moment(timezone.now()),
        "blocks": _blocks(blocks, viewer, files),
        "suppression_entries": _entries(entries, viewer, files),
        "verdicts": _verdicts(verdicts, viewer),
        "calls": _calls(Call.objects.filter(lead__in=leads), viewer),
    }
    return _with_registries(dossier, [e164 for _, e164 in phones], verdicts, viewer)


DOSSIER_CSV_HEADER = ["section", "at", "id", "what", "details"]


def dossier_rows(dossier: dict[str, Any]):
    """Yield the dossier as CSV rows (``DOSSIER_CSV_HEADER``), one per event, in each section's order."""
    for block in dossier["blocks"]:
        evidence = block["evidence"] or {}
        upload = evidence.get("upload") or {}
        details = "; ".join(
            part
            for part in (
                f"{block['source']}, {block['reach']}, on the {block['target']}",
                f"by {block['made_by']}" if "made_by" in block else "",
                f"upload {upload.get('file_name')} line {upload.get('line')} sha256 {upload.get('sha256')}"
                if upload
                else "",
                f"call #{evidence['call_id']} ({evidence['disposition']})" if evidence.get("kind") == "call" else "",
            )
            if part
        )
        yield ["block", block["made_at"], block["block_id"], block["sentence"], details]
        if block["lifted_at"]:
            lift = f"by {block['lifted_by']}: {block['lift_reason']}" if "lifted_by" in block else ""
            yield ["lift", block["lifted_at"], block["block_id"], "Lifted", lift]
    for entry in dossier["suppression_entries"]:
        upload = entry["upload"] or {}
        source = (
            f"upload {upload['file_name']} line {upload['line']} sha256 {upload['sha256']}" if upload else "by hand"
        )
        yield ["suppression entry", entry["added_at"], entry["entry_id"], f"{entry['kind']} {entry['value']}", source]
        if entry["removed_at"]:
            yield ["entry removed", entry["removed_at"], entry["entry_id"], "Removed", entry.get("remove_reason", "")]
    for verdict in dossier["verdicts"]:
        answer = "allowed" if verdict["allowed"] else "refused"
        codes = ", ".join(
            r["code"]
            + (f" (block {r['block_id']})" if r.get("block_id") else "")
            + (f" (entry {r['entry_id']})" if r.get("entry_id") else "")
            for r in verdict["reasons"]
        )
        if verdict.get("registry_load_ids"):
            codes += f"; registry loads in force #{', #'.join(map(str, verdict['registry_load_ids']))}"
        yield [
            "verdict",
            verdict["at"],
            verdict["verdict_id"],
            f"{verdict['kind']} of {verdict['number']}: {answer}",
            codes,
        ]
    for listing in dossier.get("registry_listings", []):
        removed = (
            f"; removed by load #{listing['removed_by_load']} at {listing['removed_at']}"
            if listing["removed_at"]
            else ""
        )
        yield [
            "registry listing",
            listing["listed_at"],
            listing["listed_by_load"],
            f"{listing['number']} on {listing['name']}",
            f"listed by load #{listing['listed_by_load']}{removed}",
        ]
    for load in dossier.get("registry_versions", []):
        files = ", ".join(f"{f['name']} sha256 {f['sha256']}" for f in load["files"])
        yield [
            "registry version",
            load["loaded_at"],
            load["load_id"],
            f"{load['name']}, {load['kind'].lower()}: {load['total']} listed (+{load['added']} -{load['removed']})",
            files,
        ]
    for call in dossier["calls"]:
        by = f" by {call['caller']}" if "caller" in call else ""
        yield [
            "call",
            call["at"],
            call["call_id"],
            f"{call['disposition']} ({call['effect']})",
            f"lead {call['lead_id']}{by}",
        ]

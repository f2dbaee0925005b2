"""CRM events in: store first (a replayed event id is ignored), then fold them into records.

The documented shape (``Content-Type: application/json``)::

    {"events": [
      {"id": "evt-001", "action": "upsert", "object_type": "company", "external_id": "7",
       "name": "Acme Corp", "domain": "acme.com", "properties": {"lifecyclestage": "customer"}},
      {"id": "evt-002", "action": "upsert", "object_type": "contact", "external_id": "41",
       "name": "Ada Byron", "emails": ["ada@acme.com"], "phones": ["+1 202 555 0143"]},
      {"id": "evt-003", "action": "upsert", "object_type": "deal", "external_id": "9",
       "domain": "acme.com", "properties": {"dealstage": "presentationscheduled"}},
      {"id": "evt-004", "action": "delete", "object_type": "company", "external_id": "7"}
    ]}

``action`` is ``upsert`` (given fields replace, ``properties`` are merged key by key, a ``null`` value
removes the key) or ``delete``. HubSpot's own webhook body (a list of ``company.*`` / ``contact.*``
``creation`` / ``propertyChange`` / ``deletion`` events) is read into the same shape.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from leadops.db import statistics_refresh
from leadops.errors import LeadopsError
from leadops.normalizing import NormalizationError, normalize_domain, normalize_email, normalize_phone
from leadops.outbox.services import enqueue_on_commit
from suppressions.crm.models import CrmConnection, CrmEvent, CrmRecord, CrmRecordIdentifier, ObjectType

ACTIONS = {"upsert", "delete"}
CHUNK = 5000


@dataclass(frozen=True)
class ReceiveResult:
    stored: int
    replayed: int


def _require(event: dict, index: int, name: str) -> str:
    value = event.get(name)
    if value is None or str(value).strip() == "":
        raise LeadopsError(f"Event {index} has no '{name}'.", field=f"events[{index}].{name}")
    return str(value).strip()


def validate_events(events: object) -> list[dict]:
    """Return the events in the documented shape, or raise naming the first bad event and field."""
    if not isinstance(events, list):
        raise LeadopsError("'events' must be a list.", field="events")
    clean = []
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise LeadopsError(f"Event {index} is not an object.", field=f"events[{index}]")
        _require(event, index, "id")
        action = _require(event, index, "action")
        if action not in ACTIONS:
            raise LeadopsError(
                f"Event {index} has action '{action}'; expected upsert or delete.", field=f"events[{index}].action"
            )
        object_type = _require(event, index, "object_type")
        if object_type not in ObjectType.values:
            raise LeadopsError(
                f"Event {index} has object_type '{object_type}'; expected one of {', '.join(ObjectType.values)}.",
                field=f"events[{index}].object_type",
            )
        _require(event, index, "external_id")
        for name in ("emails", "phones"):
            if name in event and not isinstance(event[name], list):
                raise LeadopsError(f"Event {index}: '{name}' must be a list.", field=f"events[{index}].{name}")
        if "properties" in event and not isinstance(event["properties"], dict):
            raise LeadopsError(f"Event {index}: 'properties' must be an object.", field=f"events[{index}].properties")
        clean.append(event)
    return clean


HUBSPOT_SPECIAL = {
    "company": {"domain": "domain", "name": "name"},
    "contact": {"email": "emails", "phone": "phones", "mobilephone": "phones"},
    "deal": {"dealname": "name"},
}


def hubspot_to_events(body: object) -> list[dict]:
    """Read HubSpot's webhook body (a list of subscription events) into the documented shape."""
    if not isinstance(body, list):
        raise LeadopsError("A HubSpot webhook body is a list of events.", field="body")
    events = []
    for index, item in enumerate(body):
        if not isinstance(item, dict) or "subscriptionType" not in item or "objectId" not in item:
            raise LeadopsError(f"HubSpot event {index} has no subscriptionType/objectId.", field=f"[{index}]")
        object_type, _, change = str(item["subscriptionType"]).partition(".")
        if object_type not in ObjectType.values:
            raise LeadopsError(
                f"HubSpot event {index}: unsupported subscription '{item['subscriptionType']}'.",
                field=f"[{index}].subscriptionType",
            )
        event: dict = {
            "id": f"hubspot-{item.get('eventId', '')}-{item.get('attemptNumber', 0)}" if "eventId" in item else None,
            "action": "delete" if change == "deletion" else "upsert",
            "object_type": object_type,
            "external_id": str(item["objectId"]),
        }
        if "eventId" in item:
            event["id"] = f"hubspot-{item['eventId']}"
        name = item.get("propertyName")
        if change == "propertyChange" and name:
            value = item.get("propertyValue")
            special = HUBSPOT_SPECIAL.get(object_type, {}).get(name)
            if special in ("emails", "phones"):
                event[special] = [value] if value else []
            elif special:
                event[special] = value or ""
            event["properties"] = {name: value}
        events.append(event)
    return validate_events(events)


def crm_events_receive(*, connection: CrmConnection, events: list[dict]) -> ReceiveResult:
    """Store ``events`` (already validated) and enqueue their processing; a replayed id is ignored.

    Stored first, processed after commit: a crash after this returns loses nothing, and the sweeper
    processes what the queue missed.
    """
    from suppressions.crm.tasks import crm_connection_process

    now = timezone.now()
    with transaction.atomic():
        ids = [str(e["id"]) for e in events]
        existing = set(
            CrmEvent.objects.filter(connection=connection, event_id__in=ids).values_list("event_id", flat=True)
        )
        fresh = {}
        for event in events:
            key = str(event["id"])
            if key not in existing and key not in fresh:
                fresh[key] = CrmEvent(connection=connection, event_id=key, payload=event, received_at=now)
        CrmEvent.objects.bulk_create(fresh.values(), ignore_conflicts=True, batch_size=CHUNK)
        CrmConnection.objects.filter(pk=connection.pk).update(last_event_at=now)
        if fresh:
            enqueue_on_commit(crm_connection_process, connection.pk)
    return ReceiveResult(stored=len(fresh), replayed=len(events) - len(fresh))


def _apply(record: CrmRecord, event: dict, *, region: str) -> None:
    if event["action"] == "delete":
        record.is_deleted = True
        return
    record.is_deleted = False
    if "name" in event:
        record.name = str(event["name"] or "")[:255]
    if "domain" in event:
        raw = str(event["domain"] or "").strip()
        try:
            record.domain = normalize_domain(raw) if raw else ""
        except NormalizationError as exc:
            raise LeadopsError(f"domain: {exc.message}", field="domain") from exc
    if "emails" in event:
        try:
            record.emails = sorted({normalize_email(str(v)) for v in event["emails"] if v})
        except NormalizationError as exc:
            raise LeadopsError(f"emails: {exc.message}", field="emails") from exc
    if "phones" in event:
        try:
            record.phones = sorted({normalize_phone(str(v), region) for v in event["phones"] if v})
        except NormalizationError as exc:
            raise LeadopsError(f"phones: {exc.message}", field="phones") from exc
    for key, value in (event.get("properties") or {}).items():
        if value is None:
            record.properties.pop(key, None)
        else:
            record.properties[key] = value


def _identifiers(record: CrmRecord) -> Iterable[CrmRecordIdentifier]:
    for email in record.emails:
        yield CrmRecordIdentifier(record=record, kind=CrmRecordIdentifier.Kind.EMAIL, value=email)
    for phone in record.phones:
        yield CrmRecordIdentifier(record=record, kind=CrmRecordIdentifier.Kind.PHONE, value=phone)


def crm_events_process(*, connection: CrmConnection, chunk: int = CHUNK) -> dict[str, int]:
    """Fold the connection's pending events into records, oldest first, then re-evaluate the rules.

    Each chunk commits on its own. A bad event is marked failed with its reason; the others go on. A
    repeat call finds no pending events and changes nothing.
    """
    from suppressions.crm.services.rules import crm_rules_evaluate

    region = connection.customer.phone_region
    totals = {"processed": 0, "failed": 0, "records": 0}
    while True:
        with transaction.atomic():
            events = list(
                CrmEvent.objects.select_for_update(skip_locked=True)
                .filter(connection=connection, status=CrmEvent.Status.PENDING)
                .order_by("received_at", "pk")[:chunk]
            )
            if not events:
                break
            keys = {(e.payload["object_type"], str(e.payload["external_id"])) for e in events}
            records = {
                (r.object_type, r.external_id): r
                for r in CrmRecord.objects.filter(connection=connection, external_id__in={k[1] for k in keys})
                if (r.object_type, r.external_id) in keys
            }
            now = timezone.now()
            failed: list[CrmEvent] = []
            touched: dict[tuple[str, str], CrmRecord] = {}
            for event in events:
                key = (event.payload["object_type"], str(event.payload["external_id"]))
                record = records.get(key) or CrmRecord(
                    connection=connection,
                    customer_id=connection.customer_id,
                    object_type=key[0],
                    external_id=key[1],
                    properties={},
                )
                try:
                    _apply(record, event.payload, region=region)
                except LeadopsError as exc:
                    event.status, event.error, event.processed_at = CrmEvent.Status.FAILED, exc.message, now
                    failed.append(event)
                    continue
                record.last_seen_at = now
                records[key] = touched[key] = record
            new = [r for r in touched.values() if r.pk is None]
            old = [r for r in touched.values() if r.pk is not None]
            CrmRecord.objects.bulk_create(new, batch_size=chunk)
            CrmRecord.objects.bulk_update(
                old,
                ["name", "domain", "emails", "phones", "properties", "is_deleted", "last_seen_at"],
                batch_size=1000,
            )
            record_ids = [r.pk for r in touched.values()]
            CrmRecordIdentifier.objects.filter(record_id__in=record_ids).delete()
            identifiers = CrmRecordIdentifier.objects.bulk_create(
                (i for r in touched.values() for i in _identifiers(r)), batch_size=chunk
            )
            # A first sync grows the records from nothing: planned as empty, the rules' matching of a chunk
            # read every record of the connection per match (a 20,000-record sync: minutes, not seconds).
            statistics_refresh(
                {CrmRecord._meta.db_table: len(new), CrmRecordIdentifier._meta.db_table: len(identifiers)}
            )
            CrmEvent.objects.filter(pk__in=[e.pk for e in events if e not in failed]).update(
                status=CrmEvent.Status.PROCESSED, processed_at=now
            )
            CrmEvent.objects.bulk_update(failed, ["status", "error", "processed_at"])
            crm_rules_evaluate(customer=connection.customer, record_ids=record_ids)
            totals["processed"] += len(events) - len(failed)
            totals["failed"] += len(failed)
            totals["records"] += len(touched)
    return totals

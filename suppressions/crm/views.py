"""The webhook endpoint: ``POST /api/v1/crm/<connection_id>/events``, signed with the connection's secret."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from leadops.errors import LeadopsError
from suppressions.crm.models import CrmConnection
from suppressions.crm.services import crm_events_receive, hubspot_to_events, validate_events
from suppressions.crm.services.signing import SignatureError, verify_hubspot_v3, verify_leadops

# The documented limit (docs/crm.md). Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) is for forms: this view
# reads its body itself, up to this, and answers a larger one with a JSON 413.
MAX_BODY_BYTES = 20 * 1024 * 1024
TOO_LARGE = "The body is larger than the 20 MB a webhook request may carry: send smaller batches."


def _body(request: HttpRequest) -> bytes | None:
    """Return the request's body, or None when it is larger than ``MAX_BODY_BYTES`` (read no further)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return None
    body = request.read(MAX_BODY_BYTES + 1)
    return None if len(body) > MAX_BODY_BYTES else body


def error(status: int, code: str, message: str, field: str = "") -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "field": field}}, status=status)


@csrf_exempt
@require_POST
def crm_events(request: HttpRequest, connection_id: int) -> JsonResponse:
    connection = CrmConnection.objects.select_related("customer").filter(pk=connection_id, is_active=True).first()
    if connection is None:
        return error(404, "not_found", "No such CRM connection.")
    body = _body(request)
    if body is None:
        return error(413, "too_large", TOO_LARGE)
    try:
        if connection.kind == CrmConnection.Kind.HUBSPOT:
            verify_hubspot_v3(
                secret=connection.secret,
                method=request.method,
                uri=request.build_absolute_uri(),
                body=body,
                timestamp=request.headers.get("X-HubSpot-Request-Timestamp"),
                signature=request.headers.get("X-HubSpot-Signature-v3"),
            )
        else:
            verify_leadops(
                secret=connection.secret,
                timestamp=request.headers.get("X-Leadops-Timestamp"),
                signature=request.headers.get("X-Leadops-Signature"),
                body=body,
            )
    except SignatureError as exc:
        return error(401, exc.code, exc.message)
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return error(400, "invalid_json", f"The body is not JSON: {exc}.")
    try:
        if connection.kind == CrmConnection.Kind.HUBSPOT:
            events = hubspot_to_events(payload)
        else:
            if not isinstance(payload, dict) or "events" not in payload:
                raise LeadopsError("The body must be an object with an 'events' list.", field="events")
            events = validate_events(payload["events"])
    except LeadopsError as exc:
        return error(422, "invalid_event", exc.message, exc.field)
    result = crm_events_receive(connection=connection, events=events)
    return JsonResponse({"stored": result.stored, "replayed": result.replayed}, status=202)

"""Every error the API returns is ``{"error": {"code", "message", "field"}}`` with a fitting status."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from leadops.errors import LeadopsError

LEADOPS_STATUS = {
    "conflict": status.HTTP_409_CONFLICT,
    "permission_denied": status.HTTP_403_FORBIDDEN,
    "not_found": status.HTTP_404_NOT_FOUND,
}


def error_response(*, status_code: int, code: str, message: str, field: str = "", headers=None) -> Response:
    return Response({"error": {"code": code, "message": message, "field": field}}, status=status_code, headers=headers)


def _first_error(detail, prefix: str = "") -> tuple[str, exceptions.ErrorDetail | str]:
    """Return ``(field, error)`` of the first error of a serializer's nested ``detail``."""
    if isinstance(detail, dict):
        for name, inner in detail.items():
            field = "" if name == "non_field_errors" else f"{prefix}{name}"
            return _first_error(inner, f"{field}." if field else "")
    if isinstance(detail, list) and detail:
        return _first_error(detail[0], prefix)
    return prefix.rstrip("."), detail


def api_exception_handler(exc, context) -> Response | None:
    """Turn refusals into the API's error body; anything else is a 500 the server logs."""
    if isinstance(exc, LeadopsError):
        return error_response(
            status_code=LEADOPS_STATUS.get(exc.code, status.HTTP_422_UNPROCESSABLE_ENTITY),
            code=exc.code,
            message=exc.message,
            field=exc.field,
        )
    if isinstance(exc, Http404 | ObjectDoesNotExist | exceptions.NotFound):
        return error_response(status_code=404, code="not_found", message="No such resource.")
    if isinstance(exc, exceptions.ValidationError):
        field, error = _first_error(exc.detail)
        return error_response(
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
            code=getattr(error, "code", "invalid") or "invalid",
            message=f"{field}: {error}" if field else str(error),
            field=field,
        )
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        return error_response(status_code=exc.status_code, code=code, message=str(detail), headers=headers)
    return None

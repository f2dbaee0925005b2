"""Every error the API returns is ``{"error": {"code", "message", "field"}}`` with a fitting status."""

from __future__ import annotations

from http import HTTPStatus

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from leadops.errors import LeadopsError

LEADOPS_STATUS = {
    "conflict": status.HTTP_409_CONFLICT,
    "permission_denied": status.HTTP_403_FORBIDDEN,
    "caller_not_approved": status.HTTP_403_FORBIDDEN,
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


# Every path of the dialer API (and of the CRM webhooks under it) starts with this.
API_PREFIX = "/api/v1/"
# The error code of an answer that did not come from the API's own handler (no route, a method a plain view
# does not take, a body too large for Django, a crash), by status.
STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    415: "unsupported_media_type",
    500: "server_error",
}


def _status_message(request: HttpRequest, response: HttpResponse) -> str:
    if response.status_code == 404:
        return "No such resource."
    if response.status_code == 405:
        return f"{request.method} is not allowed here; use {response.get('Allow', 'another method')}."
    if response.status_code >= 500:
        return "The server failed to answer; the error is logged. Try again."
    try:
        return HTTPStatus(response.status_code).phrase + "."
    except ValueError:
        return f"HTTP {response.status_code}."


class ApiErrorsAsJson:
    """Answer every error under ``/api/v1/`` in the API's error shape, whoever produced it.

    The API's own views answer through ``api_exception_handler``; this catches the rest before it reaches
    a client that parses JSON: Django's HTML 404 for a path no route matches, a plain view's empty 405,
    Django's 400 and 500 pages. An answer that is JSON already is left as it is; the original is logged by
    Django as usual (a 500 with its traceback).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            not request.path.startswith(API_PREFIX)
            or response.status_code < 400
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        status_code = response.status_code
        body = {
            "error": {
                "code": STATUS_CODES.get(status_code, "server_error" if status_code >= 500 else "error"),
                "message": _status_message(request, response),
                "field": "",
            }
        }
        answer = JsonResponse(body, status=status_code)
        for header in ("Allow", "WWW-Authenticate", "Retry-After"):
            if header in response:
                answer[header] = response[header]
        return answer

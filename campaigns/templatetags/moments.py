"""Moments as a person reads them, on pages whose data also leaves as JSON (a dossier keeps ISO 8601 there)."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime

register = template.Library()


@register.filter
def moment(value: str | datetime | None) -> str:
    """``2026-12-02T03:12:54.181769+00:00`` as "2 Dec 2026, 03:12:54 UTC", in the current time zone, to the
    second (the JSON and CSV keep the microseconds); an empty value as empty, and anything that is not a
    moment as it is."""
    if not value:
        return ""
    parsed = parse_datetime(value) if isinstance(value, str) else value
    if parsed is None:
        return str(value)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    local = timezone.localtime(parsed)
    return f"{local.day} {local:%b %Y}, {local:%H:%M:%S} {local.tzname()}"

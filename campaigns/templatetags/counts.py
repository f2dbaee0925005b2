"""``{{ n|grouped }}``: a count with its thousands grouped ("1,000"), whatever ``USE_THOUSAND_SEPARATOR`` says
(the project leaves it off, so that ids and numbers in forms stay bare)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def grouped(number: int) -> str:
    return f"{int(number):,}"

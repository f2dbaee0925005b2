"""``{% ops_home_panels %}``: the ops home's panels (``leadops.home``), each rendered with its own template."""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from leadops.home import home_panels

register = template.Library()


@register.simple_tag(takes_context=True)
def ops_home_panels(context: template.Context) -> SafeString:
    request = context["request"]
    parts = [
        render_to_string(panel.template, {**panel_context, "panel": panel}, request=request)
        for panel, panel_context in home_panels(request)
    ]
    return mark_safe("".join(parts))  # each part is a rendered (autoescaped) template

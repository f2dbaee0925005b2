"""The ops home's panels: the admin index opens on what needs attention, gathered from every app.

An app registers a panel (at import of its admin module, or in ``AppConfig.ready``) with a template and a
function of the request that returns the panel's context, or ``None`` to leave it out (nothing to show, or the
user may not see it). ``templates/admin/index.html`` renders them in order with ``{% ops_home_panels %}``
(``campaigns.templatetags.ops_home``). This module knows no business: it is the registry only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class HomePanel:
    name: str
    template: str
    context: Callable[[HttpRequest], dict[str, Any] | None]
    order: int = 100


_PANELS: dict[str, HomePanel] = {}


def home_panel_register(
    *, name: str, template: str, context: Callable[[HttpRequest], dict[str, Any] | None], order: int = 100
) -> None:
    """Register (or replace, by ``name``) one panel of the ops home."""
    _PANELS[name] = HomePanel(name=name, template=template, context=context, order=order)


def home_panels(request: HttpRequest) -> list[tuple[HomePanel, dict[str, Any]]]:
    """Return the panels to show ``request.user``, in order, each with its context."""
    shown = []
    for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.name)):
        context = panel.context(request)
        if context is not None:
            shown.append((panel, context))
    return shown

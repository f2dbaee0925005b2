"""Walk every URL of the admin from the URL conf and the admin registry, so that a page added later (a new
ModelAdmin, a custom view in ``get_urls()``, a new workflow) is walked without anyone adding it to a test.

``admin_routes()`` lists every pattern under the ``admin`` namespace, named or not (Django's own
``<object_id>/`` redirect has no name), each with the ModelAdmin whose ``get_urls()`` made it. A walk fills each
route's path parameters from what it was told (``url_of``); a parameter it was not told about fails loudly,
which is the moment to think about how the new page's object is scoped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.http import urlencode

_CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class AdminRoute:
    pattern: URLPattern
    prefix: str  # "campaigns/lead/" for a ModelAdmin's URL, "" for the site's own
    model_admin: ModelAdmin | None

    @property
    def route(self) -> str:
        """Return the pattern as written under ``/admin/``: ``campaigns/lead/<path:object_id>/change/``."""
        pattern = self.pattern.pattern
        text = pattern._route if isinstance(pattern, RoutePattern) else pattern._regex
        return f"{self.prefix}{text}"

    @property
    def params(self) -> tuple[str, ...]:
        pattern = self.pattern.pattern
        if isinstance(pattern, RegexPattern):
            return tuple(sorted(pattern.regex.groupindex))
        return tuple(sorted(pattern.converters))

    @property
    def name(self) -> str | None:
        return self.pattern.name

    def url(self, values: Mapping[str, object], query: Mapping[str, object] | None = None) -> str:
        """Return the URL with ``values`` in its path parameters (and ``query`` after it)."""
        pattern = self.pattern.pattern
        if isinstance(pattern, RegexPattern):
            # The app index (``^(?P<app_label>…)/$``) and the final catch-all (``(?P<url>.*)$``).
            text = pattern._regex.lstrip("^").rstrip("$")
            path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), text)
        else:
            path = _CONVERTER.sub(lambda m: str(values[m.group("name")]), pattern._route)
        url = f"/admin/{self.prefix}{path}"
        return f"{url}?{urlencode(query, doseq=True)}" if query else url


def admin_routes() -> list[AdminRoute]:
    """Return every URL pattern of the admin site, each with the ModelAdmin it belongs to (None for the site's)."""
    root = get_resolver()
    site = next(p for p in root.url_patterns if isinstance(p, URLResolver) and p.namespace == "admin")
    assert str(site.pattern) == "admin/", "The walker builds URLs under /admin/."
    owners = {
        f"{m._meta.app_label}/{m._meta.model_name}/": model_admin for m, model_admin in admin.site._registry.items()
    }
    routes = []
    for pattern in site.url_patterns:
        if isinstance(pattern, URLResolver):
            prefix = str(pattern.pattern)
            assert prefix in owners, f"No ModelAdmin owns the admin URLs under {prefix}: teach the walker."
            for sub in pattern.url_patterns:
                assert isinstance(sub, URLPattern), f"{prefix}{sub.pattern}: an include inside a ModelAdmin's URLs."
                routes.append(AdminRoute(pattern=sub, prefix=prefix, model_admin=owners[prefix]))
        else:
            routes.append(AdminRoute(pattern=pattern, prefix="", model_admin=None))
    return routes


def action_names(model_admin: ModelAdmin) -> list[str]:
    """Return the names of a ModelAdmin's own actions (as the action form posts them)."""
    return [getattr(action, "__name__", action) for action in model_admin.actions or ()]


def related_filter_params(model_admin: ModelAdmin) -> list[tuple[str, type]]:
    """Return ``(parameter, related model)`` for every list filter on a foreign key: ``campaign__id__exact``."""
    from django.contrib.admin.utils import get_fields_from_path

    found = []
    for entry in model_admin.list_filter:
        path = entry[0] if isinstance(entry, tuple) else entry
        if not isinstance(path, str):
            continue
        field = get_fields_from_path(model_admin.model, path)[-1]
        if field.many_to_one:
            found.append((f"{path}__id__exact", field.related_model))
    return found

"""Walk every URL of the portal (and of the dialer API) from the URL conf, so a page added later is covered
without anyone remembering to add it to a test.

A walk names the ids to try in each path parameter; a parameter it was not told about fails the walk
loudly, which is the moment to think about how the new page's object is scoped and what it shows.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, reverse


def patterns_of(namespace: str) -> list[URLPattern]:
    """Return every URL pattern under ``namespace``, however deeply included."""

    def walk(resolver: URLResolver):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern)
            else:
                yield pattern

    root = get_resolver()
    found = next(p for p in root.url_patterns if isinstance(p, URLResolver) and p.namespace == namespace)
    return list(walk(found))


def portal_patterns() -> list[URLPattern]:
    return patterns_of("portal")


@dataclass(frozen=True)
class Url:
    pattern: URLPattern
    url: str
    kwargs: dict[str, object]

    @property
    def name(self) -> str:
        return self.pattern.name


def urls_of(namespace: str, ids: dict[str, Callable[[], list[object]]]) -> Iterator[Url]:
    """Yield every URL of ``namespace`` with each combination of the ids ``ids[parameter]()`` gives.

    Fail when a pattern has no name (it cannot be reversed) or a parameter ``ids`` does not know.
    """
    for pattern in patterns_of(namespace):
        assert pattern.name, f"Name the URL {pattern.pattern} so the walker can reverse it."
        params = sorted(pattern.pattern.converters)
        unknown = set(params) - set(ids)
        assert not unknown, f"{namespace}:{pattern.name}: tell the walker which ids to try in {sorted(unknown)}."
        choices = [ids[name]() for name in params]
        for values in itertools.product(*choices):
            kwargs = dict(zip(params, values, strict=True))
            yield Url(pattern=pattern, url=reverse(f"{namespace}:{pattern.name}", kwargs=kwargs), kwargs=kwargs)


def content(response) -> str:
    """Return the body of a response, streamed or not, as text."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")

"""Count the statements a call sends, and make the database refuse one: for tests of set-based, atomic writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext


def statements_of(call: Callable[[], object]) -> int:
    """Return how many SQL statements ``call()`` sends, from a cold content-type cache (so that two calls
    compare alike whichever runs first)."""
    ContentType.objects.clear_cache()
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


@contextmanager
def database_refuses(fragment: str, *, occurrence: int = 1) -> Iterator[None]:
    """Make the database refuse the ``occurrence``-th statement whose SQL contains ``fragment``, as a lost
    connection or a full disk would: the edge of the system, through Django's ``execute_wrapper``."""
    seen = 0

    def refuse(execute, sql, params, many, context):
        nonlocal seen
        if fragment in sql:
            seen += 1
            if seen == occurrence:
                raise DatabaseError(f"The test's database refused: {sql[:60]}…")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse):
        yield

"""Rows a module (or class) of tests builds once and every test of it sees as if it had built them itself.

Django's ``TestCase.setUpTestData``, for pytest: the rows are written in a transaction that stays open while
the module's tests run and is rolled back after the last one. Each test runs in pytest-django's own
per-test transaction, which inside it is a savepoint: what a test writes is rolled back before the next test
starts. Hand each test a ``copy.deepcopy`` of the objects built (as ``setUpTestData`` does), so that what one
test changes in memory is not the next test's either.

Only for modules whose tests are all non-transactional (``django_db`` without ``transaction=True``, no
``live_server``): a transactional test empties the tables, which would empty the rows built once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from django.db import transaction
from django.test import TestCase, override_settings

T = TypeVar("T")


@contextmanager
def built_once(django_db_blocker, media_root: Path, build: Callable[..., T]) -> Iterator[T]:
    """Build rows with ``build(capture)`` in a transaction kept open until the context ends, then rolled back.

    ``capture`` is ``django_capture_on_commit_callbacks`` for the build (on-commit work such as an upload's
    processing runs when its block ends); files the build stores go under ``media_root``.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with override_settings(MEDIA_ROOT=media_root):
                built = build(TestCase.captureOnCommitCallbacks)
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    try:
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)

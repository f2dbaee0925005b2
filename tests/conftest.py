import pytest


class CallingClock:
    """The moment calling windows and frequency caps are judged at (``campaigns.selectors.calling.calling_now``).

    Pinned for every test, so that no test depends on the hour the suite runs at: today (the date the rest of
    the suite writes, so that caps count its calls) at 16:00 UTC, a weekday-or-weekend noon in Washington and
    afternoon in London, inside the default window (8:00 to 21:00) for the numbers the factories make.
    The tests of calling windows set their own moment (``calling_clock.at(...)``) or pass ``now``.
    """

    def __init__(self) -> None:
        from django.utils import timezone

        self.moment = timezone.now().replace(hour=16, minute=0, second=0, microsecond=0)

    def at(self, moment) -> None:
        self.moment = moment

    def __call__(self):
        return self.moment


@pytest.fixture(autouse=True)
def calling_clock(monkeypatch) -> CallingClock:
    from campaigns.selectors import calling

    clock = CallingClock()
    monkeypatch.setattr(calling, "calling_now", clock)
    return clock


@pytest.fixture
def calling_around_the_clock(db, monkeypatch) -> None:
    """Calls allowed at every moment of every day: the jurisdiction table switched off, and every campaign
    without a calling policy of its own open from midnight to midnight. For the tests that ask about a past
    moment the real clock chose (a block's creation, its lift), which an as-of answer judges the window at,
    and that test what was in force then, not the window (which ``calling_clock`` cannot pin for them)."""
    from datetime import time

    from campaigns.models import Jurisdiction
    from campaigns.selectors import calling
    from campaigns.services.calling import calling_rules_changed

    monkeypatch.setattr(calling, "DEFAULT_POLICY", calling.Policy(hours=tuple((time.min, time.max) for _ in range(7))))
    Jurisdiction.objects.update(is_active=False)
    calling_rules_changed()


@pytest.fixture
def jurisdictions(db):
    """The jurisdiction table as its data migration seeds it (a transactional test's flush empties it)."""
    import importlib

    from django.apps import apps

    from campaigns.services.calling import calling_rules_changed

    importlib.import_module("campaigns.migrations.0018_calling_windows").seed_jurisdictions(apps)
    calling_rules_changed()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Keep uploaded files of one test out of every other test's way."""
    settings.MEDIA_ROOT = tmp_path / "media"


# What the "Ops" group holds beyond the model permissions (campaigns/migrations/0005 and 0009).
OPS_EXTRA = [
    "campaigns.lift_block",
    "campaigns.work_every_campaign",
    "campaigns.approve_callers",
    "campaigns.reopen_lead",
    "campaigns.view_callerapproval",
]


@pytest.fixture
def ops_user(db):
    from tests.campaigns.factories import UserFactory

    return UserFactory(username="olivia", permissions=OPS_EXTRA)


@pytest.fixture
def ops_lead(db):
    from tests.campaigns.factories import UserFactory

    return UserFactory(username="lena", permissions=[*OPS_EXTRA, "campaigns.lift_platform_dnc"])


def pytest_configure(config):
    _sqlite_flush_like_truncate()
    config.addinivalue_line(
        "markers",
        "postgres(reason): needs PostgreSQL (row locks and real concurrency, plans, COPY, LISTEN/NOTIFY); "
        "skipped on the embedded SQLite backend with that reason",
    )


def pytest_collection_modifyitems(config, items):
    """Skip, with their reason, the tests that need PostgreSQL when the suite runs on the embedded SQLite."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    for item in items:
        marker = item.get_closest_marker("postgres")
        if marker is None and item.get_closest_marker("celery_worker") is not None:
            reason = "a real worker shares the test database with the suite: PostgreSQL only"
        elif marker is not None:
            reason = marker.args[0] if marker.args else marker.kwargs.get("reason", "needs PostgreSQL")
        else:
            continue
        item.add_marker(pytest.mark.skip(reason=f"needs PostgreSQL: {reason}"))


def _sqlite_flush_like_truncate():
    """Let the flush between transactional tests empty the tables on SQLite as it does on PostgreSQL.

    PostgreSQL's flush is ``TRUNCATE``, which fires no row trigger; SQLite's is ``DELETE``, which the guards
    (blocks are never deleted, an upload with entries is kept) refuse. In the test database only, the flush
    drops the triggers, empties the tables and makes the triggers again, in its one transaction.
    """
    import django.db.backends.sqlite3.base  # noqa: F401  (imports its operations in the order it needs)
    from django.db.backends.sqlite3.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush
    if getattr(original, "keeps_triggers", False):
        return

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        if not statements:
            return statements
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            triggers = cursor.fetchall()
        return [
            *(f'DROP TRIGGER "{name}"' for name, _ in triggers),
            *statements,
            *(sql for _, sql in triggers),
        ]

    sql_flush.keeps_triggers = True
    DatabaseOperations.sql_flush = sql_flush

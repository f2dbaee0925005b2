import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Keep uploaded files of one test out of every other test's way."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ops_user(db):
    from tests.campaigns.factories import UserFactory

    return UserFactory(username="olivia", permissions=["campaigns.lift_block"])


@pytest.fixture
def ops_lead(db):
    from tests.campaigns.factories import UserFactory

    return UserFactory(username="lena", permissions=["campaigns.lift_block", "campaigns.lift_platform_dnc"])


def pytest_configure(config):
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

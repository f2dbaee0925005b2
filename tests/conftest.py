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

import pytest

from tests.campaigns.factories import UserFactory


@pytest.fixture
def ops_user(db):
    return UserFactory(username="olivia", permissions=["campaigns.lift_block"])


@pytest.fixture
def ops_lead(db):
    return UserFactory(username="lena", permissions=["campaigns.lift_block", "campaigns.lift_platform_dnc"])

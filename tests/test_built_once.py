"""Rows built once for a class or module of tests (``tests.built_once``): every test sees them as built,
whatever an earlier test wrote or changed in memory, and they are gone once the last test is done."""

import copy

import pytest
from django.db import transaction

from campaigns.models import Customer
from tests.built_once import built_once
from tests.campaigns.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ran_on_commit: list[str] = []


def _build(capture):
    with capture(execute=True):
        customer = CustomerFactory(slug="built-once", name="Built once")
        transaction.on_commit(lambda: ran_on_commit.append(customer.slug))
    return customer


@pytest.fixture(scope="class")
def built(django_db_setup, django_db_blocker, tmp_path_factory):
    with built_once(django_db_blocker, tmp_path_factory.mktemp("media"), _build) as customer:
        yield customer


@pytest.fixture
def customer(built, db):
    return copy.deepcopy(built)


class TestRowsBuiltOnceForAClass:
    @pytest.mark.parametrize("run", [1, 2])
    def test_each_test_sees_the_rows_as_built_and_none_of_an_earlier_tests_writes(self, customer, run):
        # given: whatever the earlier run wrote and changed
        assert Customer.objects.get(slug="built-once").name == customer.name == "Built once"
        assert not Customer.objects.filter(slug="written-by-a-test").exists()
        assert ran_on_commit == ["built-once"]  # the build's on-commit work ran, once

        # when
        customer.name = f"Changed by run {run}"
        customer.save()
        CustomerFactory(slug="written-by-a-test")

        # then
        assert Customer.objects.get(slug="built-once").name == f"Changed by run {run}"


def test_the_rows_built_once_are_gone_after_the_last_test_of_the_class():
    # given: the class above ran before this test (tests run in the order of the file)
    # then
    assert not Customer.objects.filter(slug__in=["built-once", "written-by-a-test"]).exists()

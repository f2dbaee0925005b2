"""Streamed CSV exports: whole on both backends, and never mistaken for a whole file when they fail."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.urls import reverse

from campaigns.models import Contact, ContactEmail, ContactPhone, PhoneNumber
from leadops.exporting import INCOMPLETE, csv_download

pytestmark = pytest.mark.django_db


# Customer A's scene is built once for the module; each test gets its own copy (see tests.built_once).
@pytest.fixture
def tenant_a(tenant_a_built_once, db):
    return copy.deepcopy(tenant_a_built_once)


ROOT = Path(__file__).resolve().parents[2]


def _body(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def _contacts_with_numbers(tenant, count: int) -> None:
    """Give ``tenant``'s account ``count`` more contacts, each with its own number and email (set-based)."""
    contacts = Contact.objects.bulk_create(
        Contact(customer=tenant.customer, account=tenant.account, first_name=f"Bulk{i}", last_name="Export")
        for i in range(count)
    )
    phones = PhoneNumber.objects.bulk_create(PhoneNumber(e164=f"+1202300{i:04d}") for i in range(count))
    ContactPhone.objects.bulk_create(ContactPhone(contact=c, phone=p) for c, p in zip(contacts, phones, strict=True))
    ContactEmail.objects.bulk_create(
        ContactEmail(contact=c, email=f"bulk{i}@anvil-works.example", domain="anvil-works.example")
        for i, c in enumerate(contacts)
    )


def test_contacts_export_has_every_contact_past_a_thousand_numbers_on_either_backend(portal_client, tenant_a):
    # given: more contacts with numbers than one export chunk (2,000), well past SQLite's 1,000-deep expressions
    _contacts_with_numbers(tenant_a, 2_100)

    # when
    body = _body(portal_client.get(reverse("portal:contacts_csv")))

    # then
    lines = body.splitlines()
    assert len(lines) == 1 + 2_100 + 3  # the header, the new contacts, the tenant's own three
    assert "Bulk2099,Export,,Anvil Works,'+1 202-300-2099,bulk2099@anvil-works.example,no" in lines
    assert "INCOMPLETE" not in body


def test_a_stream_that_fails_midway_ends_with_a_line_saying_so_and_logs_the_traceback(caplog):
    # given
    def rows():
        yield ["one", 1]
        yield ["two", 2]
        raise OperationalError("the database went away")

    # when
    with caplog.at_level(logging.ERROR, logger="leadops.exporting"):
        body = _body(csv_download("things.csv", ["name", "n"], rows()))

    # then
    assert body.splitlines() == ["\ufeffname,n", "one,1", "two,2", INCOMPLETE.format(rows=2)]
    assert body.rstrip().endswith("download it again.")
    [record] = caplog.records
    assert "things.csv" in record.getMessage()
    assert record.exc_info is not None and "the database went away" in str(record.exc_info[1])


def test_a_stream_whose_first_query_fails_is_an_error_before_any_byte():
    # given
    def rows():
        raise OperationalError("no such table")
        yield []  # pragma: no cover

    # when / then: the view fails as a whole (a 500), no response with a header-only file
    with pytest.raises(OperationalError):
        csv_download("things.csv", ["name"], rows())


def test_an_empty_export_is_its_header_alone():
    # when
    body = _body(csv_download("things.csv", ["name"], iter([])))

    # then
    assert body == "\ufeffname\r\n"


def test_a_portal_export_the_database_fails_midway_is_marked_incomplete(portal_client, tenant_a, caplog):
    # given: the second chunk's email look-up fails in the database
    _contacts_with_numbers(tenant_a, 2_100)
    seen = []

    def fail_second_email_lookup(execute, sql, params, many, context):
        if "campaigns_contactemail" in sql:
            seen.append(sql)
            if len(seen) == 2:
                raise OperationalError("injected: the connection was lost")
        return execute(sql, params, many, context)

    # when
    with connection.execute_wrapper(fail_second_email_lookup), caplog.at_level(logging.ERROR):
        response = portal_client.get(reverse("portal:contacts_csv"))
        body = _body(response)

    # then
    lines = body.splitlines()
    assert response.status_code == 200  # the first chunk had been sent
    assert lines[-1] == INCOMPLETE.format(rows=2_000)
    assert len(lines) == 1 + 2_000 + 1
    assert any(r.exc_info and "injected" in str(r.exc_info[1]) for r in caplog.records)


def test_every_streamed_response_of_the_project_goes_through_the_shared_csv_helper():
    # given
    sources = [
        path
        for app in ("campaigns", "suppressions", "leadops")
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    ]

    # when
    streaming = [
        str(path.relative_to(ROOT))
        for path in sources
        if "StreamingHttpResponse" in path.read_text() and path != ROOT / "leadops" / "exporting.py"
    ]

    # then
    assert streaming == [], f"Stream CSV through leadops.exporting.csv_download, not by hand: {streaming}"

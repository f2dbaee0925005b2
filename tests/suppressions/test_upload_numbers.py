"""Numbers in the files people send: a suppression list keeps a possible but unallocated number (blocking it
is harmless, dropping it is not) while a lead import refuses it; a number Excel turned into a float is refused
with what went wrong and how to export it, in both."""

import io

import pytest

from campaigns.imports.services.importing import parse_row, plan_lead_columns
from leadops.normalizing import PhoneNormalizer
from suppressions.models import Entry, RejectedRow, Upload
from suppressions.reading import open_table
from tests.campaigns.factories import CustomerFactory
from tests.suppressions.factories import csv_bytes

pytestmark = pytest.mark.django_db

UNALLOCATED_UK_MOBILE = "07700 900123"
EXCEL_FLOAT = "1.9175550150E+10"
EXCEL_ADVICE = (
    "is a number in scientific notation: the spreadsheet stored the phone number as a floating-point number and "
    "lost its last digits, so it cannot be read back. In Excel, format the column as Text (or as a Number with 0 "
    "decimal places) before exporting, check the numbers, and upload the file again."
)


def _lead_row(content: bytes, *, region: str):
    """Read the one lead row of ``content`` as a lead import does; return it."""
    with open_table(io.BytesIO(content), filename="leads.csv") as table:
        head = table.head()
        plan, _ = plan_lead_columns(head, mapping=None)
        row, _ = parse_row(2, tuple(head[1].cells), plan=plan, phones=PhoneNormalizer(region=region), default_source="")
    return row


def test_a_suppression_upload_keeps_a_possible_but_unallocated_uk_mobile(upload_file):
    # given a British customer's list with a mobile in a range not (yet) allocated
    customer = CustomerFactory(slug="harbor", phone_region="GB")
    content = csv_bytes([["phone"], [UNALLOCATED_UK_MOBILE], ["07911 123456"]])

    # when it is uploaded
    upload = upload_file(content, for_customer=customer)

    # then both numbers are suppressed, none rejected
    assert upload.status == Upload.Status.DONE, upload.error
    assert (upload.accepted, upload.rejected) == (2, 0)
    assert set(Entry.objects.filter(customer=customer).values_list("value", flat=True)) == {
        "+447700900123",
        "+447911123456",
    }


def test_a_lead_import_still_refuses_an_unallocated_number():
    # given a lead whose only number is in no allocated range
    content = csv_bytes(
        [["First Name", "Last Name", "Company", "Phone"], ["Ada", "Byron", "Harbor", UNALLOCATED_UK_MOBILE]]
    )

    # when the row is read for a British campaign
    row = _lead_row(content, region="GB")

    # then the number is refused for its range
    assert row.phones == []
    assert row.warnings == [f"Phone: '{UNALLOCATED_UK_MOBILE}' is not a valid phone number (no such number range)."]


def test_a_suppression_upload_rejects_a_scientific_notation_cell_saying_how_to_fix_the_export(upload_file):
    # given a list exported from Excel with one number turned into a float
    content = csv_bytes([["phone"], ["(202) 555-0143"], [EXCEL_FLOAT]])

    # when it is uploaded
    upload = upload_file(content)

    # then that line is rejected with what Excel did and how to export the column
    assert (upload.accepted, upload.rejected) == (1, 1)
    rejected = RejectedRow.objects.get(upload=upload)
    assert (rejected.line, rejected.column, rejected.raw_value) == (3, "phone", EXCEL_FLOAT)
    assert rejected.reason == f"'{EXCEL_FLOAT}' {EXCEL_ADVICE}"


def test_a_suppression_column_of_unknown_kind_rejects_scientific_notation_with_the_same_advice(upload_file):
    # given a headerless single column whose kind is guessed per value
    content = csv_bytes([["ada@acme.com"], [EXCEL_FLOAT], ["acme.com"]])

    # when it is uploaded
    upload = upload_file(content)

    # then the float is rejected with the advice, not as "no known kind"
    assert upload.rejected == 1
    assert RejectedRow.objects.get(upload=upload).reason == f"'{EXCEL_FLOAT}' {EXCEL_ADVICE}"


def test_a_lead_import_rejects_a_scientific_notation_phone_saying_how_to_fix_the_export():
    # given a lead file exported from Excel with the phone column as floats
    content = csv_bytes([["First Name", "Last Name", "Company", "Phone"], ["Ada", "Byron", "Acme", EXCEL_FLOAT]])

    # when the row is read
    row = _lead_row(content, region="US")

    # then the phone is refused with the advice
    assert row.phones == []
    assert row.warnings == [f"Phone: '{EXCEL_FLOAT}' {EXCEL_ADVICE}"]

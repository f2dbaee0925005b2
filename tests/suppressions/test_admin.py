import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from suppressions.models import Entry, RejectedRow, Upload
from suppressions.resources import EntryExportResource
from tests.campaigns.factories import UserFactory
from tests.suppressions.factories import EntryFactory, csv_bytes

pytestmark = pytest.mark.django_db

OPS_PERMISSIONS = [
    "suppressions.add_upload",
    "suppressions.view_upload",
    "suppressions.view_entry",
    "suppressions.change_entry",
]


@pytest.fixture
def ops_client(client):
    client.force_login(UserFactory(username="oscar", permissions=OPS_PERMISSIONS))
    return client


def test_import_shows_a_preview_of_detected_columns_and_sample_results_and_writes_nothing(ops_client, customer):
    # given
    EntryFactory(customer=customer, kind=Entry.Kind.EMAIL, value="known@acme.com")
    content = csv_bytes(
        [["Name", "Mobile", "Email"], ["Pat", "(202) 555-0143", "known@acme.com"], ["Sam", "123", "sam@acme.com"]]
    )

    # when
    response = ops_client.post(
        reverse("admin:suppressions_entry_import"),
        {
            "resource": "0",
            "customer": customer.pk,
            "format": "0",
            "import_file": SimpleUploadedFile("crm.csv", content),
        },
    )

    # then
    assert response.status_code == 200, response.content
    preview = response.context["preview"]
    assert preview.columns == [("Mobile", "phone"), ("Email", "email")]
    assert [(row.raw, row.outcome) for row in preview.rows] == [
        ("(202) 555-0143", "accepted"),
        ("known@acme.com", "duplicate"),
        ("123", "rejected"),
        ("sam@acme.com", "accepted"),
    ]
    assert (preview.accepted, preview.duplicate, preview.rejected) == (2, 1, 1)
    assert Upload.objects.count() == 1  # only the factory's
    assert Entry.objects.count() == 1


def test_confirming_the_import_creates_an_upload_and_enqueues_its_processing(
    ops_client, customer, django_capture_on_commit_callbacks
):
    # given
    preview = ops_client.post(
        reverse("admin:suppressions_entry_import"),
        {
            "resource": "0",
            "customer": customer.pk,
            "format": "0",
            "import_file": SimpleUploadedFile("dnc.csv", csv_bytes([["phone"], ["2025550143"]])),
        },
    )
    token = preview.context["confirm_form"].initial["token"]

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = ops_client.post(reverse("admin:suppressions_entry_process_import"), {"token": token})

    # then
    upload = Upload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:suppressions_upload_change", args=[upload.pk])
    assert len(callbacks) == 1
    upload.refresh_from_db()
    assert (upload.status, upload.uploaded_by.username, upload.accepted) == (Upload.Status.DONE, "oscar", 1)


def test_a_tampered_import_token_is_refused(ops_client):
    # when
    response = ops_client.post(reverse("admin:suppressions_entry_process_import"), {"token": "forged:token"})

    # then
    assert response.status_code == 302
    assert not Upload.objects.exists()


def test_import_needs_the_add_upload_permission(client):
    # given
    client.force_login(UserFactory(permissions=["suppressions.view_entry"]))

    # when
    response = client.get(reverse("admin:suppressions_entry_import"))

    # then
    assert response.status_code == 403


def test_upload_page_shows_progress_report_and_rejected_rows(ops_client, upload_file):
    # given
    upload = upload_file(csv_bytes([["phone"], ["2025550143"], ["=HYPERLINK(1)"]]))

    # when
    page = ops_client.get(reverse("admin:suppressions_upload_change", args=[upload.pk]))
    progress = ops_client.get(reverse("admin:suppressions_upload_progress", args=[upload.pk])).json()

    # then
    assert page.status_code == 200
    assert b"upload-bar" in page.content
    assert "1 accepted, 0 duplicates, 1 rejected" in page.content.decode()
    assert progress["status"] == "done" and progress["percent"] == 100 and progress["finished"]


def test_rejected_rows_download_as_csv_with_formulas_escaped(ops_client, upload_file):
    # given
    upload = upload_file(csv_bytes([["phone"], ["=HYPERLINK(1)"], ["@SUM(A1)"], ["+bad"]]))

    # when
    response = ops_client.get(reverse("admin:suppressions_upload_rejected_csv", args=[upload.pk]))

    # then
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["line", "column", "value", "reason"]
    assert [row[2] for row in rows[1:]] == ["'=HYPERLINK(1)", "'@SUM(A1)", "'+bad"]
    assert RejectedRow.objects.filter(upload=upload).count() == 3


@pytest.mark.parametrize("dangerous", ["=cmd|'/c calc'!A1", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_export_escapes_every_formula_leading_character(customer, dangerous):
    # given
    EntryFactory(customer=customer, kind=Entry.Kind.DOMAIN, value=dangerous)

    # when
    dataset = EntryExportResource().export(Entry.objects.all())

    # then
    assert dataset.dict[0]["value"] == "'" + dangerous
    assert dataset.dict[0]["kind"] == "domain"


def test_export_through_the_admin_returns_the_escaped_list(ops_client, customer):
    # given
    EntryFactory(customer=customer, kind=Entry.Kind.PHONE, value="+12025550143")

    # when
    response = ops_client.post(
        reverse("admin:suppressions_entry_export"),
        {"format": "0", "resource": "0", "entryexportresource_value": "on", "entryexportresource_kind": "on"},
    )

    # then
    assert response.status_code == 200
    assert "'+12025550143" in response.content.decode()


def test_removing_entries_from_the_admin_asks_for_a_reason_then_lifts(ops_client, customer):
    # given
    entry = EntryFactory(customer=customer)
    url = reverse("admin:suppressions_entry_changelist")
    selection = {"action": "remove_entries", "_selected_action": [entry.pk]}

    # when
    confirmation = ops_client.post(url, selection)
    done = ops_client.post(url, {**selection, "confirm": "yes", "reason": "Customer asked"})

    # then
    assert confirmation.status_code == 200 and b"Remove and lift" in confirmation.content
    assert done.status_code == 302
    entry.refresh_from_db()
    assert (entry.is_active, entry.remove_reason) == (False, "Customer asked")

"""Uploading a suppression file in the portal: the same pipeline as the admin, with the portal's checks."""

import copy
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from campaigns.models import LeadStatus
from suppressions.models import Entry, Upload
from tests.portal.uploading import portal_upload
from tests.suppressions.factories import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db


# Customer A's scene is built once for the module; each test gets its own copy (see tests.built_once).
@pytest.fixture
def tenant_a(tenant_a_built_once, db):
    return copy.deepcopy(tenant_a_built_once)


def _post(client, content: bytes, name: str = "numbers.csv", content_type: str = "text/csv"):
    return portal_upload(client, {"file": SimpleUploadedFile(name, content, content_type=content_type)})


def test_uploaded_csv_is_read_matched_and_its_lead_disqualified(
    portal_client, tenant_a, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(portal_client, csv_bytes([["Phone"], ["(202) 200-1001"]]))

    # then
    upload = Upload.objects.get(customer=tenant_a.customer, original_name="numbers.csv")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:upload", args=[upload.pk])
    assert upload.uploaded_by == tenant_a.user
    assert Entry.objects.active().filter(customer=tenant_a.customer, value="+12022001001").exists()
    tenant_a.lead.refresh_from_db()
    assert tenant_a.lead.status == LeadStatus.DISQUALIFIED


def test_xlsx_upload_is_accepted(portal_client, tenant_a, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            portal_client,
            xlsx_bytes([["phone"], ["2022001001"]]),
            name="list.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )

    # then
    assert response.status_code == 302
    assert Upload.objects.get(original_name="list.xlsx").accepted == 1


def test_file_is_stored_outside_the_web_root_under_a_random_name(portal_client, tenant_a):
    # when
    _post(portal_client, csv_bytes([["phone"], ["2022001001"]]), name="secret list.csv")

    # then
    upload = Upload.objects.get(original_name="secret list.csv")
    stored = Path(upload.file.path)
    assert stored.is_relative_to(Path(settings.MEDIA_ROOT))
    assert "secret" not in stored.name
    assert not str(settings.MEDIA_URL).startswith(("/static", "/portal"))


def test_too_large_file_is_refused_with_the_limit_in_the_message(portal_client, tenant_a, settings):
    # given
    settings.LEADOPS_PORTAL_UPLOAD_MAX_BYTES = 1024

    # when
    response = _post(portal_client, b"phone\n" + b"2022001001\n" * 200)

    # then
    assert response.status_code == 413
    assert "the limit is 1.0\xa0KB" in response.content.decode()
    assert not Upload.objects.filter(original_name="numbers.csv").exists()


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(portal_client, tenant_a, settings):
    # given
    settings.LEADOPS_PORTAL_UPLOAD_MAX_BYTES = 1024

    # when
    response = _post(portal_client, b"phone\n" + b"2022001001\n" * 20_000)

    # then
    assert response.status_code == 413
    assert "the limit is 1.0\xa0KB" in response.content.decode()
    assert not Upload.objects.filter(original_name="numbers.csv").exists()


@pytest.mark.parametrize(
    ("name", "content", "content_type", "message"),
    [
        ("numbers.exe", b"MZ\x90\x00", "application/octet-stream", "Upload a CSV, TSV, TXT or XLSX file."),
        ("numbers.csv", b"phone\n2022001001\n", "image/png", "not a CSV file"),
        ("numbers.csv", b"%PDF-1.7 binary", "text/csv", "content is not a CSV file"),
        ("numbers.xlsx", b"phone\n2022001001\n", "application/vnd.ms-excel", "content is not a XLSX file"),
        ("numbers.csv", b"phone\x00\x01\x02", "text/csv", "content is not a CSV file"),
    ],
)
def test_wrong_extension_type_or_content_is_refused(portal_client, tenant_a, name, content, content_type, message):
    # when
    response = _post(portal_client, content, name=name, content_type=content_type)

    # then
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Upload.objects.filter(original_name=name).exists()


def test_utf16_csv_from_excel_is_accepted(portal_client, tenant_a):
    # when
    response = _post(portal_client, csv_bytes([["phone"], ["2022001001"]], delimiter="\t", encoding="utf-16"))

    # then
    assert response.status_code == 302


def test_upload_form_requires_a_csrf_token(tenant_a):
    # given
    client = Client(enforce_csrf_checks=True)
    client.force_login(tenant_a.user)

    # when
    response = _post(client, csv_bytes([["phone"], ["2022001001"]]))

    # then
    assert response.status_code == 403
    assert not Upload.objects.filter(original_name="numbers.csv").exists()


def test_every_portal_form_carries_a_csrf_token(portal_client, tenant_a):
    # given
    pages = [
        reverse("portal:suppressions"),
        reverse("portal:entries"),
        reverse("portal:entry_remove", args=[tenant_a.entry.pk]),
        reverse("portal:upload_remove", args=[tenant_a.upload.pk]),
        reverse("portal:contact", args=[tenant_a.contact.pk]),
        reverse("portal:account", args=[tenant_a.account.pk]),
    ]

    for url in pages:
        # when
        page = portal_client.get(url).content.decode()

        # then
        assert page.count('method="post"') == page.count("csrfmiddlewaretoken"), url

"""What an upload would do, before it is confirmed (portal and admin): the values accepted, duplicate and
rejected, and the leads that leave the pool. Each prediction is checked against what the confirmed upload did;
a big file is previewed on a sample and its figures are labelled estimates."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Lead, LeadStatus
from suppressions.models import Upload
from suppressions.services.preview import HEADER_ONLY, upload_preview
from tests.campaigns.factories import (
    AccountFactory,
    CampaignFactory,
    ContactEmailFactory,
    ContactFactory,
    ContactPhoneFactory,
    CustomerFactory,
    LeadFactory,
    PhoneNumberFactory,
    UserFactory,
)
from tests.portal.uploading import portal_upload
from tests.suppressions.factories import EntryFactory, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def scene():
    """A customer with leads reachable by a number, an email, an email domain and a website; one leased now."""
    customer = CustomerFactory(name="Northwind", slug="northwind", phone_region="US")
    campaign = CampaignFactory(customer=customer, name="Spring")
    other = CampaignFactory(customer=customer, name="Autumn")
    user = UserFactory(username="nina-northwind", customer=customer, is_staff=False)
    leads = {}
    for index, name in enumerate(["by_phone", "by_email", "by_domain", "by_site", "untouched"]):
        account = AccountFactory(
            customer=customer, name=f"{name} Inc", domain="site.example" if name == "by_site" else ""
        )
        contact = ContactFactory(account=account, first_name=name)
        ContactPhoneFactory(contact=contact, phone=PhoneNumberFactory(e164=f"+1202555{index:04d}"))
        if name == "by_email":
            ContactEmailFactory(contact=contact, email="eve@mail.example", domain="mail.example")
        if name == "by_domain":
            ContactEmailFactory(contact=contact, email="dan@eu.corp.example", domain="eu.corp.example")
        leads[name] = LeadFactory(campaign=campaign, contact=contact)
    leads["by_phone_autumn"] = LeadFactory(campaign=other, contact=leads["by_phone"].contact)
    Lead.objects.filter(pk=leads["by_email"].pk).update(
        leased_to=UserFactory(username="caller-x"), waiting_until=timezone.now() + timedelta(minutes=5)
    )
    EntryFactory(customer=customer, kind="phone", value="+12025559999")
    return {"customer": customer, "user": user, "leads": leads}


def _new_uploads():
    """The uploads the test made (not the one behind the entry already on the list)."""
    return Upload.objects.exclude(original_name__startswith="list")


FILE = [
    ["phone", "email", "domain"],
    ["(202) 555-0000", "eve@mail.example", "corp.example"],
    ["+1 202 555 9999", "", "site.example"],
    ["not a number", "", ""],
]


def _left(customer) -> set[int]:
    return set(Lead.objects.filter(customer=customer, status=LeadStatus.DISQUALIFIED).values_list("pk", flat=True))


def test_the_portal_previews_an_upload_and_the_confirmed_upload_does_what_it_said(
    client, scene, django_capture_on_commit_callbacks
):
    # given
    client.force_login(scene["user"])
    leads = scene["leads"]
    # when: the file is chosen
    page = client.post(reverse("portal:suppressions"), {"file": SimpleUploadedFile("dnc.csv", csv_bytes(FILE))})
    # then: what it would do, and nothing written
    preview = page.context["preview"]
    assert not _new_uploads().exists()
    assert (preview.accepted, preview.duplicate, preview.rejected, preview.estimated) == (4, 1, 1, False)
    pool = preview.pool
    assert {c.campaign: c.leaving for c in pool.campaigns} == {"Spring": 4, "Autumn": 1}
    assert pool.leased_now == 1
    text = _text(page)
    assert "5 leads would leave your pools, 1 of them with a caller right now" in text
    assert "4 would be added to your list, 1 are already on it, 1 cannot be read" in text
    # when: confirmed
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("portal:upload_confirm"), {"token": page.context["token"]})
    # then: the prediction holds
    assert done.status_code == 302
    upload = _new_uploads().get()
    assert (upload.accepted, upload.duplicate, upload.rejected) == (4, 1, 1)
    predicted = {lead.pk for lead in Lead.objects.filter(pk__in=[leads[n].pk for n in leads if n != "untouched"])}
    assert _left(scene["customer"]) == predicted
    assert pool.leaving == len(predicted)


def test_a_big_file_is_previewed_on_a_sample_and_its_estimates_come_close(
    scene, tmp_path, django_capture_on_commit_callbacks
):
    # given: 400 rows, one in four a number of the customer's leads (100 leads)
    customer = scene["customer"]
    campaign = scene["leads"]["untouched"].campaign
    rows = [["phone"]]
    for index in range(400):
        number = f"+1303555{index:04d}"
        if index % 4 == 0:
            contact = ContactFactory(account=AccountFactory(customer=customer, domain=""))
            ContactPhoneFactory(contact=contact, phone=PhoneNumberFactory(e164=number))
            LeadFactory(campaign=campaign, contact=contact)
        rows.append([number if index % 10 else "garbage"])
    path = tmp_path / "big.csv"
    path.write_bytes(csv_bytes(rows))
    before = _left(customer)
    # when: previewed on its first 80 values
    preview = upload_preview(customer=customer, path=str(path), filename="big.csv", sample=80)
    # then: estimates, labelled
    assert preview.estimated and (preview.rows_sampled, preview.rows_total) == (80, 400)
    assert preview.pool.estimated
    assert (preview.accepted, preview.rejected) == (360, 40)
    # when: uploaded for real
    from django.core.files.base import ContentFile

    from suppressions.services import upload_create

    with django_capture_on_commit_callbacks(execute=True):
        upload = upload_create(
            customer=customer,
            file=ContentFile(path.read_bytes(), name="big.csv"),
            original_name="big.csv",
            uploaded_by=None,
        )
    upload.refresh_from_db()
    # then: the estimates are within a tenth of what happened
    left = len(_left(customer) - before)
    assert (upload.accepted, upload.rejected) == (360, 40)
    assert abs(preview.pool.leaving - left) <= left / 10, (preview.pool.leaving, left)


def test_a_header_only_file_is_refused_in_the_portal_and_the_admin(client, scene):
    # given
    content = csv_bytes([["phone", "email"]])
    ops = UserFactory(username="ops-x", is_staff=True, is_superuser=True)
    # when
    client.force_login(scene["user"])
    portal = portal_upload(client, {"file": SimpleUploadedFile("empty.csv", content)})
    client.force_login(ops)
    admin = client.post(
        reverse("admin:suppressions_entry_import"),
        {"resource": "0", "customer": scene["customer"].pk, "import_file": SimpleUploadedFile("empty.csv", content)},
    )
    # then
    assert portal.status_code == 400 and HEADER_ONLY in portal.content.decode()
    assert admin.status_code == 200 and HEADER_ONLY in admin.content.decode()
    assert "confirm_form" not in admin.context
    assert not _new_uploads().exists()


def test_the_admin_importer_reads_the_format_from_the_file_and_previews_the_pool(client, scene):
    # given: a workbook, posted with no format chosen
    ops = UserFactory(username="ops-y", is_staff=True, is_superuser=True)
    client.force_login(ops)
    form_page = client.get(reverse("admin:suppressions_entry_import"))
    # when
    page = client.post(
        reverse("admin:suppressions_entry_import"),
        {
            "resource": "0",
            "customer": scene["customer"].pk,
            "import_file": SimpleUploadedFile("dnc.xlsx", xlsx_bytes(FILE)),
        },
    )
    # then
    assert 'name="format"' not in form_page.content.decode()
    assert page.status_code == 200, page.context["form"].errors if page.context else page
    preview = page.context["preview"]
    assert (preview.accepted, preview.duplicate, preview.rejected) == (4, 1, 1)
    assert preview.pool.leaving == 5
    assert "5 leads leave the pool, 1 of them leased to a caller right now" in _text(page)


def test_the_uploads_list_has_a_button_to_the_importer_and_results_link_their_lists(
    client, scene, django_capture_on_commit_callbacks
):
    # given
    ops = UserFactory(username="ops-z", is_staff=True, is_superuser=True)
    client.force_login(scene["user"])
    with django_capture_on_commit_callbacks(execute=True):
        portal_upload(client, {"file": SimpleUploadedFile("dnc.csv", csv_bytes(FILE))})
    upload = _new_uploads().get()
    upload.refresh_from_db()
    portal_page = client.get(reverse("portal:upload", args=[upload.pk])).content.decode()
    portal_left = client.get(reverse("portal:disqualified"), {"upload": upload.pk})
    client.force_login(ops)
    # when
    listing = client.get(reverse("admin:suppressions_upload_changelist")).content.decode()
    detail = client.get(reverse("admin:suppressions_upload_change", args=[upload.pk]))
    # then
    assert f'href="{reverse("admin:suppressions_entry_import")}"' in listing and "Upload suppressions" in listing
    assert f"{upload.blocks_created} blocks made" in _text(detail)
    assert "5 leads left the pool" in _text(detail)
    assert upload.blocks_created == 4
    assert 'id="blocks-made">4<' in portal_page and 'id="leads-matched">5<' in portal_page
    assert f'href="{reverse("portal:disqualified")}?upload={upload.pk}"' in portal_page
    assert len(portal_left.context["rows"]) == 5

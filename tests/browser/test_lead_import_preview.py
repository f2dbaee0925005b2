"""Ops upload a CRM export in a real browser: the preview says what the import would make of each row, and a
header-only or binary file is refused on the upload page with the reason."""

import pytest
from django.urls import reverse

from campaigns.imports.models import LeadImport
from campaigns.models import Block, Lead, PhoneNumber
from campaigns.services import BlockTarget, block_create
from tests.campaigns.factories import CampaignFactory, UserFactory
from tests.suppressions.factories import EntryFactory, csv_bytes

pytestmark = pytest.mark.browser

PASSWORD = "pw-for-tests-1"
HEADER = ["First Name", "Last Name", "Company", "Website", "Email", "Phone"]


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}{reverse('admin:login')}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def upload(page, live_server, campaign, name: str, content: bytes) -> None:
    page.goto(f"{live_server.url}{reverse('admin:imports_leadimport_add')}")
    page.select_option("#id_campaign", str(campaign.pk))
    page.set_input_files("#id_file", files=[{"name": name, "mimeType": "text/csv", "buffer": content}])
    page.click("input[type=submit][value=Preview]")


def test_the_preview_says_what_each_row_would_become(transactional_db, live_server, new_page, screenshot):
    # given: a suppressed number and a platform DNC number in the customer's world
    campaign = CampaignFactory(name="Spring outreach")
    EntryFactory(customer=campaign.customer, kind="phone", value="+12025550111")
    block_create(
        target=BlockTarget(phone=PhoneNumber.objects.create(e164="+12025550122")),
        source=Block.Source.OPS_PHONE_DNC,
        reason=Block.Reason.DO_NOT_CALL,
        reach=Block.Reach.PLATFORM,
        actor="tests",
    )
    UserFactory(username="olga", is_superuser=True)
    content = csv_bytes(
        [
            HEADER,
            ["Ada", "Byron", "Acme", "acme.com", "ada@acme.com", "202-555-0100"],
            ["Bob", "Stone", "Acme", "acme.com", "bob@acme.com", "202-555-0111"],
            ["Cy", "Young", "Beta", "beta.com", "cy@beta.com", "202-555-0122"],
            ["Testing!£##", "", "", "", "!!!@mail.com", "123"],
        ]
    )
    page = new_page()
    log_in(page, live_server, "olga")
    # when
    upload(page, live_server, campaign, "crm-export.csv", content)
    # then
    page.wait_for_selector(".lead-import-prediction")
    outcome = {line: page.locator(f"td.outcome[data-line='{line}']").inner_text() for line in (2, 3, 4, 5)}
    assert outcome == {
        2: "Would be Eligible",
        3: "Would be blocked by Customer suppression",
        4: "Would be blocked by Platform DNC",
        5: "Junk: kept out of the pool",
    }
    assert "1 would be Eligible, 2 blocked" in page.locator(".lead-import-prediction").inner_text()
    screenshot(page, "lead-import-preview")
    assert Lead.objects.count() == 0  # the preview wrote nothing


def test_a_header_only_or_binary_file_is_refused_on_the_upload_page(
    transactional_db, live_server, new_page, screenshot
):
    # given
    campaign = CampaignFactory()
    UserFactory(username="olga", is_superuser=True)
    page = new_page()
    log_in(page, live_server, "olga")
    # when
    upload(page, live_server, campaign, "empty.csv", csv_bytes([HEADER]))
    # then
    errors = page.locator(".errorlist").inner_text()
    assert "the file has a header row and no values" in errors
    screenshot(page, "lead-import-header-only-refused")
    # when
    upload(page, live_server, campaign, "photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    # then
    assert "is a PNG image, not a table" in page.locator(".errorlist").inner_text()
    screenshot(page, "lead-import-binary-refused")
    assert LeadImport.objects.count() == 0

"""The portal in a real Chromium: upload, watch it finish, see why leads left, remove an entry, see one return.

Runs against pytest-django's live server with Debian's Chromium (``make browser-deps``); skipped when it is
not installed. Screenshots of each page, at a laptop's and a phone's width, go to test-output/screenshots/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from campaigns.models import Lead, LeadStatus
from tests.campaigns.factories import (
    AccountFactory,
    CampaignFactory,
    ContactFactory,
    ContactPhoneFactory,
    CustomerFactory,
    LeadFactory,
    PhoneNumberFactory,
    UserFactory,
)
from tests.suppressions.factories import csv_bytes

# Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself are safe here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(settings.BASE_DIR) / "test-output" / "screenshots"
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed (make browser-deps)"),
]


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def scene(transactional_db):
    customer = CustomerFactory(name="Acme Corp", slug="acme")
    user = UserFactory(username="alice", email="alice@acme.test", customer=customer, is_staff=False)
    campaign = CampaignFactory(customer=customer, name="Spring Outreach")
    CampaignFactory(customer=customer, name="Autumn Renewals")
    account = AccountFactory(customer=customer, name="Anvil Works", domain="anvil-works.example")
    people = {}
    for first, number in [("Ada", "+12022003001"), ("Bea", "+12022003002"), ("Cy", "+12022003003")]:
        contact = ContactFactory(account=account, first_name=first, last_name="Lovelace")
        ContactPhoneFactory(contact=contact, phone=PhoneNumberFactory(e164=number))
        people[first] = LeadFactory(campaign=campaign, contact=contact)
    for index in range(6):
        LeadFactory(campaign=campaign, contact=ContactFactory(account=account, first_name=f"Extra{index}"))
    return {"user": user, "leads": people}


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"portal-{name}.png"), full_page=True)


def _status(lead: Lead) -> str:
    lead.refresh_from_db()
    return lead.status


def test_customer_uploads_numbers_sees_leads_disqualified_and_removes_one_entry(live_server, browser, scene, tmp_path):
    from playwright.sync_api import expect

    # given
    leads = scene["leads"]
    upload_file = tmp_path / "do-not-call.csv"
    upload_file.write_bytes(csv_bytes([["Phone"], ["(202) 200-3001"], ["202.200.3002"], ["call me maybe"]]))
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)

    # when: sign in
    page.goto(f"{live_server.url}/portal/login/")
    _shot(page, "login-laptop")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pw-for-tests-1")
    page.click("button[type=submit]")

    # then
    expect(page.locator("h1")).to_have_text("Overview")

    # when: upload the file and watch its progress finish
    page.click("nav.main >> text=Uploads")
    page.set_input_files("input[type=file]", str(upload_file))
    page.click("#upload-form button[type=submit]")

    # then: first what it would do, nothing written yet
    expect(page.locator("h1")).to_have_text("What do-not-call.csv would do")
    expect(page.locator("#preview-counts")).to_contain_text(
        "2 would be added to your list, 0 are already on it, 1 cannot be read"
    )
    expect(page.locator("#pool-leaving")).to_contain_text("2 leads would leave your pools")
    expect(page.locator("#pool-change")).to_contain_text("Ada Lovelace (Anvil Works, Spring Outreach)")
    _shot(page, "upload-preview-laptop")
    assert _status(leads["Ada"]) == LeadStatus.ELIGIBLE

    # when: confirmed
    page.click("#confirm-upload")

    # then
    expect(page.locator("h1")).to_have_text("do-not-call.csv")
    expect(page.locator(".progress-box [data-status-text]")).to_have_text("Done")
    expect(page.locator(".progress.finished")).to_be_visible()
    expect(page.locator("#report")).to_contain_text("2 accepted")
    expect(page.locator("#leads-matched")).to_have_text("2")
    _shot(page, "upload-laptop")
    assert (_status(leads["Ada"]), _status(leads["Bea"]), _status(leads["Cy"])) == (
        LeadStatus.DISQUALIFIED,
        LeadStatus.DISQUALIFIED,
        LeadStatus.ELIGIBLE,
    )

    # when: see why the leads left the pool
    page.click("nav.main >> text=Disqualified leads")

    # then
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("text=Ada Lovelace is disqualified for Acme Corp")).to_contain_text(
        "by your suppression list (upload do-not-call.csv, line 2: +12022003001)"
    )
    _shot(page, "disqualified-laptop")

    # when: remove Ada's number from the list
    page.click("nav.main >> text=Suppression list")
    _shot(page, "entries-laptop")
    page.locator("tr", has_text="+1 202-200-3001").locator("text=Remove").click()
    page.fill("#id_reason", "She asked to be called again")
    page.click("button:has-text('Remove')")

    # then: Ada's lead is back in the pool, Bea's is not
    expect(page.locator(".messages")).to_contain_text("removed from your list")
    page.click("nav.main >> text=Disqualified leads")
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table")).not_to_contain_text("Ada Lovelace")
    assert (_status(leads["Ada"]), _status(leads["Bea"])) == (LeadStatus.ELIGIBLE, LeadStatus.DISQUALIFIED)

    # and every page reads well on a laptop and on a phone
    page.click("nav.main >> text=Overview")
    _shot(page, "home-laptop")
    page.goto(f"{live_server.url}/portal/contacts/")
    _shot(page, "contacts-laptop")
    page.goto(f"{live_server.url}/portal/contacts/{leads['Bea'].contact_id}/")
    _shot(page, "contact-laptop")
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2)
    phone.add_cookies(context.cookies())
    mobile = phone.new_page()
    for name, path in [
        ("home", "/portal/"),
        ("uploads", "/portal/suppressions/"),
        ("entries", "/portal/suppressions/entries/"),
        ("disqualified", "/portal/leads/disqualified/"),
        ("contact", f"/portal/contacts/{leads['Bea'].contact_id}/"),
    ]:
        mobile.goto(f"{live_server.url}{path}")
        _shot(mobile, f"{name}-phone")
    phone.close()
    context.close()


def test_progress_bar_follows_a_running_upload_until_it_is_done(live_server, browser, scene):
    from playwright.sync_api import expect

    from suppressions.models import Upload
    from tests.suppressions.factories import UploadFactory

    # given: an upload a worker is still reading
    user = scene["user"]
    upload = UploadFactory(
        customer=user.customer,
        uploaded_by=user,
        original_name="big-list.csv",
        status=Upload.Status.READING,
        rows_total=1000,
        rows_done=400,
    )
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pw-for-tests-1")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/portal/suppressions/uploads/{upload.pk}/")
    expect(page.locator("[data-status-text]")).to_have_text("Reading · 40%")
    _shot(page, "progress-laptop")

    # when: the worker reads on, then finishes
    Upload.objects.filter(pk=upload.pk).update(rows_done=800)
    expect(page.locator("[data-status-text]")).to_have_text("Reading · 80%")
    expect(page.locator("#report")).to_have_text("Reading: 800 of about 1,000 rows read.")
    Upload.objects.filter(pk=upload.pk).update(
        status=Upload.Status.DONE, rows_done=1000, values_read=1000, accepted=1000
    )

    # then: the bar completes and the page reloads with the report
    expect(page.locator(".progress.finished")).to_be_visible()
    expect(page.locator("#report")).to_contain_text("1,000 accepted")
    context.close()


def test_customer_previews_a_crm_rule_from_a_template_then_saves_it(live_server, browser, scene):
    from playwright.sync_api import expect

    from suppressions.crm.models import CrmConnection
    from suppressions.crm.services import crm_events_process, crm_events_receive

    # given: Ada's company has an open deal in the customer's CRM
    leads = scene["leads"]
    connection = CrmConnection.objects.create(customer=scene["user"].customer, name="Acme HubSpot")
    crm_events_receive(
        connection=connection,
        events=[
            {
                "id": "deal-1",
                "action": "upsert",
                "object_type": "deal",
                "external_id": "9",
                "domain": "anvil-works.example",
                "properties": {"dealstage": "presentationscheduled"},
            }
        ],
    )
    crm_events_process(connection=connection)
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pw-for-tests-1")
    page.click("button[type=submit]")

    # when: the standard rule "Open deals", previewed
    page.click("nav.main >> text=CRM rules")
    expect(page.locator("#connections")).to_contain_text("Acme HubSpot")
    page.click("a[href$='template=open-deals']")
    expect(page.locator("#id_value")).to_have_value("closedwon, closedlost")
    page.click("button[name=preview]")

    # then: every lead of the account would leave; nothing is saved yet
    expect(page.locator("#rule-preview")).to_contain_text("1 of your CRM records match it")
    expect(page.locator("#pool-leaving")).to_contain_text("9 leads would leave your pools")
    _shot(page, "crm-rule-preview-laptop")
    assert _status(leads["Ada"]) == LeadStatus.ELIGIBLE

    # when: saved
    page.click("#confirm-rule")

    # then
    expect(page.locator(".messages")).to_contain_text("Rule 'Open deals' saved")
    expect(page.locator("#rules")).to_contain_text("Open deals")
    _shot(page, "crm-laptop")
    assert _status(leads["Ada"]) == LeadStatus.DISQUALIFIED
    page.click("nav.main >> text=Disqualified leads")
    expect(page.locator("table")).to_contain_text("rule 'Open deals', added by alice on")
    _shot(page, "disqualified-crm-laptop")
    context.close()

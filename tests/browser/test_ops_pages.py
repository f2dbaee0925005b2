"""The ops pages as a new ops person meets them, in a real browser: Account Details after a shared-number Do Not
Call, the lead list, the ops home. Screenshots go to test-output/screenshots/ (``ops-pages-*``)."""

import os

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from campaigns.models import PhoneNumber
from campaigns.services.workflows import phone_numbers_mark_dnc
from tests.campaigns.factories import AccountFactory, UserFactory, staff_groups_create
from tests.campaigns.workflow_scenes import lead_at, switchboard_scene
from tests.portal.conftest import customer_user

pytestmark = pytest.mark.browser

PASSWORD = "pw-for-tests-1"
SHOTS = os.environ.get("OPS_PAGES_SHOTS", "after")


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}{reverse('admin:login')}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def shared_dnc_scene():
    """The clinic's switchboard, shared by 25 more contacts of the clinic, marked Do Not Call by Olga (Ops)."""
    staff_groups_create()
    olga = UserFactory(username="olga")
    olga.groups.add(Group.objects.get(name="Ops"))
    scene = switchboard_scene()
    for i in range(25):
        lead_at(scene.account, scene.campaign, [scene.board], first_name=f"Staff{i:02d}")
    phone_numbers_mark_dnc(phones=PhoneNumber.objects.filter(pk=scene.board.pk), actor=olga)
    return scene


def fits_1400(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_ops_pages_screenshots(transactional_db, live_server, new_page, screenshot):
    scene = shared_dnc_scene()
    page = new_page()
    log_in(page, live_server, "olga")

    # Account Details after the shared number's Do Not Call: its sentence once, badges linking to it elsewhere
    page.goto(f"{live_server.url}{reverse('admin:campaigns_account_details', args=[scene.account.pk])}")
    path = screenshot(page, f"ops-pages-{SHOTS}-account-details-after-shared-dnc")
    page.screenshot(path=str(path.with_name(f"ops-pages-{SHOTS}-account-details-top.png")))  # the first screen
    if SHOTS == "before":
        return _before_rest(page, live_server, screenshot)
    text = page.locator("#account-details").inner_text()
    assert text.count("is on the platform Do-Not-Call list") == 1, text.count("is on the platform Do-Not-Call list")
    assert page.locator("#page-blocks tr.block").count() == 1
    badge = page.locator(f"#contact-{scene.grace.contact_id} a.badge.reason").first
    assert badge.inner_text() == "Platform DNC"
    badge.click()
    assert page.evaluate("location.hash") == f"#block-{scene.board.blocks.get().pk}"
    assert fits_1400(page)

    # the lead list: badges that expand to the sentence, within a 1400-px window
    page.goto(f"{live_server.url}{reverse('admin:campaigns_lead_changelist')}")
    assert fits_1400(page)
    first = page.locator("#result_list details.why-badge").first
    assert first.locator("summary").inner_text() == "Platform DNC"
    assert not first.evaluate("d => d.open")
    first.locator("summary").click()
    assert "is on the platform Do-Not-Call list" in first.inner_text()
    assert fits_1400(page)
    page.locator("#result_list details.why-badge summary").first.click()
    screenshot(page, f"ops-pages-{SHOTS}-lead-list")

    # every list of people and blocks fits too, and the number list's badge expands to the sentence
    for name in ("block", "phonenumber", "contact", "account"):
        page.goto(f"{live_server.url}{reverse(f'admin:campaigns_{name}_changelist')}")
        assert fits_1400(page), name
    page.goto(f"{live_server.url}{reverse('admin:campaigns_phonenumber_changelist')}?q=202-555-0143")
    page.locator("#result_list details.why-badge summary").first.click()
    assert "is on the platform Do-Not-Call list" in page.locator("#result_list").inner_text()
    screenshot(page, f"ops-pages-{SHOTS}-phone-number-search")

    # the ops home: pools, uploads and imports, search
    page.goto(f"{live_server.url}{reverse('admin:index')}")
    assert page.locator("#home-pools").is_visible()
    assert "Clinic outreach" in page.locator("#home-pools").inner_text()
    page.fill("#home-q", "Riverside Family")
    screenshot(page, f"ops-pages-{SHOTS}-ops-home")
    page.click("#home-find input[type=submit]")
    page.wait_for_selector("#result_list")
    assert "Riverside Family Clinic" in page.locator("#result_list").inner_text()


def _before_rest(page, live_server, screenshot):
    page.goto(f"{live_server.url}{reverse('admin:campaigns_lead_changelist')}")
    screenshot(page, f"ops-pages-{SHOTS}-lead-list")
    page.goto(f"{live_server.url}{reverse('admin:index')}")
    screenshot(page, f"ops-pages-{SHOTS}-ops-home")


def test_a_broad_search_says_its_count_is_a_lower_bound_and_the_portal_narrows_by_an_account_typed(
    transactional_db, live_server, new_page, screenshot, settings
):
    # given: 25 of the clinic's leads are "Staff…", and a searched list counts to 10 at most
    settings.LEADOPS_SEARCH_COUNT_LIMIT = 10
    scene = shared_dnc_scene()
    customer = scene.account.customer
    lead_at(AccountFactory(customer=customer, name="Oak Park Pharmacy"), scene.campaign, [], first_name="Olive")
    customer_user(customer, "portal.rita")
    page = new_page()
    log_in(page, live_server, "olga")
    # when: the lead list is searched for them
    page.goto(f"{live_server.url}{reverse('admin:campaigns_lead_changelist')}?q=Staff")
    # then: the count says it is a lower bound, in words a person reads, and the page fits
    assert "more than 10 leads" in page.locator("p.paginator").first.inner_text()
    assert page.locator("#result_list tbody tr").count() == 25
    assert fits_1400(page)
    screenshot(page, f"ops-pages-{SHOTS}-lead-search-lower-bound")

    # and in the portal, the contact list is narrowed by an account typed, not picked from every account
    portal = new_page()
    portal.goto(f"{live_server.url}{reverse('portal:login')}")
    portal.fill("#id_username", "portal.rita")
    portal.fill("#id_password", PASSWORD)
    portal.click("button[type=submit]")
    portal.goto(f"{live_server.url}{reverse('portal:contacts')}")
    assert portal.locator("select[name=account]").count() == 0
    portal.fill("input[name=account]", "oak park")
    portal.click("form.filters button[type=submit]")
    portal.wait_for_url("**account=oak+park**")
    rows = portal.locator("table tbody tr")
    assert rows.count() == 1 and "Olive" in rows.first.inner_text()
    screenshot(portal, f"ops-pages-{SHOTS}-portal-contacts-by-account")

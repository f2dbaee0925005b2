"""Ops and a customer open the lead report in a real browser, read its charts and follow a number to its leads."""

import pytest
from django.urls import reverse

from tests.campaigns.report_scenes import report_scene

pytestmark = pytest.mark.browser

PASSWORD = "pw-for-tests-1"


def _sign_in(page, url: str, username: str) -> None:
    page.goto(url)
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("[type=submit]")


def test_ops_open_the_report_and_follow_a_number_to_its_leads(transactional_db, live_server, new_page, screenshot):
    # given
    scene = report_scene()
    page = new_page()
    _sign_in(page, f"{live_server.url}{reverse('admin:login')}", "ops.olga")
    page.wait_for_selector("#site-name")

    # when: Olga opens the report from the admin's index, grouped by source then industry
    page.goto(f"{live_server.url}{reverse('admin:index')}")
    page.click("text=Lead reports")
    page.select_option("select[name=customer]", label="Northwind Health")
    page.select_option("select[name=then_by]", "industry")
    page.fill("input[name=since]", "2026-02-23")
    page.fill("input[name=until]", "2026-03-31")
    page.click("text=Show")
    page.wait_for_selector("table.report")

    # then: the charts are drawn and the funnel shows Vendor A's five leads among Health and Retail
    assert page.locator("svg.chart").count() == 2
    funnel = page.locator('table.report[data-table="1"]')
    assert funnel.locator("tbody tr").count() >= 4
    screenshot(page, "report-01-admin")

    # when: she follows the total of "at entry: fit rules"
    why = page.locator('table.report[data-table="2"]')
    headings = [text.casefold() for text in why.locator("thead th").all_inner_texts()]  # the admin capitalises them
    column = headings.index("at entry: fit rules") - 2  # after the two group headings
    why.locator("tfoot td").nth(column).locator("a").click()

    # then: the lead list shows the one lead that failed a fit rule as it came in
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "A5 Reportson" in rows.first.inner_text()
    assert f"/{scene.leads['a5'].pk}/" in rows.first.locator("a").first.get_attribute("href")
    screenshot(page, "report-02-admin-linked-list")


def test_a_customer_opens_its_report_and_the_leads_behind_a_number(transactional_db, live_server, new_page, screenshot):
    # given
    report_scene()
    page = new_page()
    _sign_in(page, f"{live_server.url}/portal/login/", "nw.user")
    page.wait_for_selector("nav.main")

    # when
    page.click("nav.main >> text=Report")
    page.wait_for_selector("table.report")
    screenshot(page, "report-03-portal")
    body = page.inner_text("body")

    # then: its own figures, no staff name
    assert "vendor a" in body.casefold() and "ops.olga" not in body.casefold()
    assert page.locator("svg.chart").count() == 2

    # when: it follows the number of meetings booked in the total
    funnel = page.locator('table.report[data-table="1"]')
    headings = [text.casefold() for text in funnel.locator("thead th").all_inner_texts()]
    column = headings.index("meetings booked") - 1  # the first heading is the group's
    funnel.locator("tfoot td").nth(column).locator("a").click()

    # then: the two leads with a meeting
    page.wait_for_selector('table[data-table="report-leads"]')
    assert page.locator('table[data-table="report-leads"] tbody tr').count() == 2
    screenshot(page, "report-04-portal-linked-list")

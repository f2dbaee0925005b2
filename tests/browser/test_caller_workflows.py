"""An approved caller in a real browser: signs in to the admin, finds a lead, records a call, marks a shared
number Do Not Call from Account Details, and is refused a campaign they are not approved for."""

import pytest
from django.urls import reverse

from campaigns.models import Block, Call, Lead, LeadStatus
from tests.campaigns.api_factories import disposition
from tests.campaigns.caller_scenes import PASSWORD, caller_scene, leaks

pytestmark = pytest.mark.browser


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}{reverse('admin:login')}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def test_an_approved_caller_works_their_lead_and_is_refused_another_campaign(
    transactional_db, live_server, new_page, screenshot
):
    # given: Amy works Clinic outreach Q3; the clinic's switchboard is shared with Quentin (the customer's other
    # campaign) and Quincy (another customer)
    scene = caller_scene()
    page = new_page()
    log_in(page, live_server, "amy.lee")
    screenshot(page, "caller-01-admin-index")
    assert "Suppression" not in page.locator("#content-main").inner_text()

    # when: she finds Tom's lead from the lead list
    page.goto(f"{live_server.url}{reverse('admin:campaigns_lead_changelist')}")
    page.fill("#searchbar", "Tom")
    page.press("#searchbar", "Enter")
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1 and "Tom Becker" in rows.first.inner_text()
    assert not leaks(page.content(), scene.secrets)
    screenshot(page, "caller-02-lead-list")
    page.locator("#result_list tbody tr a", has_text="Tom Becker").click()
    page.wait_for_selector("a.workflow-link")
    assert "Approved callers" in page.content() and "Amy Lee" in page.content()

    # when: she records a call with its disposition
    page.click("a.workflow-link:text-is('Record a call')")
    page.select_option("#id_disposition", str(disposition(scene.mine, "no_answer").pk))
    page.select_option("#id_number", scene.board.e164)
    screenshot(page, "caller-03-record-a-call")
    page.click("input[type=submit]")

    # then: back on the lead, the call is recorded and the lead cools down
    page.wait_for_selector(".messagelist")
    assert "Recorded 'No answer'" in page.locator(".messagelist").inner_text()
    assert Call.objects.filter(lead=scene.tom, caller=scene.amy).count() == 1
    assert Lead.objects.get(pk=scene.tom.pk).status == LeadStatus.WAITING
    screenshot(page, "caller-04-call-recorded")

    # when: from Account Details she marks the shared switchboard Do Not Call
    page.click("a.workflow-link:text-is('Account details')")
    page.wait_for_selector("#account-details")
    details = page.content()
    assert "… and 2 leads in campaigns you do not work." in details and not leaks(details, scene.secrets)
    screenshot(page, "caller-05-account-details")
    page.locator(f"#contact-{scene.tom.contact_id} input[form=numbers-form][value='{scene.board.pk}']").check()
    page.click("#mark-phone-dnc")

    # then: the confirmation lists her contacts sharing it, and only counts the others
    page.wait_for_selector("table.sharing-contacts")
    sharing = page.locator("table.sharing-contacts").inner_text()
    assert "Maria Lopez" in sharing and "Tom Becker" in sharing
    assert "… and 2 contacts in campaigns you do not work." in page.content()
    assert not leaks(page.content(), scene.secrets)
    screenshot(page, "caller-06-mark-phone-dnc-confirmation")
    page.click("#workflow-form input[type=submit]")

    # then: back on the account, the block names her in her role
    page.wait_for_selector("#account-details")
    assert "left the pool" in page.locator(".messagelist").inner_text()
    tom = page.locator(f"#contact-{scene.tom.contact_id} li.lead").first.inner_text()
    assert "Disqualified" in tom
    # its badge on the lead; its sentence once on the page
    assert "Platform DNC" in tom
    assert "is on the platform Do-Not-Call list: marked by Amy Lee, approved caller for Clinic outreach Q3, on" in (
        page.locator("#page-blocks").inner_text()
    )
    block = Block.objects.active().get(phone=scene.board, reach=Block.Reach.PLATFORM)
    assert (block.actor, block.caller_campaign) == (scene.amy, scene.mine)
    screenshot(page, "caller-07-account-details-after-dnc")

    # when: she opens a lead and the page of a campaign she is not approved for
    refused_lead = page.goto(f"{live_server.url}{reverse('admin:campaigns_lead_change', args=[scene.quentin.pk])}")
    lead_text = page.content()
    screenshot(page, "caller-08-another-campaigns-lead-refused")
    refused_campaign = page.goto(
        f"{live_server.url}{reverse('admin:campaigns_campaign_change', args=[scene.sibling.pk])}"
    )
    # then: not found, and nothing of it shown
    assert (refused_lead.status, refused_campaign.status) == (404, 404)
    assert not leaks(lead_text, scene.secrets) and not leaks(page.content(), scene.secrets)

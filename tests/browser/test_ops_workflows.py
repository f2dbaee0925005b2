"""Ops click through Mark Phone DNC on a shared switchboard and Undisqualify, in a real browser."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from campaigns.models import Block, Lead, LeadStatus
from tests.campaigns.factories import UserFactory, staff_groups_create
from tests.campaigns.workflow_scenes import switchboard_scene

pytestmark = pytest.mark.browser

PASSWORD = "pw-for-tests-1"


def member_of(group: str, username: str):
    staff_groups_create()
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=group))
    return user


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}{reverse('admin:login')}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def test_mark_a_shared_switchboard_dnc_then_undisqualify_one_lead(transactional_db, live_server, new_page, screenshot):
    # given: a clinic whose switchboard Maria (who also has a mobile), Tom and Grace share; Zoe, of another
    # customer, has it too
    scene = switchboard_scene()
    member_of("Ops", "olga")
    member_of("Ops lead", "leo")
    details = f"{live_server.url}{reverse('admin:campaigns_account_details', args=[scene.account.pk])}"
    page = new_page()
    log_in(page, live_server, "olga")

    # when: Olga marks the switchboard DNC from the account's page
    page.goto(details)
    screenshot(page, "01-account-details-before")
    page.locator(f"#contact-{scene.tom.contact_id} input[form=numbers-form][value='{scene.board.pk}']").check()
    page.click("#mark-phone-dnc")

    # then: the confirmation lists every contact sharing it, across accounts, and the leads that leave
    page.wait_for_selector("#leaving-leads")
    sharing = page.locator("table.sharing-contacts").inner_text()
    for name in ("Maria Clinic", "Tom Clinic", "Grace Clinic", "Zoe Clinic"):
        assert name in sharing
    assert page.locator("#leaving-leads tbody tr").count() == 4
    assert "4 leads will leave the pool" in page.locator("#impact-total").inner_text()
    screenshot(page, "02-mark-phone-dnc-confirmation")
    page.click("#workflow-form input[type=submit]")

    # then: back on the account, the leads have left the pool, each with the sentence saying why
    page.wait_for_selector("#account-details")
    assert "4 leads left the pool" in page.locator(".messagelist").inner_text()
    tom = page.locator(f"#contact-{scene.tom.contact_id} li.lead").first
    assert "Disqualified" in tom.inner_text()
    # its badge on the lead; its sentence once on the page
    assert "Platform DNC" in tom.inner_text()
    assert (
        "+1 202-555-0143 is on the platform Do-Not-Call list: marked by olga"
        in page.locator("#page-blocks").inner_text()
    )
    maria = page.locator(f"#contact-{scene.maria.contact_id} li.lead").first
    assert "Eligible" in maria.inner_text()
    screenshot(page, "03-account-details-after-dnc")

    # when: Olga (Ops) tries to undisqualify Tom: the platform DNC needs an Ops lead
    page.goto(f"{live_server.url}{reverse('admin:campaigns_lead_change', args=[scene.tom.pk])}")
    page.click("a.workflow-link:text-is('Undisqualify')")
    page.wait_for_selector("table.blocks-behind")
    # the block she may not lift says why, and is not pre-ticked
    dnc_box = page.locator("table.blocks-behind input[name=blocks]").first
    assert not dnc_box.is_checked()
    assert "Ops lead" in page.locator("table.blocks-behind").inner_text()
    # ticking it anyway: the service still refuses, and says why
    dnc_box.check()
    page.fill("#id_reason", "He called back")
    page.click("#workflow-form input[type=submit]")
    page.wait_for_selector("#undisqualify-result")
    assert "Ops lead" in page.locator("#undisqualify-result").inner_text()
    assert Lead.objects.get(pk=scene.tom.pk).status == LeadStatus.DISQUALIFIED

    # when: Leo (Ops lead) undisqualifies Tom's lead with a reason
    lead_page = new_page()
    log_in(lead_page, live_server, "leo")
    lead_page.goto(f"{live_server.url}{reverse('admin:campaigns_lead_change', args=[scene.tom.pk])}")
    lead_page.click("a.workflow-link:text-is('Undisqualify')")
    lead_page.wait_for_selector("table.blocks-behind")
    assert "is on the platform Do-Not-Call list" in lead_page.locator("table.blocks-behind").inner_text()
    lead_page.fill("#id_reason", "Withdrew the request on a recorded call")
    screenshot(lead_page, "04-undisqualify-confirmation")
    lead_page.click("#workflow-form input[type=submit]")

    # then: the result says the lead is back, and the account page shows it Eligible again
    lead_page.wait_for_selector("#undisqualify-result")
    assert lead_page.locator(".lead-status").inner_text() == "Eligible"
    # every lead the lifted switchboard freed is listed: Tom's two, Grace's and Zoe's
    assert "Back in the pool (4)" in lead_page.locator("#undisqualify-result").inner_text()
    assert lead_page.locator("ul.came-back li").count() == 4
    screenshot(lead_page, "05-undisqualify-result")
    lead_page.goto(details)
    assert "Eligible" in lead_page.locator(f"#contact-{scene.tom.contact_id} li.lead").first.inner_text()
    screenshot(lead_page, "06-account-details-after-undisqualify")
    assert Block.objects.get().lift_reason == "Withdrew the request on a recorded call"

"""The ops pages as a new ops person meets them, in a real browser: Account Details after a shared-number Do Not
Call, the lead list, the ops home. Screenshots go to test-output/screenshots/ (``ops-pages-*``)."""

import os

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from campaigns.models import PhoneNumber
from campaigns.services.workflows import phone_numbers_mark_dnc
from tests.campaigns.factories import UserFactory, staff_groups_create
from tests.campaigns.workflow_scenes import lead_at, switchboard_scene

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


def test_ops_pages_screenshots(transactional_db, live_server, new_page, screenshot):
    scene = shared_dnc_scene()
    page = new_page()
    log_in(page, live_server, "olga")
    page.goto(f"{live_server.url}{reverse('admin:campaigns_account_details', args=[scene.account.pk])}")
    screenshot(page, f"ops-pages-{SHOTS}-account-details-after-shared-dnc")
    page.goto(f"{live_server.url}{reverse('admin:campaigns_lead_changelist')}")
    screenshot(page, f"ops-pages-{SHOTS}-lead-list")
    page.goto(f"{live_server.url}{reverse('admin:index')}")
    screenshot(page, f"ops-pages-{SHOTS}-ops-home")

"""Ops qualify a lead with a meeting from the lead page's progress bar, in a real browser."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Customer, LeadStage, Opportunity
from campaigns.services.calls import call_record
from campaigns.services.catalogues import consideration_stages_seed, lost_reasons_seed, project_create
from tests.campaigns.api_factories import CallerFactory, DialerLeadFactory, disposition
from tests.campaigns.factories import UserFactory, staff_groups_create

pytestmark = pytest.mark.browser

PASSWORD = "pw-for-tests-1"


def test_ops_qualify_a_lead_with_a_meeting_from_the_progress_bar(transactional_db, live_server, new_page, screenshot):
    # given: a lead whose call booked a meeting two days ago, and the customer's catalogue
    staff_groups_create()
    olga = UserFactory(username="olga")
    olga.groups.add(Group.objects.get(name="Ops"))
    lead = DialerLeadFactory()
    lost_reasons_seed(customers=Customer.objects.filter(pk=lead.customer_id))
    consideration_stages_seed(campaigns=type(lead.campaign).objects.filter(pk=lead.campaign_id))
    project_create(customer=lead.customer, name="Tower A", actor="tests")
    caller = CallerFactory(approved_for=[lead.campaign])
    call_record(
        lead=lead,
        caller=caller,
        disposition=disposition(lead.campaign, "meeting_booked"),
        number=lead.contact.phones.first().phone.e164,
        callback_at=timezone.now() - timedelta(days=2),
        actor=caller,
    )
    lead.refresh_from_db()
    assert lead.stage == LeadStage.MEETING_BOOKED
    page = new_page()
    page.goto(f"{live_server.url}{reverse('admin:login')}")
    page.fill("#id_username", "olga")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")

    # when: Olga opens the lead and chooses Qualified at the right end of its progress bar
    page.goto(f"{live_server.url}{reverse('admin:campaigns_lead_change', args=[lead.pk])}")
    bar = page.locator(".lead-stage-bar")
    assert bar.get_attribute("data-stage") == "meeting_booked"
    screenshot(page, "qualify-01-lead-with-meeting")
    bar.locator("a.qualify-link").click()

    # and: fills in the one form: a new customer, at Decision, interested in Tower A
    page.wait_for_selector("text=Qualify lead")
    page.check("input[name=customer][value=new]")
    page.select_option("#id_consideration_stage", label="Decision")
    page.check("input[name=interest][value=project]")
    page.select_option("#id_project", label="Tower A")
    screenshot(page, "qualify-02-form")
    page.click("input[type=submit][value=Confirm]")

    # then: back on the lead, outreach reads as finished with success, and the bar ends on Qualified
    page.wait_for_selector(".messagelist")
    opportunity = Opportunity.objects.get(lead=lead)
    assert f"Qualified: {opportunity}." in page.locator(".messagelist").inner_text()
    assert page.locator(".lead-stage-bar").get_attribute("data-stage") == "qualified"
    body = page.locator("#content").inner_text()
    assert "Outreach finished: qualified on" in body and "(meeting on" in body
    assert "is now Disqualified" not in body
    screenshot(page, "qualify-03-lead-qualified")

    # and: the opportunity is in the admin's list, and its page says what it is about and where it came from
    page.goto(f"{live_server.url}{reverse('admin:campaigns_opportunity_changelist')}")
    page.click(f"a:text-is('{opportunity}')")
    page.wait_for_selector("text=Follow up")
    detail = page.locator("#content").inner_text()
    assert "Tower A" in detail and "Decision" in detail and "olga" in detail
    screenshot(page, "qualify-04-opportunity")
    assert (opportunity.project.name, opportunity.consideration_stage.label) == ("Tower A", "Decision")
    assert opportunity.meeting is not None and opportunity.meeting.outcome == "qualified"

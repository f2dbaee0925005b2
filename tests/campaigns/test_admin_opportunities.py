"""The back office's qualification: the stage bar on the lead page, the qualify form, opportunities (list,
filters, history, follow-up) for ops only, and the junk purge's confirmation page."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from campaigns.imports.models import PurgeLog
from campaigns.models import Block, Call, ConsiderationStage, Customer, Lead, LeadStage, Meeting, Opportunity
from campaigns.services import contact_create
from campaigns.services.catalogues import consideration_stages_seed, lost_reasons_seed, project_create
from tests.campaigns.api_factories import CallerFactory, DialerLeadFactory, disposition
from tests.campaigns.factories import AccountFactory, UserFactory, staff_groups_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(client):
    staff_groups_create()
    user = UserFactory(username="olga")
    user.groups.add(Group.objects.get(name="Ops"))
    client.force_login(user)
    return user


@pytest.fixture
def lead():
    lead = DialerLeadFactory()
    lost_reasons_seed(customers=Customer.objects.filter(pk=lead.customer_id))
    consideration_stages_seed(campaigns=type(lead.campaign).objects.filter(pk=lead.campaign_id))
    project_create(customer=lead.customer, name="Tower A", actor="tests")
    return lead


def qualify_url(lead: Lead) -> str:
    return reverse("admin:campaigns_opportunity_qualify", args=[lead.pk])


def test_the_lead_page_shows_the_stage_bar_with_qualify_at_its_right_end(client, ops, lead):
    # when
    page = client.get(reverse("admin:campaigns_lead_change", args=[lead.pk])).content.decode()
    # then
    assert 'class="lead-stage-bar" data-stage="new"' in page
    assert qualify_url(lead) in page and "Qualified / Unqualified" in page


def test_qualifying_from_the_form_makes_the_opportunity_and_the_bar_ends_on_qualified(client, ops, lead):
    # given
    form = client.get(qualify_url(lead))
    stage = ConsiderationStage.objects.get(campaign=lead.campaign, label="Decision")
    # when
    response = client.post(
        qualify_url(lead),
        {
            "customer": "new",
            "consideration_stage": stage.pk,
            "interest": "project",
            "project": lead.customer.projects.get().pk,
        },
    )
    # then
    assert form.status_code == 200 and "Existing customer" in form.content.decode()
    assert response.status_code == 302
    opportunity = Opportunity.objects.get()
    assert (opportunity.lead, opportunity.consideration_stage, opportunity.qualified_by) == (lead, stage, ops)
    lead.refresh_from_db()
    assert lead.stage == LeadStage.QUALIFIED
    page = client.get(reverse("admin:campaigns_lead_change", args=[lead.pk])).content.decode()
    assert 'data-stage="qualified"' in page


def test_qualify_asks_for_a_lost_reason_when_lost(client, ops, lead):
    # when
    response = client.post(
        qualify_url(lead),
        {"customer": "new", "consideration_stage": ConsiderationStage.objects.first().pk, "interest": "lost"},
    )
    # then
    assert response.status_code == 200 and "Choose why the opportunity is lost." in response.content.decode()
    assert not Opportunity.objects.exists()


def test_a_caller_not_approved_for_the_campaign_may_not_open_the_qualify_form(client, lead):
    # given
    client.force_login(CallerFactory(is_staff=True))
    # when / then
    assert client.get(qualify_url(lead)).status_code == 403


def _meetings(lead: Lead, count: int) -> list[Meeting]:
    caller = CallerFactory(approved_for=[lead.campaign])
    call = Call.objects.create(lead=lead, caller=caller, disposition=disposition(lead.campaign, "meeting_booked"))
    return [Meeting.objects.create(lead=lead, booked_by_call=call) for _ in range(count)]


def test_a_meeting_outcome_set_to_qualified_leads_into_the_qualify_form_for_that_meeting(client, ops, lead):
    # given: two meetings; the older one is the one that went well
    older, _newer = _meetings(lead, 2)
    stage = ConsiderationStage.objects.get(campaign=lead.campaign, label="Decision")
    # when
    response = client.post(
        reverse("admin:campaigns_lead_meeting_outcome", args=[lead.pk]),
        {"meeting": older.pk, "outcome": Meeting.Outcome.QUALIFIED},
    )
    form = client.get(response["Location"])
    qualified_response = client.post(
        response["Location"],
        {
            "customer": "new",
            "consideration_stage": stage.pk,
            "interest": "project",
            "project": lead.customer.projects.get().pk,
            "meeting": older.pk,
        },
    )
    # then: outreach ended on the outcome, and the opportunity comes from that meeting, in place of its block
    assert response.status_code == 302
    assert response["Location"] == f"{qualify_url(lead)}?meeting={older.pk}"
    assert f'name="meeting" value="{older.pk}"' in form.content.decode()
    assert qualified_response.status_code == 302
    opportunity = Opportunity.objects.get()
    assert opportunity.meeting == older
    [active] = Block.objects.active().filter(lead=lead)
    assert active.evidence == opportunity and active.reason == Block.Reason.QUALIFIED


def test_a_meeting_outcome_other_than_qualified_goes_back_to_the_lead(client, ops, lead):
    # given
    [meeting] = _meetings(lead, 1)
    # when
    response = client.post(
        reverse("admin:campaigns_lead_meeting_outcome", args=[lead.pk]),
        {"meeting": meeting.pk, "outcome": Meeting.Outcome.NOT_QUALIFIED},
    )
    # then
    assert response["Location"] == reverse("admin:campaigns_lead_change", args=[lead.pk])


def test_the_qualify_form_refuses_a_meeting_of_another_lead(client, ops, lead):
    # given
    other = DialerLeadFactory(campaign=lead.campaign)
    [meeting] = _meetings(other, 1)
    stage = ConsiderationStage.objects.get(campaign=lead.campaign, label="Decision")
    # when
    response = client.post(
        qualify_url(lead),
        {
            "customer": "new",
            "consideration_stage": stage.pk,
            "interest": "project",
            "project": lead.customer.projects.get().pk,
            "meeting": meeting.pk,
        },
    )
    # then
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Opportunity.objects.exists()


def qualified(lead: Lead, ops) -> Opportunity:
    from campaigns.services.opportunities import lead_qualify

    return lead_qualify(
        lead=lead,
        actor=ops,
        consideration_stage=ConsiderationStage.objects.get(campaign=lead.campaign, label="Awareness"),
        project=lead.customer.projects.get(),
    )


def test_ops_list_filter_and_follow_up_opportunities_with_history(client, ops, lead):
    # given
    opportunity = qualified(lead, ops)
    follow_up = reverse("admin:campaigns_opportunity_follow_up", args=[opportunity.pk])
    decision = ConsiderationStage.objects.get(campaign=lead.campaign, label="Decision")
    # when
    listing = client.get(reverse("admin:campaigns_opportunity_changelist"), {"state": "open"})
    moved = client.post(follow_up, {"action": "stage", "consideration_stage": decision.pk})
    won = client.post(follow_up, {"action": "won"})
    change = client.get(reverse("admin:campaigns_opportunity_change", args=[opportunity.pk])).content.decode()
    # then
    assert listing.status_code == 200 and str(opportunity) in listing.content.decode()
    assert moved.status_code == 302 and won.status_code == 302
    opportunity.refresh_from_db()
    assert (opportunity.state, opportunity.consideration_stage) == ("won", decision)
    assert "History" in change and "Awareness" in change and "Decision" in change


def test_a_caller_does_not_see_opportunities(client, lead):
    # given
    client.force_login(CallerFactory(is_staff=True, approved_for=[lead.campaign]))
    # when / then
    assert client.get(reverse("admin:campaigns_opportunity_changelist")).status_code == 403


def test_the_purge_page_says_how_many_then_purges_on_confirmation(client, ops):
    # given
    account = AccountFactory()
    contact_create(account=account, first_name="Testing!£##")
    url = reverse("admin:imports_purgelog_purge")
    # when
    confirmation = client.get(url).content.decode()
    purged = client.post(url, {"post": "yes"})
    # then
    assert "1 contact judged junk, with 0 leads" in confirmation
    assert purged.status_code == 302
    assert PurgeLog.objects.get().contacts == 1


def test_account_details_shows_each_leads_stage_bar(client, ops, lead):
    # when
    page = client.get(reverse("admin:campaigns_account_details", args=[lead.contact.account_id])).content.decode()
    # then
    assert 'class="lead-stage-bar" data-stage="new"' in page and qualify_url(lead) in page

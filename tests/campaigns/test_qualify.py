"""Qualify a lead into an opportunity (new or existing customer, project or lost), the follow-up, its history,
and the words a qualified lead reads with."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from campaigns.models import (
    Block,
    ConsiderationStage,
    Customer,
    Lead,
    LeadStage,
    LeadStatus,
    LostReason,
    Meeting,
    Opportunity,
    OpportunityEvent,
    Project,
)
from campaigns.selectors.explaining import CUSTOMER, OPS, explain
from campaigns.selectors.opportunities import existing_matches, projects_offered
from campaigns.services.calls import call_record, lead_unqualify
from campaigns.services.catalogues import consideration_stages_seed, lost_reasons_seed, project_create
from campaigns.services.directory import campaign_create, customer_create
from campaigns.services.opportunities import lead_qualify, opportunity_lost, opportunity_stage_set, opportunity_won
from leadops.errors import LeadopsError
from tests.campaigns.api_factories import CallerFactory, DialerLeadFactory, disposition
from tests.campaigns.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops():
    return UserFactory(username="olivia", permissions=["campaigns.work_every_campaign", "campaigns.reopen_lead"])


@pytest.fixture
def lead():
    lead = DialerLeadFactory()
    lost_reasons_seed(customers=Customer.objects.filter(pk=lead.customer_id))
    consideration_stages_seed(campaigns=type(lead.campaign).objects.filter(pk=lead.campaign_id))
    return lead


def stage(lead: Lead, label: str = "Consideration") -> ConsiderationStage:
    return ConsiderationStage.objects.get(campaign=lead.campaign, label=label)


def project(lead: Lead, name: str = "Tower A") -> Project:
    return project_create(customer=lead.customer, name=name, actor="tests")


def book_meeting(lead: Lead, *, on: datetime) -> Meeting:
    caller = CallerFactory(approved_for=[lead.campaign])
    number = lead.contact.phones.first().phone.e164
    call_record(
        lead=lead,
        caller=caller,
        disposition=disposition(lead.campaign, "meeting_booked"),
        number=number,
        callback_at=on,
        actor=caller,
    )
    return lead.meetings.get()


def test_new_customers_and_campaigns_get_the_default_catalogues():
    # when
    customer = customer_create(name="Acme", slug="acme")
    campaign = campaign_create(customer=customer, name="Spring")
    # then
    assert list(LostReason.objects.filter(customer=customer).values_list("label", "needs_note")) == [
        ("Price", False),
        ("Timing", False),
        ("Competitor", False),
        ("No budget", False),
        ("No decision maker", False),
        ("Other", True),
    ]
    assert list(ConsiderationStage.objects.filter(campaign=campaign).values_list("label", flat=True)) == [
        "Awareness",
        "Consideration",
        "Decision",
    ]
    # and seeding again adds nothing
    assert lost_reasons_seed(customers=Customer.objects.filter(pk=customer.pk)) == 0


def test_a_campaign_restricting_projects_offers_only_those_and_the_unrestricted_ones(lead):
    # given
    everywhere = project(lead, "Everywhere")
    here = project_create(customer=lead.customer, name="Here", campaigns=[lead.campaign], actor="tests")
    other = campaign_create(customer=lead.customer, name="Other campaign")
    project_create(customer=lead.customer, name="Elsewhere", campaigns=[other], actor="tests")
    # then
    assert set(projects_offered(lead)) == {everywhere, here}


def test_qualifying_a_new_customer_makes_an_open_opportunity_and_ends_outreach(lead, ops):
    # given
    meeting = book_meeting(lead, on=timezone.now() + timedelta(days=2))
    tower = project(lead)
    # when
    opportunity = lead_qualify(lead=lead, actor=ops, consideration_stage=stage(lead), project=tower)
    # then
    lead.refresh_from_db()
    meeting.refresh_from_db()
    assert (opportunity.state, opportunity.project, opportunity.account) == ("open", tower, lead.contact.account)
    assert (opportunity.contact, opportunity.campaign, opportunity.meeting, opportunity.qualified_by) == (
        lead.contact,
        lead.campaign,
        meeting,
        ops,
    )
    assert list(opportunity.calls.all()) == list(lead.calls.all())
    assert not opportunity.existing_customer
    assert meeting.outcome == Meeting.Outcome.QUALIFIED
    assert (lead.stage, lead.status) == (LeadStage.QUALIFIED, LeadStatus.DISQUALIFIED)
    block = Block.objects.active().get(lead=lead)
    assert (block.source, block.reason, block.evidence) == ("meeting_outcome", "qualified", opportunity)
    assert list(opportunity.events.values_list("kind", "to_value", "actor")) == [("qualified", "Tower A", ops.pk)]


def test_a_repeat_qualify_returns_the_same_opportunity(lead, ops):
    # given
    first = lead_qualify(lead=lead, actor=ops, consideration_stage=stage(lead), project=project(lead))
    # when
    again = lead_qualify(lead=lead, actor=ops, consideration_stage=stage(lead, "Decision"), project=first.project)
    # then
    assert again == first
    assert Opportunity.objects.count() == 1
    assert Block.objects.active().filter(lead=lead).count() == 1


def test_qualifying_as_lost_needs_a_reason_and_other_needs_a_note(lead, ops):
    # given
    other = LostReason.objects.get(customer=lead.customer, label="Other")
    # when / then
    with pytest.raises(LeadopsError, match="Say more about 'Other'"):
        lead_qualify(lead=lead, actor=ops, consideration_stage=stage(lead), lost_reason=other)
    with pytest.raises(LeadopsError, match="a project the lead is interested in, or a lost reason"):
        lead_qualify(lead=lead, actor=ops, consideration_stage=stage(lead))
    assert not Opportunity.objects.exists()
    # when
    opportunity = lead_qualify(
        lead=lead, actor=ops, consideration_stage=stage(lead), lost_reason=other, lost_note="Bought a house"
    )
    # then
    assert (opportunity.state, opportunity.lost_reason, opportunity.lost_note) == ("lost", other, "Bought a house")


def test_existing_customer_offers_the_account_its_domain_and_subdomain_accounts_and_merges_into_the_chosen(lead, ops):
    # given
    lead.contact.account.domain = "acme.example"
    lead.contact.account.save()
    sub = AccountFactory(customer=lead.customer, domain="eu.acme.example", name="Acme EU")
    AccountFactory(customer=lead.customer, domain="notacme.example")
    AccountFactory(domain="acme.example")  # another customer's
    # when
    matches = existing_matches(lead)
    # then
    assert [m.account for m in matches] == [lead.contact.account, sub]
    # when
    opportunity = lead_qualify(
        lead=lead, actor=ops, consideration_stage=stage(lead), project=project(lead), existing=matches[1]
    )
    # then
    assert (opportunity.account, opportunity.existing_customer, opportunity.matched) == (sub, True, sub)
    assert opportunity.contact == lead.contact


def test_only_ops_or_the_campaigns_approved_caller_may_qualify(lead):
    # given
    stranger = CallerFactory()
    approved = CallerFactory(approved_for=[lead.campaign])
    # when / then
    with pytest.raises(LeadopsError) as refused:
        lead_qualify(lead=lead, actor=stranger, consideration_stage=stage(lead), project=project(lead))
    assert refused.value.code == "permission_denied"
    assert (
        lead_qualify(
            lead=lead, actor=approved, consideration_stage=stage(lead), project=Project.objects.get()
        ).qualified_by
        == approved
    )


def test_an_unqualified_lead_is_refused_until_reopened(lead, ops):
    # given
    lead_unqualify(lead=lead, reason="wrong_number", actor=ops)
    # when / then
    with pytest.raises(LeadopsError, match="reopen it before qualifying"):
        lead_qualify(lead=lead, actor=ops, consideration_stage=stage(lead), project=project(lead))


def test_follow_up_records_each_change_with_who_and_from_and_to(lead, ops):
    # given
    opportunity = lead_qualify(
        lead=lead, actor=ops, consideration_stage=stage(lead, "Awareness"), project=project(lead)
    )
    price = LostReason.objects.get(customer=lead.customer, label="Price")
    # when
    opportunity_stage_set(opportunity=opportunity, consideration_stage=stage(lead, "Decision"), actor=ops)
    opportunity_stage_set(opportunity=opportunity, consideration_stage=stage(lead, "Decision"), actor=ops)
    opportunity_lost(opportunity=opportunity, lost_reason=price, actor=ops)
    opportunity_won(opportunity=opportunity, actor="crm.sync")
    # then
    opportunity.refresh_from_db()
    assert opportunity.state == Opportunity.State.WON and opportunity.lost_reason is None
    assert list(opportunity.events.values_list("kind", "from_value", "to_value", "actor_job")) == [
        ("qualified", "", "Tower A", ""),
        ("stage", "Awareness", "Decision", ""),
        ("lost", "Open", "Lost: Price", ""),
        ("won", "Lost", "Won", "crm.sync"),
    ]
    assert OpportunityEvent.objects.filter(actor=ops).count() == 3


def test_a_qualified_lead_reads_outreach_finished_for_ops_and_the_customer(lead, ops):
    # given: the meeting on 29 Nov, qualified on 3 Dec
    meeting_day = datetime(2031, 11, 29, 15, tzinfo=UTC)
    book_meeting(lead, on=meeting_day)
    lead_qualify(
        lead=lead,
        actor=ops,
        consideration_stage=stage(lead),
        project=project(lead),
        now=datetime(2031, 12, 3, 12, tzinfo=UTC),
    )
    Block.objects.filter(lead=lead).update(created_at=datetime(2031, 12, 3, 12, tzinfo=UTC))
    # when
    for_ops = [r.message for r in explain(lead, audience=OPS)]
    for_customer = [r.message for r in explain(lead, audience=CUSTOMER)]
    # then
    assert for_ops[0].startswith("Outreach finished: qualified on 3 Dec (meeting on 29 Nov).")
    assert "olivia" in for_ops[0]
    assert for_customer[0].startswith("Outreach finished: qualified on 3 Dec (meeting on 29 Nov).")
    assert "olivia" not in for_customer[0]
    assert not any("disqualified" in m.lower() for m in for_ops + for_customer)


def test_existing_customer_offers_a_crm_company_marked_as_a_customer_and_names_it(lead, ops):
    # given
    from suppressions.crm.models import CrmMatch, CrmRecord
    from tests.crm.factories import CrmConnectionFactory, CrmRuleFactory

    lead.contact.account.domain = "acme.example"
    lead.contact.account.save()
    connection = CrmConnectionFactory(customer=lead.customer, name="HubSpot")
    rule = CrmRuleFactory(customer=lead.customer, reason=Block.Reason.EXISTING_CUSTOMER)
    records = [
        CrmRecord.objects.create(
            connection=connection,
            customer=lead.customer,
            object_type="company",
            external_id=str(n),
            name=name,
            domain=domain,
        )
        for n, (name, domain) in enumerate([("Acme Inc", "acme.example"), ("Acme prospect", "eu.acme.example")])
    ]
    CrmMatch.objects.create(rule=rule, record=records[0])
    # when
    crm = [m for m in existing_matches(lead) if m.record.__class__ is CrmRecord]
    opportunity = lead_qualify(
        lead=lead, actor=ops, consideration_stage=stage(lead), project=project(lead), existing=crm[0]
    )
    # then
    assert [m.record for m in crm] == [records[0]]
    assert (opportunity.matched, opportunity.account, opportunity.existing_customer) == (
        records[0],
        lead.contact.account,
        True,
    )
    assert "HubSpot" in opportunity.matched_text

"""Lead stages: each transition, written by the status recompute's one statement, and always what the calls,
meetings and blocks say."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.db import connection

from campaigns.models import Lead, LeadStage, LeadStatus, Meeting
from campaigns.services.calls import call_record, leads_reopen, leads_unqualify, meeting_outcome_set
from campaigns.services.undisqualify import lead_undisqualify
from tests.campaigns.api_factories import CallerFactory, DialerCampaignFactory, DialerLeadFactory, disposition
from tests.campaigns.factories import UserFactory
from tests.statements import statements_of

pytestmark = pytest.mark.django_db


def record(lead: Lead, code: str) -> Lead:
    caller = CallerFactory(approved_for=[lead.campaign])
    number = lead.contact.phones.order_by("id").first().phone.e164
    call_record(lead=lead, caller=caller, disposition=disposition(lead.campaign, code), number=number, actor=caller)
    lead.refresh_from_db()
    return lead


def stage_of(lead: Lead) -> str:
    lead.refresh_from_db(fields=["stage"])
    return lead.stage


@pytest.fixture
def ops():
    return UserFactory(permissions=["campaigns.reopen_lead", "campaigns.lift_block", "campaigns.work_every_campaign"])


def test_a_new_lead_is_new():
    # given / when
    lead = DialerLeadFactory()
    # then
    assert stage_of(lead) == LeadStage.NEW


def test_a_call_without_a_connect_makes_the_lead_attempted():
    # given
    lead = DialerLeadFactory()
    # when
    record(lead, "no_answer")
    # then
    assert stage_of(lead) == LeadStage.ATTEMPTED


def test_a_connected_call_makes_the_lead_connected_and_a_later_no_answer_keeps_it_so():
    # given
    lead = DialerLeadFactory()
    record(lead, "gatekeeper")
    assert stage_of(lead) == LeadStage.CONNECTED
    # when
    record(lead, "no_answer")
    # then
    assert stage_of(lead) == LeadStage.CONNECTED


def test_booking_a_meeting_makes_the_lead_meeting_booked():
    # given
    lead = DialerLeadFactory()
    # when
    record(lead, "meeting_booked")
    # then
    assert stage_of(lead) == LeadStage.MEETING_BOOKED


def test_a_qualified_meeting_makes_the_lead_qualified_while_its_status_is_disqualified(ops):
    # given
    lead = record(DialerLeadFactory(), "meeting_booked")
    # when
    meeting_outcome_set(meeting=lead.meetings.get(), outcome=Meeting.Outcome.QUALIFIED, actor=ops)
    # then
    lead.refresh_from_db()
    assert (lead.stage, lead.status) == (LeadStage.QUALIFIED, LeadStatus.DISQUALIFIED)


def test_a_no_show_steps_the_lead_back_to_connected(ops):
    # given
    lead = record(DialerLeadFactory(), "meeting_booked")
    # when
    meeting_outcome_set(meeting=lead.meetings.get(), outcome=Meeting.Outcome.NO_SHOW, actor=ops)
    # then
    assert stage_of(lead) == LeadStage.CONNECTED


def test_a_meeting_not_qualified_makes_the_lead_unqualified(ops):
    # given
    lead = record(DialerLeadFactory(), "meeting_booked")
    # when
    meeting_outcome_set(meeting=lead.meetings.get(), outcome=Meeting.Outcome.NOT_QUALIFIED, actor=ops)
    # then
    assert stage_of(lead) == LeadStage.UNQUALIFIED


def test_unqualify_makes_the_lead_unqualified_and_reopen_steps_it_back(ops):
    # given
    lead = record(DialerLeadFactory(), "gatekeeper")
    # when
    leads_unqualify(leads=Lead.objects.filter(pk=lead.pk), reason="wrong_number", actor=ops)
    # then
    assert stage_of(lead) == LeadStage.UNQUALIFIED
    # when
    leads_reopen(leads=Lead.objects.filter(pk=lead.pk), actor=ops, reason="Number corrected")
    # then
    assert stage_of(lead) == LeadStage.CONNECTED


def test_the_attempt_cap_makes_the_lead_unqualified():
    # given
    lead = DialerLeadFactory(campaign=DialerCampaignFactory(attempt_cap=2))
    record(lead, "no_answer")
    # when
    record(lead, "busy")
    # then
    assert stage_of(lead) == LeadStage.UNQUALIFIED


def test_undisqualify_lifting_the_unqualification_steps_the_stage_back(ops):
    # given
    lead = record(DialerLeadFactory(), "no_answer")
    leads_unqualify(leads=Lead.objects.filter(pk=lead.pk), reason="invalid_number", actor=ops)
    # when
    lead_undisqualify(lead=lead, actor=ops, reason="Reviewed")
    # then
    assert stage_of(lead) == LeadStage.ATTEMPTED


def test_the_stage_is_independent_of_a_contact_block(ops):
    # given: a contact-wide block stops the lead, but says nothing of where its outreach is
    from campaigns.services.workflows import contacts_disqualify

    lead = record(DialerLeadFactory(), "gatekeeper")
    # when
    contacts_disqualify(contacts=type(lead.contact).objects.filter(pk=lead.contact_id), reason="competitor", actor=ops)
    # then
    lead.refresh_from_db()
    assert (lead.stage, lead.status) == (LeadStage.CONNECTED, LeadStatus.DISQUALIFIED)


def test_unqualifying_many_leads_costs_the_same_statements_as_one(ops):
    # given
    campaign = DialerCampaignFactory()
    one = [DialerLeadFactory(campaign=campaign)]
    twenty = [DialerLeadFactory(campaign=campaign) for _ in range(20)]

    def unqualify(leads):
        return lambda: leads_unqualify(
            leads=Lead.objects.filter(pk__in=[x.pk for x in leads]), reason="unreachable", actor=ops
        )

    ops.get_all_permissions()  # loaded once per user object, by whichever call asks first
    # when
    counts = [statements_of(unqualify(leads)) for leads in (one, twenty)]
    # then
    assert counts[0] == counts[1]
    assert set(Lead.objects.filter(campaign=campaign).values_list("stage", flat=True)) == {LeadStage.UNQUALIFIED}


def expected_stage(lead: Lead) -> str:
    """The stage read from the rows themselves, as a person would."""
    on_lead = lead.blocks.active()
    if on_lead.filter(source="meeting_outcome", reason="qualified").exists():
        return LeadStage.QUALIFIED
    if on_lead.filter(source__in=["ops_disqualify", "unreachable", "meeting_outcome"]).exists():
        return LeadStage.UNQUALIFIED
    if lead.meetings.exclude(outcome="no_show").exists():
        return LeadStage.MEETING_BOOKED
    if lead.calls.exclude(disposition__effect="no_connect").exists():
        return LeadStage.CONNECTED
    return LeadStage.ATTEMPTED if lead.calls.exists() else LeadStage.NEW


def test_the_stored_stage_agrees_with_calls_meetings_and_blocks_and_the_migration_fills_the_same(ops):
    # given: leads in every situation
    campaign = DialerCampaignFactory(attempt_cap=2)
    scenes = [[], ["no_answer"], ["gatekeeper"], ["meeting_booked"], ["no_answer", "busy"], ["meeting_booked"]]
    leads = [DialerLeadFactory(campaign=campaign) for _ in scenes]
    for lead, codes in zip(leads, scenes, strict=True):
        for code in codes:
            record(lead, code)
    meeting_outcome_set(meeting=leads[3].meetings.get(), outcome=Meeting.Outcome.QUALIFIED, actor=ops)
    meeting_outcome_set(meeting=leads[5].meetings.get(), outcome=Meeting.Outcome.NO_SHOW, actor=ops)
    leads_unqualify(leads=Lead.objects.filter(pk=leads[2].pk), reason="wrong_number", actor=ops)
    stored = {lead.pk: stage_of(lead) for lead in leads}
    # then
    assert stored == {lead.pk: expected_stage(lead) for lead in leads}
    assert list(stored.values()) == [
        LeadStage.NEW,
        LeadStage.ATTEMPTED,
        LeadStage.UNQUALIFIED,
        LeadStage.QUALIFIED,
        LeadStage.UNQUALIFIED,
        LeadStage.CONNECTED,
    ]
    # when: the data migration runs over leads whose stage was never written
    Lead.objects.update(stage=LeadStage.NEW)
    migration = importlib.import_module("campaigns.migrations.0011_lead_stage_fill")
    migration.fill_stages(django_apps, SimpleNamespace(connection=connection))
    # then
    assert {lead.pk: stage_of(lead) for lead in leads} == stored

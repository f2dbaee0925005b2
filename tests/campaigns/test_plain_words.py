"""Sentences in the user's language: no job names, no repetition, dates in words, a Waiting lead says why and
until when."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Block, Lead
from campaigns.selectors import explain
from campaigns.selectors.explaining import block_badge, date_words, waiting_sentence
from campaigns.services import BlockTarget, block_create
from tests.campaigns.factories import CampaignFactory, CustomerFactory, LeadFactory

pytestmark = pytest.mark.django_db


def only_sentence(lead) -> str:
    (reason,) = explain(lead)
    return reason.message


@pytest.mark.parametrize(
    ("source", "actor", "words"),
    [
        (Block.Source.FIT_RULE, "fit_rules", "by the campaign's fit rules (title contains intern)"),
        (Block.Source.UNREACHABLE, "dialer.attempt_cap", "after 6 attempts without a connect"),
        (Block.Source.SUPPRESSION, "suppressions.match", "by Northwind Health's suppression list (title contains"),
    ],
)
def test_a_job_is_said_as_what_it_did(source, actor, words):
    campaign = CampaignFactory(customer=CustomerFactory(name="Northwind Health"), name="Commercial solar")
    campaign.attempt_cap = 6
    campaign.save()
    lead = LeadFactory(campaign=campaign, contact__first_name="James", contact__last_name="Davis")
    block_create(
        target=BlockTarget(lead=lead),
        source=source,
        reason=Block.Reason.NOT_A_FIT,
        reach=Block.Reach.CAMPAIGN,
        campaign=campaign,
        actor=actor,
        evidence_text="title contains intern",
    )
    sentence = only_sentence(lead)
    assert words in sentence
    assert " job" not in sentence and actor not in sentence
    # no repetition: the lead's campaign is named once
    assert sentence.count("Commercial solar") == 1, sentence
    assert sentence.startswith("James Davis's lead in Commercial solar is disqualified (")


def test_dates_are_in_words_with_the_year_only_when_not_this_years():
    now = timezone.now()
    assert date_words(now) == f"{timezone.localtime(now).day} {timezone.localtime(now):%b}"
    assert date_words(now - timedelta(days=800)).endswith(str(timezone.localtime(now - timedelta(days=800)).year))


def test_contact_disqualify_does_not_say_workflow():
    lead = LeadFactory()
    block_create(
        target=BlockTarget(contact=lead.contact),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.COMPETITOR,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    sentence = only_sentence(lead)
    assert "workflow" not in sentence and "with Disqualify" in sentence


def test_a_waiting_lead_says_why_and_until_when_without_placeholder_dates():
    lead = LeadFactory()
    lead.waiting_reason = Lead.WaitingReason.MEETING
    lead.waiting_until = timezone.now() + timedelta(days=3650)
    assert "2036" not in waiting_sentence(lead) and "meeting's outcome" in waiting_sentence(lead)
    lead.waiting_reason = Lead.WaitingReason.CALLBACK
    lead.waiting_until = timezone.now() + timedelta(days=2)
    assert waiting_sentence(lead).startswith(f"Callback booked for {date_words(lead.waiting_until)}, ")


def test_badges_are_short():
    lead = LeadFactory()
    block, _ = block_create(
        target=BlockTarget(contact=lead.contact),
        source=Block.Source.SUPPRESSION,
        reason=Block.Reason.OTHER,
        reach=Block.Reach.CUSTOMER,
        actor="suppressions.match",
        evidence_text="upload do-not-contact.csv, line 4",
    )
    assert block_badge(block) == "Suppressed — upload do-not-contact.csv"


def test_the_lead_page_says_why_a_waiting_lead_waits_not_that_nothing_stops_it(admin_client):
    from django.urls import reverse

    from campaigns.admin import NOTHING_STOPS_THIS_LEAD
    from campaigns.models import LeadStatus

    lead = LeadFactory()
    Lead.objects.filter(pk=lead.pk).update(
        status=LeadStatus.WAITING,
        waiting_reason=Lead.WaitingReason.MEETING,
        waiting_until=timezone.now() + timedelta(days=3650),
    )
    page = admin_client.get(reverse("admin:campaigns_lead_change", args=[lead.pk])).content.decode()
    assert "Waiting for the meeting&#x27;s outcome" in page
    assert NOTHING_STOPS_THIS_LEAD not in page
    lists = admin_client.get(reverse("admin:campaigns_lead_changelist")).content.decode()
    assert "Waiting for the meeting&#x27;s outcome" in lists
    assert str((timezone.now() + timedelta(days=3650)).year) not in lists


def test_a_live_check_reason_has_a_badge():
    from campaigns.selectors.explaining import Reason, reason_badge

    assert reason_badge(Reason(code="suppression_upload_pending", message="…")) == "Upload being read"
    assert reason_badge(Reason(code="no_number", message="…")) == "No number"

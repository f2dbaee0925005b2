"""Unqualify and Reopen in words: the reasons with the seed's definitions (one constant for the form and the
sentences), sentences that name Unqualify, and Reopen's confirmation saying what it will and will not undo."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.html import escape

from campaigns.admin.forms import UnqualifyForm
from campaigns.models import Lead
from campaigns.rules import UNQUALIFY_DEFINITIONS
from campaigns.selectors.explaining import explain
from campaigns.selectors.unqualifying import reopen_words
from campaigns.services.calls import lead_unqualify
from tests.campaigns.factories import LeadFactory, UserFactory, staff_groups_create

pytestmark = pytest.mark.django_db

SEED = {
    "invalid_number": "invalid when it was called",
    "unreachable": "still could not be reached",
    "wrong_number": "belongs to someone unrelated",
    "no_longer_interested": "insisted on opting out",
}


def test_the_unqualify_form_offers_each_reason_with_its_definition():
    # when
    choices = dict(UnqualifyForm().fields["reason"].choices)
    # then
    assert set(choices) - {""} == set(UNQUALIFY_DEFINITIONS) == set(SEED)
    for reason, words in SEED.items():
        assert words in choices[reason]


@pytest.mark.parametrize("reason", list(SEED))
def test_an_unqualified_leads_sentence_names_unqualify_and_the_reasons_definition(reason):
    # given
    lead = LeadFactory()
    lead_unqualify(lead=lead, reason=reason, actor=UserFactory(permissions=["campaigns.work_every_campaign"]))
    # when
    sentence = explain(lead)[0].message
    # then
    assert "with Unqualify (" in sentence and SEED[reason] in sentence
    assert "Disqualify workflow" not in sentence


def test_reopens_confirmation_says_what_it_will_and_will_not_undo(client):
    # given
    staff_groups_create()
    user = UserFactory(username="olga")
    user.groups.add(Group.objects.get(name="Ops"))
    client.force_login(user)
    lead = LeadFactory()
    lead_unqualify(lead=lead, reason="wrong_number", actor=user)
    # when
    page = client.post(
        reverse("admin:campaigns_lead_changelist"),
        {"action": "reopen_leads", "_selected_action": [lead.pk], "index": "0"},
    )
    # then
    assert page.status_code == 200
    assert escape(reopen_words()) in page.content.decode()
    assert "will not lift" in reopen_words() and "Undisqualify lifts those" in reopen_words()
    assert Lead.objects.get(pk=lead.pk).stage == "unqualified"

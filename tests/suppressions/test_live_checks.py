"""Suppressions plug their live rules into the core's ``explain`` and dial check (``LiveCheck``), which never
import them: registered once, in order, and never answered without."""

import pytest

from campaigns.selectors import explaining
from campaigns.selectors.explaining import can_dial, explain, live_check_register
from suppressions.registries import REGISTRY_LISTED, REGISTRY_STALE
from suppressions.selectors import LIVE_ENTRIES, UPLOADS_PENDING
from tests.campaigns.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_suppressions_register_their_live_checks_once_entries_first_registries_last():
    # when: registered again, as a second ``ready()`` would
    live_check_register(LIVE_ENTRIES)
    live_check_register(UPLOADS_PENDING)

    # then
    assert explaining._registered_checks() == (LIVE_ENTRIES, UPLOADS_PENDING, REGISTRY_LISTED, REGISTRY_STALE)


def test_without_a_live_check_the_core_refuses_to_answer_rather_than_say_yes(monkeypatch):
    # given: the checks suppressions registers are missing (the app is not installed)
    lead = LeadFactory()
    number = lead.contact.phones.get().phone.e164
    monkeypatch.setattr(explaining, "_live_checks", [])

    # when / then
    with pytest.raises(RuntimeError, match="No live check is registered"):
        can_dial(lead, number)
    with pytest.raises(RuntimeError, match="No live check is registered"):
        explain(lead)

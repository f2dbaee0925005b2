"""The guard behind the cache: a stored status that drifted from its blocks is found, reported and repaired."""

import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from campaigns.models import Block, Lead, LeadStage, LeadStatus
from campaigns.services import BlockTarget, block_create, lead_statuses_check
from campaigns.services.calls import lead_unqualify
from tests.campaigns.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _disqualified_lead() -> Lead:
    lead = LeadFactory()
    block_create(
        target=BlockTarget(contact=lead.contact),
        source=Block.Source.OPS_DISQUALIFY,
        reason=Block.Reason.COMPETITOR,
        reach=Block.Reach.CUSTOMER,
        actor="tests",
    )
    return lead


def _drift(lead: Lead, status: str) -> None:
    # A write that bypassed the recompute: exactly the bug the guard exists to catch.
    Lead.objects.filter(pk=lead.pk).update(status=status)


def test_a_disqualified_lead_stored_eligible_is_found_and_repaired():
    # given
    blocked, clean = _disqualified_lead(), LeadFactory()
    _drift(blocked, LeadStatus.ELIGIBLE)
    _drift(clean, LeadStatus.DISQUALIFIED)
    # when
    drift = lead_statuses_check(repair=True, batch_size=1)
    # then
    assert drift.checked == 2
    assert drift.changes == {
        (LeadStatus.ELIGIBLE, LeadStatus.DISQUALIFIED): 1,
        (LeadStatus.DISQUALIFIED, LeadStatus.ELIGIBLE): 1,
    }
    assert drift.repaired == 2 and set(drift.lead_ids) == {blocked.pk, clean.pk}
    blocked.refresh_from_db(), clean.refresh_from_db()
    assert (blocked.status, clean.status) == (LeadStatus.DISQUALIFIED, LeadStatus.ELIGIBLE)
    assert lead_statuses_check(repair=True).drifted == 0


def test_report_only_changes_nothing():
    # given
    blocked = _disqualified_lead()
    _drift(blocked, LeadStatus.ELIGIBLE)
    # when
    drift = lead_statuses_check(repair=False)
    # then
    assert drift.drifted == 1 and drift.repaired == 0
    blocked.refresh_from_db()
    assert blocked.status == LeadStatus.ELIGIBLE
    assert "reported only" in drift.summary()


def test_a_waiting_lead_whose_time_ran_out_is_woken_not_counted_as_drift():
    # given
    lead = LeadFactory()
    Lead.objects.filter(pk=lead.pk).update(
        status=LeadStatus.WAITING, waiting_until=timezone.now() - timedelta(minutes=1)
    )
    # when
    drift = lead_statuses_check(repair=True)
    # then
    assert drift.drifted == 0
    lead.refresh_from_db()
    assert lead.status == LeadStatus.ELIGIBLE


def test_the_command_reports_repairs_and_logs_the_counts(capsys, caplog):
    # given
    blocked, other = _disqualified_lead(), _disqualified_lead()
    _drift(blocked, LeadStatus.ELIGIBLE)
    _drift(other, LeadStatus.ELIGIBLE)
    # when
    with caplog.at_level(logging.WARNING, logger="campaigns.statuses"):
        call_command("check_statuses", "--customer", blocked.customer.slug)
    # then: only that customer's lead was looked at and repaired
    out = capsys.readouterr().out
    assert "Checked 1 leads: 1 drifted (1 stored eligible but disqualified); repaired 1." in out
    assert f"#{blocked.pk}" in out
    assert "repaired 1" in caplog.text
    other.refresh_from_db()
    assert other.status == LeadStatus.ELIGIBLE


def test_the_command_says_so_when_nothing_drifted(capsys):
    # given
    _disqualified_lead()
    # when
    call_command("check_statuses")
    # then
    assert (
        capsys.readouterr().out.strip()
        == "Checked 1 leads: every stored status matches its blocks, and every stage its history."
    )


def test_the_nightly_rematch_checks_every_customers_statuses_and_logs_a_repair(caplog):
    # given: a customer with no suppression entry at all, whose lead drifted
    from suppressions import tasks

    blocked = _disqualified_lead()
    _drift(blocked, LeadStatus.ELIGIBLE)
    # when: the nightly job (tasks run in-process here)
    with caplog.at_level(logging.WARNING, logger="suppressions.tasks"):
        customers = tasks.rematch_all.delay().get()
    # then
    assert customers == 1
    blocked.refresh_from_db()
    assert blocked.status == LeadStatus.DISQUALIFIED
    assert f"Status check after the rematch of {blocked.customer}" in caplog.text
    assert "1 stored eligible but disqualified); repaired 1." in caplog.text


def test_a_stored_stage_that_disagrees_with_the_lead_history_is_found_and_repaired(capsys):
    # given: a lead unqualified (stage Unqualified) whose stage was written back to New by a bypassing write,
    # and a lead stored Qualified with nothing behind it
    unqualified, clean = LeadFactory(), LeadFactory()
    lead_unqualify(lead=unqualified, reason=Block.Reason.WRONG_NUMBER, actor="tests", note="")
    unqualified.refresh_from_db()
    assert unqualified.stage == LeadStage.UNQUALIFIED
    Lead.objects.filter(pk=unqualified.pk).update(stage=LeadStage.NEW)
    Lead.objects.filter(pk=clean.pk).update(stage=LeadStage.QUALIFIED)
    # when
    report = lead_statuses_check(repair=False)
    call_command("check_statuses")
    # then: reported, then repaired, and found no more
    assert report.stage_changes == {(LeadStage.NEW, LeadStage.UNQUALIFIED): 1, (LeadStage.QUALIFIED, LeadStage.NEW): 1}
    assert report.changes == {} and report.drifted == 2
    assert "1 at the stage new but unqualified, 1 at the stage qualified but new" in report.summary()
    assert "repaired 2." in capsys.readouterr().out
    unqualified.refresh_from_db(), clean.refresh_from_db()
    assert (unqualified.stage, clean.stage) == (LeadStage.UNQUALIFIED, LeadStage.NEW)
    assert lead_statuses_check(repair=True).drifted == 0

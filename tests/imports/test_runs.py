"""Running a lead import: one runner at a time, the command runs it alone, a failure says what happened."""

import io
import logging
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from campaigns.imports.models import LeadImport
from campaigns.imports.services import lead_import_create, lead_import_run
from campaigns.imports.services.locks import import_run_claim
from campaigns.models import Contact, Lead
from tests.campaigns.factories import CampaignFactory
from tests.imports.test_importing import HEADER, row
from tests.suppressions.factories import csv_bytes

pytestmark = pytest.mark.django_db

CONTENT = csv_bytes([HEADER, row(), row(first="Bob", email="bob@acme.com", phone="202-555-0144")])


def queued_import(campaign, content: bytes = CONTENT) -> LeadImport:
    return lead_import_create(
        campaign=campaign, stream=io.BytesIO(content), filename="leads.csv", actor=None, enqueue=False
    )


def test_a_runner_finding_the_import_claimed_by_another_leaves_it_alone():
    # given: another runner (a thread, on its own connection) holds the import
    lead_import = queued_import(CampaignFactory())
    claimed, release = threading.Event(), threading.Event()

    def other_runner():
        try:
            with import_run_claim(lead_import.pk) as held:
                assert held
                claimed.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_runner)
    thread.start()
    assert claimed.wait(timeout=30)
    try:
        # when
        result = lead_import_run(lead_import_id=lead_import.pk)
    finally:
        release.set()
        thread.join(timeout=30)
    # then
    assert result.status == LeadImport.Status.QUEUED
    assert Contact.objects.count() == 0
    # and once the other runner let go, a run takes it
    assert lead_import_run(lead_import_id=lead_import.pk).status == LeadImport.Status.DONE


def test_the_command_runs_the_import_in_its_own_process_and_queues_it_for_no_worker(
    tmp_path, django_capture_on_commit_callbacks
):
    # given
    campaign = CampaignFactory()
    path = tmp_path / "leads.csv"
    path.write_bytes(CONTENT)
    out = io.StringIO()
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        call_command("import_leads", "--campaign", str(campaign.pk), str(path), stdout=out)
    # then
    assert callbacks == []  # nothing enqueued for a worker
    lead_import = LeadImport.objects.get()
    assert lead_import.status == LeadImport.Status.DONE
    assert Lead.objects.filter(campaign=campaign).count() == 2
    text = out.getvalue()
    assert f"Running import #{lead_import.pk} here, in this process (no worker is given it)" in text
    assert f"manage.py import_leads --resume {lead_import.pk}" in text
    assert "leads created            2" in text


def test_resume_runs_an_import_left_reading_by_a_runner_that_died():
    # given: the runner died before its first batch committed
    campaign = CampaignFactory()
    lead_import = queued_import(campaign)
    LeadImport.objects.filter(pk=lead_import.pk).update(status=LeadImport.Status.READING)
    out = io.StringIO()
    # when
    call_command("import_leads", "--resume", str(lead_import.pk), stdout=out)
    # then
    lead_import.refresh_from_db()
    assert (lead_import.status, lead_import.rows_read, lead_import.leads_created) == (LeadImport.Status.DONE, 2, 2)
    assert Lead.objects.filter(campaign=campaign).count() == 2
    assert "leads created            2" in out.getvalue()


def test_resume_of_a_finished_import_changes_nothing():
    # given
    lead_import = lead_import_run(lead_import_id=queued_import(CampaignFactory()).pk)
    # when
    call_command("import_leads", "--resume", str(lead_import.pk), stdout=io.StringIO())
    # then
    again = LeadImport.objects.get(pk=lead_import.pk)
    assert (again.status, again.leads_created, again.leads_existing) == (LeadImport.Status.DONE, 2, 0)
    assert Contact.objects.count() == 2


def test_resume_of_no_such_import_says_so():
    with pytest.raises(CommandError, match="No lead import with id 999999"):
        call_command("import_leads", "--resume", "999999", stdout=io.StringIO())


def test_an_unexpected_error_fails_the_import_with_a_sentence_and_logs_the_traceback(caplog):
    # given: the stored file went missing (a media volume not mounted on the worker, say)
    lead_import = queued_import(CampaignFactory())
    lead_import.file.storage.delete(lead_import.file.name)
    # when
    with caplog.at_level(logging.ERROR, logger="campaigns.imports.services.importing"):
        result = lead_import_run(lead_import_id=lead_import.pk)
    # then
    assert result.status == LeadImport.Status.FAILED
    assert result.error == (
        "The import stopped on an unexpected error (FileNotFoundError) after 0 rows; the rows after those were "
        f"not imported. The details are in the server log under lead import #{lead_import.pk}. Once the cause is "
        "fixed, run the import again: it carries on where it stopped."
    )
    assert "Errno" not in result.error and "(" + "'" not in result.error
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.getMessage() == f"Lead import #{lead_import.pk} stopped on an unexpected error"
    assert record.exc_info is not None and record.exc_info[0] is FileNotFoundError


def test_resume_of_an_import_awaiting_confirmation_says_to_confirm_it():
    # given
    lead_import = lead_import_create(
        campaign=CampaignFactory(), stream=io.BytesIO(CONTENT), filename="leads.csv", actor=None, confirm=False
    )
    # when / then
    with pytest.raises(CommandError, match=f"Import #{lead_import.pk} awaits confirmation"):
        call_command("import_leads", "--resume", str(lead_import.pk), stdout=io.StringIO())
    assert Contact.objects.count() == 0

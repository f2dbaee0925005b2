"""Lead import under real concurrency: one run per import, a dead runner's import resumed, concurrent merges.

The races need connections of their own (threads, a forked process) and committed rows, hence
``transaction=True`` and PostgreSQL.
"""

import io
import multiprocessing
import os
import signal
import threading
import time

import pytest
from django.db import connection, connections

from campaigns.imports.models import LeadImport
from campaigns.imports.services import lead_import_create, lead_import_run
from campaigns.imports.services.locks import _RUN_LOCK_CLASS as RUN_LOCK_CLASS
from campaigns.models import Account, Contact, ContactEmail, Lead
from tests.campaigns.factories import CampaignFactory
from tests.imports.test_importing import HEADER, row
from tests.suppressions.factories import csv_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def people(n: int, *, domain: str = "acme.com") -> bytes:
    return csv_bytes(
        [HEADER]
        + [
            row(first=f"P{i}", email=f"p{i}@{domain}", website=domain, phone=f"202-555-{1000 + i:04d}")
            for i in range(n)
        ]
    )


def queued_import(campaign, content: bytes) -> LeadImport:
    return lead_import_create(
        campaign=campaign, stream=io.BytesIO(content), filename="leads.csv", actor=None, enqueue=False
    )


def at_once(*calls) -> list[BaseException]:
    """Run the calls in threads released together, each on its own connection; return their errors."""
    start = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call):
        try:
            start.wait()
            call()
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@pytest.mark.postgres("two runners of one import on connections of their own")
def test_two_runners_of_one_import_at_once_import_every_person_once():
    # given: the worker's task and the command (or a task delivered twice) start the same import together
    campaign = CampaignFactory()
    lead_import = queued_import(campaign, people(1_500))

    # when
    errors = at_once(*[lambda: lead_import_run(lead_import_id=lead_import.pk, batch_size=100)] * 2)

    # then
    assert not errors, errors
    lead_import.refresh_from_db()
    assert (lead_import.status, lead_import.error) == (LeadImport.Status.DONE, "")
    assert Contact.objects.count() == 1_500
    assert Lead.objects.filter(campaign=campaign).count() == 1_500
    assert (lead_import.rows_read, lead_import.leads_created, lead_import.leads_existing) == (1_500, 1_500, 0)
    assert (lead_import.contacts_created, lead_import.accounts_created) == (1_500, 1)


@pytest.mark.postgres("two imports of one customer on connections of their own")
def test_the_same_people_in_two_files_imported_at_once_make_one_contact_each_and_one_account():
    # given: two campaigns of one customer, each importing the same 1,000 people of acme.com at the same time
    first = CampaignFactory()
    second = CampaignFactory(customer=first.customer)
    imports = [queued_import(campaign, people(1_000)) for campaign in (first, second)]

    # when
    errors = at_once(*[lambda li=li: lead_import_run(lead_import_id=li.pk, batch_size=100) for li in imports])

    # then
    assert not errors, errors
    assert Account.objects.filter(customer=first.customer).count() == 1
    assert Contact.objects.filter(customer=first.customer).count() == 1_000
    assert ContactEmail.objects.count() == 1_000
    assert Lead.objects.filter(campaign=first).count() == Lead.objects.filter(campaign=second).count() == 1_000
    for lead_import in imports:
        lead_import.refresh_from_db()
        assert (lead_import.status, lead_import.error) == (LeadImport.Status.DONE, "")
    assert sum(li.contacts_created for li in imports) == 1_000
    assert sum(li.accounts_created for li in imports) == 1


def _run_in_child(lead_import_id: int) -> None:
    # A forked child opens connections of its own (the parent closed its own before forking).
    lead_import_run(lead_import_id=lead_import_id, batch_size=50)
    os._exit(0)


def _run_claimed(lead_import_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s"
            " AND objsubid = 2)",
            [RUN_LOCK_CLASS, lead_import_id],
        )
        return cursor.fetchone()[0]


@pytest.mark.postgres("a runner killed with SIGKILL must free its claim with its connection")
def test_an_import_whose_runner_was_killed_is_resumed_with_every_row_counted_once():
    # given: a runner killed (SIGKILL) half-way through, leaving the import "reading"
    campaign = CampaignFactory()
    lead_import = queued_import(campaign, people(3_000))
    connections.close_all()
    child = multiprocessing.get_context("fork").Process(target=_run_in_child, args=(lead_import.pk,))
    child.start()
    deadline = time.monotonic() + 60
    while LeadImport.objects.values_list("rows_done", flat=True).get(pk=lead_import.pk) < 500:
        assert time.monotonic() < deadline, "the runner made no progress"
        time.sleep(0.01)
    assert _run_claimed(lead_import.pk), "the running runner's claim is not where the test looks for it"
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    # The killed runner's PostgreSQL backend frees its claim once it notices its client gone, which it does
    # only when it next reads or writes (it may be finishing a statement): until then a run finds the import
    # claimed and leaves it, as it must. Wait for that, as the broker's redelivery would.
    while _run_claimed(lead_import.pk):
        assert time.monotonic() < deadline, "the killed runner's claim was never freed"
        time.sleep(0.05)
    left = LeadImport.objects.get(pk=lead_import.pk)
    assert left.status == LeadImport.Status.READING
    assert 500 <= left.rows_read < 3_000, "the runner finished before it could be killed"

    # when: it is run again (the broker redelivers the task, or ops run import_leads --resume)
    resumed = lead_import_run(lead_import_id=lead_import.pk)

    # then
    assert (resumed.status, resumed.error) == (LeadImport.Status.DONE, "")
    assert Contact.objects.count() == Lead.objects.count() == 3_000
    assert (resumed.rows_read, resumed.junk, resumed.leads_created, resumed.leads_existing) == (3_000, 0, 3_000, 0)
    assert (resumed.contacts_created, resumed.accounts_created) == (3_000, 1)
    assert resumed.eligible == 3_000
    assert resumed.issues.count() == 0


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the embedded SQLite backend's own race")
def test_two_processes_importing_the_same_people_into_the_embedded_sqlite_make_one_contact_each(tmp_path):
    # given: a SQLite file with the test schema and two campaigns of one customer, and the same 3,000 people
    # in two files, imported by two processes at once (the embedded server and a command, say)
    import sqlite3
    import subprocess
    import sys

    first = CampaignFactory()
    second = CampaignFactory(customer=first.customer)
    database = tmp_path / "embedded.sqlite3"
    target = sqlite3.connect(database)
    connection.ensure_connection()
    connection.connection.backup(target)
    target.close()
    files = []
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_bytes(people(3_000))
        files.append(str(tmp_path / name))
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(DATABASE_URL=f"sqlite:///{database}", LEADOPS_MEDIA_ROOT=str(tmp_path / "media"))

    # when
    runs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "import_leads", "--campaign", str(campaign.pk), path],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for campaign, path in ((first, files[0]), (second, files[1]))
    ]
    outputs = [run.communicate(timeout=180)[0] for run in runs]

    # then
    assert [run.returncode for run in runs] == [0, 0], outputs
    check = sqlite3.connect(database)
    one = check.execute
    assert one("SELECT COUNT(*) FROM campaigns_account").fetchone()[0] == 1
    assert one("SELECT COUNT(*) FROM campaigns_contact").fetchone()[0] == 3_000
    assert one("SELECT COUNT(*) FROM campaigns_contactemail").fetchone()[0] == 3_000
    assert one("SELECT campaign_id, COUNT(*) FROM campaigns_lead GROUP BY 1 ORDER BY 1").fetchall() == [
        (first.pk, 3_000),
        (second.pk, 3_000),
    ]
    assert one("SELECT status, error FROM imports_leadimport").fetchall() == [("done", ""), ("done", "")]
    check.close()

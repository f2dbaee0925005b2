"""An upload is in force from the moment the customer is told "received", with no worker running.

The worker is stopped: tasks are not eager and go to a broker nobody consumes (``memory://``), so nothing
of an upload happens but what the web request itself does. A small file is read in the request (its
entries stop the lead through the live check); a large one holds the customer's calls (the pull hands out
nothing, the dial check refuses every lead with ``suppression_upload_pending``) until it is read or fails.
Both through the portal, the dialer API's dial check and pull, on both backends.
"""

import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from campaigns.models import Block, LeadStatus
from campaigns.selectors.explaining import CUSTOMER, explain
from leadops.celery import app
from leadops.outbox.models import Message
from suppressions.models import Entry, Upload
from suppressions.services import upload_create, upload_process
from tests.campaigns.api_factories import CallerFactory, DialerCampaignFactory, DialerLeadFactory, api_key_for
from tests.campaigns.factories import ContactPhoneFactory, CustomerFactory, PhoneNumberFactory, UserFactory
from tests.portal.uploading import portal_upload
from tests.suppressions.factories import csv_bytes

pytestmark = pytest.mark.django_db

LISTED = "+12025550143"
NOT_LISTED = "+12025550199"
PENDING = "suppression_upload_pending"


@pytest.fixture
def worker_stopped():
    """Publish tasks to a broker nobody consumes, instead of running them in-process."""
    eager, broker = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://"
    yield
    app.conf.task_always_eager, app.conf.broker_url = eager, broker


def _lead(campaign, number):
    lead = DialerLeadFactory(campaign=campaign)
    ContactPhoneFactory(contact=lead.contact, phone=PhoneNumberFactory(e164=number))
    return lead


@pytest.fixture
def scene(client):
    """A customer with two leads (one on the file to come, one not) and another customer's lead."""
    customer = CustomerFactory(name="Northwind", slug="northwind", phone_region="US")
    campaign = DialerCampaignFactory(customer=customer)
    other_campaign = DialerCampaignFactory(customer=CustomerFactory(name="Harbor", slug="harbor"))
    user = UserFactory(username="nina-northwind", customer=customer, is_staff=False)
    client.force_login(user)
    return {
        "customer": customer,
        "campaign": campaign,
        "listed": _lead(campaign, LISTED),
        "not_listed": _lead(campaign, NOT_LISTED),
        "other_campaign": other_campaign,
        "other_customers": _lead(other_campaign, "+12025550177"),
        "key": api_key_for()[1],
        "caller": CallerFactory(approved_for=[campaign, other_campaign]),
    }


def _upload(client, content: bytes, capture):
    with capture(execute=True):  # the on-commit send to the broker nobody consumes
        response = portal_upload(
            client, {"file": SimpleUploadedFile("dnc.csv", content, content_type="text/csv")}, follow=True
        )
    assert response.status_code == 200
    return response, Upload.objects.get(original_name="dnc.csv")


def _dial_check(api, scene, lead, number):
    response = api.get(
        f"/api/v1/leads/{lead.pk}/dial-check", {"number": number}, HTTP_AUTHORIZATION=f"Bearer {scene['key']}"
    )
    assert response.status_code == 200
    return response.json()


def _pull(api, scene, campaign, count=5):
    response = api.post(
        f"/api/v1/campaigns/{campaign.pk}/pull",
        {"caller": scene["caller"].username, "count": count},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {scene['key']}",
    )
    assert response.status_code == 200, response.content
    return response.json()


def _codes(check):
    return [reason["code"] for reason in check["reasons"]]


def _page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_small_upload_is_in_force_when_received_with_no_worker(
    client, scene, worker_stopped, django_capture_on_commit_callbacks
):
    # given: a file small enough to read in the request
    content = csv_bytes([["phone"], ["(202) 555-0143"]])

    # when
    response, upload = _upload(client, content, django_capture_on_commit_callbacks)

    # then: read and committed before the response, matching left to the (stopped) worker
    assert upload.status == Upload.Status.MATCHING
    assert Entry.objects.active().filter(customer=scene["customer"], value=LISTED).exists()
    assert not Block.objects.filter(source=Block.Source.SUPPRESSION).exists()
    assert Message.objects.filter(task="suppressions.tasks.upload_process", args=[upload.pk]).exists()
    assert "is in force" in _page_text(response)
    # the dial check refuses the listed number, the pull does not hand its lead out
    listed = _dial_check(client, scene, scene["listed"], LISTED)
    assert listed["allowed"] is False
    assert _codes(listed) == ["suppression_entry"]
    assert _dial_check(client, scene, scene["not_listed"], NOT_LISTED)["allowed"] is True
    pulled = _pull(client, scene, scene["campaign"])
    assert [lead["lead_id"] for lead in pulled["leads"]] == [scene["not_listed"].pk]
    assert pulled["reasons"] == []


def test_a_large_upload_holds_the_customers_calls_until_it_is_read(
    client, scene, worker_stopped, django_capture_on_commit_callbacks, settings
):
    # given: a file over the size read in the request
    settings.SUPPRESSIONS_SYNC_READ_MAX_BYTES = 10
    content = csv_bytes([["phone"], ["(202) 555-0143"]])

    # when
    response, upload = _upload(client, content, django_capture_on_commit_callbacks)

    # then: queued, nothing read, and the page says the customer's calls wait
    assert upload.status == Upload.Status.QUEUED
    assert not Entry.objects.exists()
    assert "is queued" in _page_text(response)
    assert "calls to your leads wait" in _page_text(response)
    # every lead of the customer is held, on the file or not, with the upload's time in the sentence
    received = upload.created_at.strftime("%H:%M")
    for lead, number in ((scene["listed"], LISTED), (scene["not_listed"], NOT_LISTED)):
        check = _dial_check(client, scene, lead, number)
        assert check["allowed"] is False
        assert _codes(check) == [PENDING]
        assert f"received at {received}" in check["reasons"][0]["message"]
        assert "still being loaded" in check["reasons"][0]["message"]
    pulled = _pull(client, scene, scene["campaign"])
    assert pulled["leads"] == []
    assert [reason["code"] for reason in pulled["reasons"]] == [PENDING]
    assert [r.code for r in explain(scene["not_listed"], audience=CUSTOMER)] == [PENDING]
    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.QUEUED  # the pull leased nothing either
    # another customer's calls go on
    assert _dial_check(client, scene, scene["other_customers"], "+12025550177")["allowed"] is True
    assert len(_pull(client, scene, scene["other_campaign"])["leads"]) == 1

    # when the worker has read it
    upload_process(upload_id=upload.pk)

    # then the hold is lifted: the listed lead stays refused (now by its block), the other is called again
    assert _codes(_dial_check(client, scene, scene["listed"], LISTED)) == ["suppression"]
    assert _dial_check(client, scene, scene["not_listed"], NOT_LISTED)["allowed"] is True
    pulled = _pull(client, scene, scene["campaign"])
    assert [lead["lead_id"] for lead in pulled["leads"]] == [scene["not_listed"].pk]
    scene["listed"].refresh_from_db()
    assert scene["listed"].status == LeadStatus.DISQUALIFIED


def test_a_large_upload_that_fails_lifts_its_hold(
    client, scene, worker_stopped, django_capture_on_commit_callbacks, settings
):
    # given: a held upload whose file cannot be read
    # (the portal's preview refuses such a file before anything is stored: the command, for one, has no preview)
    settings.SUPPRESSIONS_SYNC_READ_MAX_BYTES = 10
    with django_capture_on_commit_callbacks(execute=True):
        upload = upload_create(
            customer=scene["customer"],
            file=ContentFile(b"name,city\r\nPat,Paris\r\nSam,Rome\r\n", name="dnc.csv"),
            original_name="dnc.csv",
            uploaded_by=None,
        )
    assert upload.status == Upload.Status.QUEUED
    assert _codes(_dial_check(client, scene, scene["not_listed"], NOT_LISTED)) == [PENDING]

    # when
    upload_process(upload_id=upload.pk)

    # then
    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.FAILED
    assert _dial_check(client, scene, scene["not_listed"], NOT_LISTED)["allowed"] is True
    assert len(_pull(client, scene, scene["campaign"])["leads"]) == 2


def test_a_small_unreadable_upload_fails_in_the_request_and_holds_nothing(
    client, scene, worker_stopped, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = portal_upload(
            client, {"file": SimpleUploadedFile("dnc.csv", b"name,city\r\nPat,Paris\r\n", content_type="text/csv")}
        )

    # then: the customer learns at once, from the preview: nothing is stored and no task is sent for it
    assert response.status_code == 400
    assert "No column looks like phone numbers, email addresses or domains." in _page_text(response)
    assert not Upload.objects.exists()
    assert not Message.objects.exists()
    assert _dial_check(client, scene, scene["not_listed"], NOT_LISTED)["allowed"] is True


@pytest.mark.postgres("reads PostgreSQL's plans")
def test_the_hold_is_one_probe_of_the_partial_index_in_each_hot_statement(scene):
    # given: the dial check's and the pull's statements as they run
    from campaigns.dialer.pool import _lease_sql
    from campaigns.selectors.explaining import dial_check_statement
    from suppressions.rules import entry_type_id

    dial, dial_params = dial_check_statement()
    params = dial_params(scene["listed"].pk, LISTED)
    lease = _lease_sql("default", scene["campaign"].pk, 5, entry_type_id())

    # when
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # tiny tables: ask what the planner does at scale
        cursor.execute("EXPLAIN " + dial, params)
        dial_plan = "\n".join(row[0] for row in cursor.fetchall())
        caller = scene["caller"].pk
        cursor.execute(
            "EXPLAIN " + lease, [None, scene["campaign"].pk, caller, "waiting", "leased", None, caller, None]
        )
        lease_plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")

    # then: the dial check probes the index; the pull tests it once per statement, before any lead is read
    assert "upload_pending_customer" in dial_plan
    assert "upload_pending_customer" in lease_plan
    assert "One-Time Filter" in lease_plan

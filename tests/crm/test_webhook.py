"""The webhook endpoint: signed batches are stored, replays ignored, bad input named."""

import json
import time

import pytest

from campaigns.models import LeadStatus
from suppressions.crm.models import CrmConnection, CrmEvent, CrmRecord
from suppressions.crm.services.signing import sign_hubspot_v3, sign_leadops
from suppressions.crm.views import MAX_BODY_BYTES
from tests.campaigns.factories import LeadFactory
from tests.crm.factories import CrmConnectionFactory, CrmRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST a signed batch and run what it enqueued on commit (Celery runs eagerly in tests)."""

    def send(connection, payload, *, secret=None, timestamp=None):
        body = json.dumps(payload).encode()
        ts = timestamp or str(int(time.time()))
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                f"/api/v1/crm/{connection.pk}/events",
                data=body,
                content_type="application/json",
                HTTP_X_LEADOPS_TIMESTAMP=ts,
                HTTP_X_LEADOPS_SIGNATURE=sign_leadops(secret=secret or connection.secret, timestamp=ts, body=body),
            )

    return send


def company(event_id, external_id="7", **fields):
    return {"id": event_id, "action": "upsert", "object_type": "company", "external_id": external_id, **fields}


def test_a_signed_batch_is_stored_processed_and_disqualifies_the_matching_account(post):
    # given
    lead = LeadFactory(contact__account__domain="acme.com")
    connection = CrmConnectionFactory(customer=lead.customer)
    CrmRuleFactory(customer=lead.customer, name="Existing customers")
    # when
    response = post(
        connection,
        {
            "events": [
                company(
                    "e1", name="Acme Corp", domain="https://www.acme.com", properties={"lifecyclestage": "customer"}
                )
            ]
        },
    )
    # then
    assert response.status_code == 202
    assert response.json() == {"stored": 1, "replayed": 0}
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED
    assert CrmEvent.objects.get().status == CrmEvent.Status.PROCESSED


def test_a_replayed_event_id_is_ignored(post):
    # given
    connection = CrmConnectionFactory()
    payload = {"events": [company("e1", name="Acme")]}
    post(connection, payload)
    # when
    response = post(connection, payload)
    # then
    assert response.json() == {"stored": 0, "replayed": 1}
    assert CrmEvent.objects.count() == 1


def test_a_wrong_signature_is_401_and_stores_nothing(post):
    # given
    connection = CrmConnectionFactory()
    # when
    response = post(connection, {"events": [company("e1")]}, secret="not-the-secret")
    # then
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_signature"
    assert CrmEvent.objects.count() == 0


def test_a_stale_timestamp_is_401(post):
    connection = CrmConnectionFactory()
    response = post(connection, {"events": []}, timestamp=str(int(time.time()) - 3600))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "stale_timestamp"


def test_a_missing_signature_is_401(client):
    connection = CrmConnectionFactory()
    response = client.post(f"/api/v1/crm/{connection.pk}/events", data=b"{}", content_type="application/json")
    assert response.status_code == 401


def test_an_invalid_event_is_422_naming_it_and_nothing_is_stored(post):
    # given
    connection = CrmConnectionFactory()
    # when
    response = post(
        connection,
        {"events": [company("e1"), {"id": "e2", "action": "upsert", "object_type": "lead", "external_id": "1"}]},
    )
    # then
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "events[1].object_type"
    assert CrmEvent.objects.count() == 0


def test_an_unknown_connection_is_404(client):
    response = client.post("/api/v1/crm/999999/events", data=b"{}", content_type="application/json")
    assert response.status_code == 404


def test_a_bad_value_fails_that_event_with_its_reason_and_the_others_go_on(post):
    # given
    connection = CrmConnectionFactory()
    # when
    post(
        connection,
        {
            "events": [
                {"id": "e1", "action": "upsert", "object_type": "contact", "external_id": "1", "phones": ["12"]},
                company("e2", name="Fine"),
            ]
        },
    )
    # then
    failed = CrmEvent.objects.get(event_id="e1")
    assert failed.status == CrmEvent.Status.FAILED
    assert "phones" in failed.error
    assert CrmRecord.objects.filter(external_id="7", name="Fine").exists()


def test_hubspot_property_change_webhook_updates_the_record(client, django_capture_on_commit_callbacks):
    # given
    lead = LeadFactory(contact__account__domain="globex.com")
    connection = CrmConnectionFactory(customer=lead.customer, kind=CrmConnection.Kind.HUBSPOT)
    CrmRuleFactory(customer=lead.customer)
    body = json.dumps(
        [
            {
                "eventId": 100,
                "subscriptionType": "company.propertyChange",
                "objectId": 55,
                "propertyName": "domain",
                "propertyValue": "globex.com",
                "occurredAt": 1,
            },
            {
                "eventId": 101,
                "subscriptionType": "company.propertyChange",
                "objectId": 55,
                "propertyName": "lifecyclestage",
                "propertyValue": "customer",
                "occurredAt": 2,
            },
        ]
    ).encode()
    ts = str(int(time.time() * 1000))
    uri = f"http://testserver/api/v1/crm/{connection.pk}/events"
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/crm/{connection.pk}/events",
            data=body,
            content_type="application/json",
            HTTP_X_HUBSPOT_REQUEST_TIMESTAMP=ts,
            HTTP_X_HUBSPOT_SIGNATURE_V3=sign_hubspot_v3(
                secret=connection.secret, method="POST", uri=uri, body=body, timestamp=ts
            ),
        )
    # then
    assert response.status_code == 202, response.content
    record = CrmRecord.objects.get(external_id="55")
    assert record.domain == "globex.com"
    assert record.properties == {"domain": "globex.com", "lifecyclestage": "customer"}
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED


def test_a_records_file_uploaded_in_the_admin_is_stored_and_processed(admin_client, django_capture_on_commit_callbacks):
    # given
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.suppressions.factories import csv_bytes

    lead = LeadFactory(contact__account__domain="acme.com")
    connection = CrmConnectionFactory(customer=lead.customer)
    CrmRuleFactory(customer=lead.customer)
    content = csv_bytes(
        [
            ["Record ID", "Company name", "Company Domain Name", "Lifecycle Stage"],
            ["7", "Acme Corp", "acme.com", "customer"],
            ["", "", "", "lead"],
        ]
    )
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/crm/crmconnection/{connection.pk}/upload/",
            {"file": SimpleUploadedFile("companies.csv", content), "object_type": "company"},
        )
    # then
    assert response.status_code == 302
    record = CrmRecord.objects.get()
    assert (record.external_id, record.domain, record.properties) == ("7", "acme.com", {"lifecyclestage": "customer"})
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("1 rejected" in m for m in messages)
    assert any("Line 3: no id, domain or email" in m for m in messages)


def test_uploading_the_same_records_file_twice_stores_nothing_new(admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.suppressions.factories import csv_bytes

    connection = CrmConnectionFactory()
    content = csv_bytes([["Record ID", "Name"], ["7", "Acme"]])
    for _ in range(2):
        admin_client.post(
            f"/admin/crm/crmconnection/{connection.pk}/upload/",
            {"file": SimpleUploadedFile("c.csv", content), "object_type": "company"},
        )
    assert CrmEvent.objects.count() == 1


def _batch_of_size(size: int) -> dict:
    """Return a one-event batch whose JSON body is ``size`` bytes long."""
    payload = {"events": [company("e1", name="Acme", properties={"notes": ""})]}
    padding = size - len(json.dumps(payload).encode())
    payload["events"][0]["properties"]["notes"] = "x" * padding
    assert len(json.dumps(payload).encode()) == size
    return payload


@pytest.mark.parametrize("size", [3 * 1024 * 1024, MAX_BODY_BYTES], ids=["3 MB", "20 MB"])
def test_a_body_up_to_the_documented_20_mb_is_accepted(post, size):
    # given: a body over Django's default 2.5 MB in-memory limit, within the webhook's documented one
    connection = CrmConnectionFactory()
    # when
    response = post(connection, _batch_of_size(size))
    # then
    assert response.status_code == 202
    assert response.json() == {"stored": 1, "replayed": 0}
    assert len(CrmRecord.objects.get().properties["notes"]) > 3_000_000


def test_a_body_over_the_documented_limit_is_a_json_413_naming_it(post):
    # given
    connection = CrmConnectionFactory()
    # when
    response = post(connection, _batch_of_size(MAX_BODY_BYTES + 1))
    # then
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "too_large"
    assert "20 MB" in error["message"]
    assert CrmEvent.objects.count() == 0


@pytest.mark.parametrize("timestamp", ["nan", "NaN", "inf", "-Infinity", "1e999"])
def test_a_timestamp_that_is_not_a_finite_number_is_refused_with_a_json_error(post, timestamp):
    # given: a body signed at a timestamp that no clock can compare (nan is never "more than 5 minutes away")
    connection = CrmConnectionFactory()
    # when
    response = post(connection, {"events": [company("e1")]}, timestamp=timestamp)
    # then
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "bad_timestamp"
    assert f"'{timestamp}'" in error["message"] and "finite" in error["message"]
    assert CrmEvent.objects.count() == 0

"""Each worker keeps the keys it has read, and a revoked or deleted key is refused all the same.

These tests commit (a notice is sent at commit), and revoke from another thread's connection, as the
admin in another process would.
"""

import threading
import time

import pytest
from django.db import connection

from campaigns.models import ApiKey
from campaigns.services.api_keys import api_key_revoke
from tests.campaigns.api_factories import DialerLeadFactory, api_key_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="LISTEN/NOTIFY are PostgreSQL's"),
]


def _elsewhere(change) -> None:
    """Run ``change`` on another connection and commit it, then give PostgreSQL a moment to deliver."""
    failures = []

    def run():
        try:
            change()
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failures:
        raise failures[0]
    time.sleep(0.2)


def _dial_check(client, lead, key):
    return client.get(
        f"/api/v1/leads/{lead.pk}/dial-check", {"number": lead.number}, HTTP_AUTHORIZATION=f"Bearer {key}"
    )


def test_a_held_key_costs_no_statement(client, django_assert_num_queries):
    # given: a worker that has read the key once
    lead = DialerLeadFactory()
    lead.number = lead.contact.phones.get().phone.e164
    _, key = api_key_for()
    assert _dial_check(client, lead, key).status_code == 200
    # when / then: only the dial check's own statement, and its verdict's INSERT
    with django_assert_num_queries(2):
        assert _dial_check(client, lead, key).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda pk: api_key_revoke(api_key=ApiKey.objects.get(pk=pk), actor=None), id="revoked"),
        pytest.param(lambda pk: ApiKey.objects.filter(pk=pk).delete(), id="deleted"),
    ],
)
def test_a_held_key_is_refused_once_another_process_revokes_or_deletes_it(client, change):
    # given: a worker that holds the key
    lead = DialerLeadFactory()
    lead.number = lead.contact.phones.get().phone.e164
    api_key, key = api_key_for()
    assert _dial_check(client, lead, key).status_code == 200
    # when: the admin, elsewhere, revokes (or deletes) it
    _elsewhere(lambda: change(api_key.pk))
    # then
    response = _dial_check(client, lead, key)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_new_connection_forgets_the_keys_the_old_one_held(client):
    # given: a worker that held the key on a connection it then lost, and a revocation it could not hear
    lead = DialerLeadFactory()
    lead.number = lead.contact.phones.get().phone.e164
    api_key, key = api_key_for()
    assert _dial_check(client, lead, key).status_code == 200
    connection.close()
    _elsewhere(lambda: api_key_revoke(api_key=ApiKey.objects.get(pk=api_key.pk), actor=None))
    # when
    response = _dial_check(client, lead, key)
    # then
    assert response.status_code == 401

"""Every answer under /api/v1/ is JSON, and every refusal is in the documented error shape
(``campaigns/dialer/api/errors.py``): no route, a method a route does not take, a missing key, a plain view's
refusal, the schema's own refusals."""

import pytest

from tests.campaigns.api_factories import DialerLeadFactory, api_key_for
from tests.portal.walking import urls_of

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete", "options")


def assert_error_shape(response, where: str) -> dict:
    assert response["Content-Type"].startswith("application/json"), f"{where}: {response['Content-Type']}"
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}, f"{where}: {body}"
    assert body["error"]["code"] and body["error"]["message"], where
    return body["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/",
        "/api/v1/no-such-route",
        "/api/v1/leads/1/no-such-action",
        "/api/v1/leads/x/dial-check",
        "/api/v1/crm/",
    ],
)
def test_a_path_no_route_matches_is_a_json_404(client, path):
    # when
    response = client.get(path)

    # then
    assert response.status_code == 404
    error = assert_error_shape(response, path)
    assert error["code"] == "not_found"


def test_every_route_answers_json_to_every_method_with_and_without_a_key(client):
    # given
    lead = DialerLeadFactory()
    _, key = api_key_for()
    ids = {"lead_id": lambda: [lead.pk], "campaign_id": lambda: [lead.campaign_id], "connection_id": lambda: [1]}
    routes = [*urls_of("api", ids), *urls_of("crm", ids)]
    refusals = 0

    for found in routes:
        for method in METHODS:
            for auth in ({}, {"HTTP_AUTHORIZATION": f"Bearer {key}"}):
                # when
                response = getattr(client, method)(found.url, content_type="application/json", **auth)

                # then
                where = f"{method.upper()} {found.url} {'with' if auth else 'without'} a key"
                if response.status_code >= 400:
                    error = assert_error_shape(response, where)
                    refusals += 1
                    if response.status_code == 405:
                        assert error["code"] == "method_not_allowed", where
                        assert response["Allow"], where
                elif found.name != "schema":
                    assert response["Content-Type"].startswith("application/json"), where
    assert refusals > 30


def test_a_get_only_view_refuses_post_with_a_json_405(client):
    # when
    response = client.post("/api/v1/health")

    # then
    assert response.status_code == 405
    error = assert_error_shape(response, "POST health")
    assert error == {"code": "method_not_allowed", "message": "POST is not allowed here; use GET, HEAD.", "field": ""}


def test_the_schemas_own_refusal_is_in_the_error_shape(client):
    # when
    response = client.post("/api/v1/schema")

    # then
    assert response.status_code == 405
    assert assert_error_shape(response, "POST schema")["code"] == "method_not_allowed"


def test_a_non_json_body_is_a_400_in_the_error_shape(client):
    # given
    lead = DialerLeadFactory()
    _, key = api_key_for()

    # when
    response = client.post(
        f"/api/v1/leads/{lead.pk}/calls",
        "{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )

    # then
    assert response.status_code == 400
    assert assert_error_shape(response, "bad JSON")["code"] == "parse_error"

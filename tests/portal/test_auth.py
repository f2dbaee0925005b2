"""Signing in to the portal: customers only, throttled by django-axes, and the admin stays for staff."""

import copy

import pytest
from django.test import Client
from django.urls import reverse

from tests.campaigns.factories import UserFactory
from tests.portal.conftest import customer_user

pytestmark = pytest.mark.django_db


# Customer A's scene is built once for the module; each test gets its own copy (see tests.built_once).
@pytest.fixture
def tenant_a(tenant_a_built_once, db):
    return copy.deepcopy(tenant_a_built_once)


PASSWORD = "pw-for-tests-1"  # UserFactory's


def _login(client, username, password=PASSWORD):
    return client.post(reverse("portal:login"), {"username": username, "password": password})


def test_customer_user_signs_in_and_lands_on_the_overview(client, tenant_a):
    # when
    response = _login(client, tenant_a.user.username)

    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    assert client.get(reverse("portal:home")).status_code == 200


def test_agency_staff_are_refused_with_a_clear_message(client):
    # given
    UserFactory(username="olivia-ops", is_staff=True)

    # when
    response = _login(client, "olivia-ops")

    # then
    assert response.status_code == 200
    assert "Agency staff sign in to the admin" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_signed_in_staff_are_sent_to_the_portal_login_not_into_the_portal(client):
    # given
    client.force_login(UserFactory(username="olivia-ops", is_staff=True))

    # when
    response = client.get(reverse("portal:home"))

    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_five_failures_lock_the_username_from_that_address_even_with_the_right_password(client, tenant_a):
    # given
    for _ in range(5):
        _login(client, tenant_a.user.username, "wrong-password")

    # when
    response = _login(client, tenant_a.user.username)

    # then
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_lockout_does_not_stop_another_user_at_the_same_address(client, tenant_a):
    # given
    colleague = customer_user(tenant_a.customer, "carol-acme")
    for _ in range(5):
        _login(client, tenant_a.user.username, "wrong-password")

    # when
    response = _login(client, colleague.username)

    # then
    assert response.status_code == 302


def test_four_failures_do_not_lock_and_success_resets_the_count(client, tenant_a):
    # given
    for _ in range(4):
        _login(client, tenant_a.user.username, "wrong-password")

    # when
    response = _login(client, tenant_a.user.username)

    # then
    assert response.status_code == 302


def test_staff_still_sign_in_to_the_admin(client):
    # given
    UserFactory(username="olivia-ops", is_staff=True)

    # when
    response = client.post(reverse("admin:login"), {"username": "olivia-ops", "password": PASSWORD, "next": "/admin/"})

    # then
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_customer_user_is_refused_by_the_admin_login(client, tenant_a):
    # when
    response = client.post(
        reverse("admin:login"), {"username": tenant_a.user.username, "password": PASSWORD, "next": "/admin/"}
    )

    # then
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_sign_out_is_a_post(portal_client):
    # when
    response = portal_client.post(reverse("portal:logout"))

    # then
    assert response.status_code == 302
    assert portal_client.get(reverse("portal:home")).status_code == 302


def test_login_form_requires_a_csrf_token(tenant_a):
    # given
    client = Client(enforce_csrf_checks=True)

    # when
    response = _login(client, tenant_a.user.username)

    # then
    assert response.status_code == 403

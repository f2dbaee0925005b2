"""No dead ends: a workflow with nothing ticked goes back where it started, with a message; no "View site"."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.campaigns.factories import LeadFactory, UserFactory, staff_groups_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(client):
    staff_groups_create()
    user = UserFactory()
    user.groups.add(Group.objects.get(name="Ops"))
    client.force_login(user)
    return user


def test_mark_phone_dnc_with_nothing_ticked_returns_to_account_details_with_a_message(client, ops):
    lead = LeadFactory()
    details = reverse("admin:campaigns_account_details", args=[lead.contact.account_id])
    response = client.post(
        reverse("admin:campaigns_phonenumber_changelist"),
        {"action": "mark_phone_dnc", "index": "0", "next": details},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == details
    assert "Tick one or more phone numbers first" in response.content.decode()


def test_an_unsafe_next_is_not_followed(client, ops):
    response = client.post(
        reverse("admin:campaigns_phonenumber_changelist"),
        {"action": "mark_phone_dnc", "index": "0", "next": "https://elsewhere.example/"},
    )
    assert response.status_code in (200, 302)
    assert response.get("Location", "") != "https://elsewhere.example/"


def test_there_is_no_view_site_link(client, ops):
    page = client.get(reverse("admin:index")).content.decode()
    assert "View site" not in page

"""A customer asks the agency to lift a reason from a disqualified lead's sentence; the request lifts nothing;
ops see it on their home page and answer it with Undisqualify or decline it; the customer reads the answer."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Block, LeadStatus, UndoRequest
from campaigns.services.undo_requests import undo_request_create
from leadops.errors import LeadopsError
from tests.campaigns.factories import UserFactory

pytestmark = pytest.mark.django_db

LIFTS = ["campaigns.work_every_campaign", "campaigns.lift_block"]


@pytest.fixture
def suppressed(tenant_a):
    """A's lead stopped by its suppression list, and the block that stops it."""
    lead = tenant_a.suppressed_lead
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED
    return lead, Block.objects.active().get(customer=tenant_a.customer, source=Block.Source.SUPPRESSION)


def test_a_customer_asks_from_the_sentence_and_nothing_is_lifted(portal_client, tenant_a, suppressed):
    # given: the sentence offers to ask
    lead, block = suppressed
    url = reverse("portal:undo_request_new", args=[lead.pk, block.pk])
    listing = portal_client.get(reverse("portal:disqualified")).content.decode()
    assert f'href="{url}"' in listing
    # when
    response = portal_client.post(url, {"reason": "This is not a customer of ours any more"})
    # then: recorded with the sentence it was about; the block and the lead are as they were
    assert response.status_code == 302
    request = UndoRequest.objects.get()
    assert (request.lead, request.block, request.requested_by, request.state) == (
        lead,
        block,
        tenant_a.user,
        UndoRequest.State.OPEN,
    )
    assert "suppression list" in request.sentence
    block.refresh_from_db(), lead.refresh_from_db()
    assert block.lifted_at is None and lead.status == LeadStatus.DISQUALIFIED
    assert "You asked the agency to lift it" in portal_client.get(reverse("portal:disqualified")).content.decode()
    # and a second request about the same reason is refused while the first is open
    again = portal_client.post(url, {"reason": "again"})
    assert again.status_code == 400 and UndoRequest.objects.count() == 1


def test_a_request_about_a_reason_that_does_not_stop_the_lead_is_refused(tenant_a, suppressed):
    # given: A's own DNC mark is on another contact
    lead, _ = suppressed
    # when / then
    with pytest.raises(LeadopsError, match="no longer stops"):
        undo_request_create(lead=lead, block=tenant_a.dnc_mark, reason="lift it", actor=tenant_a.user)
    assert not UndoRequest.objects.exists()


def test_ops_see_it_on_their_home_and_lift_it_with_undisqualify_and_the_customer_reads_the_answer(
    portal_client, tenant_a, suppressed
):
    # given
    lead, block = suppressed
    portal_client.post(
        reverse("portal:undo_request_new", args=[lead.pk, block.pk]), {"reason": "Not a customer any more"}
    )
    request = UndoRequest.objects.get()
    ops = UserFactory(username="staffer-gannet", is_staff=True, permissions=LIFTS)
    client = Client()  # ops' own browser: the portal client stays A's user
    client.force_login(ops)
    # when: ops open their home page
    home = client.get(reverse("admin:index")).content.decode()
    # then
    assert "Customers ask to lift a reason: 1 waiting" in home
    assert reverse("admin:campaigns_undorequest_change", args=[request.pk]) in home
    # when: they lift it
    response = client.post(
        reverse("admin:campaigns_undorequest_lift", args=[request.pk]), {"words": "Checked with Acme: lifted."}
    )
    # then: the block is lifted by them with their words, the lead is back, the request says so
    assert response.status_code == 302
    block.refresh_from_db(), lead.refresh_from_db(), request.refresh_from_db()
    assert (block.lifted_by, block.lift_reason) == (ops, "Checked with Acme: lifted.")
    assert lead.status != LeadStatus.DISQUALIFIED
    assert (request.state, request.answered_by, request.answer) == ("lifted", ops, "Checked with Acme: lifted.")
    assert "Customers ask to lift" not in client.get(reverse("admin:index")).content.decode()
    page = portal_client.get(reverse("portal:undo_requests")).content.decode()
    assert "The agency lifted it on" in page and "Checked with Acme: lifted." in page
    assert "staffer-gannet" not in page


def test_a_declined_request_lifts_nothing_and_the_customer_reads_why(portal_client, tenant_a, suppressed):
    # given
    lead, block = suppressed
    portal_client.post(reverse("portal:undo_request_new", args=[lead.pk, block.pk]), {"reason": "please"})
    request = UndoRequest.objects.get()
    client = Client()  # ops' own browser: the portal client stays A's user
    client.force_login(UserFactory(username="staffer-tern", is_staff=True, permissions=LIFTS))
    # when
    client.post(reverse("admin:campaigns_undorequest_decline", args=[request.pk]), {"words": "It is on your own list."})
    # then
    block.refresh_from_db(), request.refresh_from_db()
    assert block.lifted_at is None and request.state == UndoRequest.State.DECLINED
    page = portal_client.get(reverse("portal:undo_requests")).content.decode()
    assert "The agency declined on" in page and "It is on your own list." in page and "staffer-tern" not in page
    # and an answered request is not answered twice
    again = client.post(reverse("admin:campaigns_undorequest_lift", args=[request.pk]), {"words": "lift"})
    assert again.status_code == 302
    block.refresh_from_db()
    assert block.lifted_at is None


def test_ops_without_the_lift_permission_are_told_and_nothing_changes(portal_client, tenant_a, suppressed):
    # given
    lead, block = suppressed
    portal_client.post(reverse("portal:undo_request_new", args=[lead.pk, block.pk]), {"reason": "please"})
    request = UndoRequest.objects.get()
    client = Client()  # ops' own browser: the portal client stays A's user
    client.force_login(
        UserFactory(username="staffer-auk", is_staff=True, permissions=["campaigns.work_every_campaign"])
    )
    # when
    response = client.post(reverse("admin:campaigns_undorequest_lift", args=[request.pk]), {"words": "ok"}, follow=True)
    # then
    assert "Not lifted: You do not have the permission to lift blocks" in response.content.decode()
    block.refresh_from_db(), request.refresh_from_db()
    assert block.lifted_at is None and request.state == UndoRequest.State.OPEN

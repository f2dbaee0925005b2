"""The dialer API and approved callers: who may pull a campaign's leads, record calls on them and release
them, and the 403 ``caller_not_approved`` everyone else gets."""

import pytest

from campaigns.models import Call, CallerApproval, Lead, LeadStatus
from campaigns.services.callers import approvals_revoke
from tests.campaigns.api_factories import CallerFactory, DialerCampaignFactory, DialerLeadFactory, api_key_for
from tests.campaigns.test_api import auth, post_call, pull

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency_key(db) -> str:
    return api_key_for()[1]


def release(client, key, lead, caller):
    return client.post(
        f"/api/v1/leads/{lead.pk}/release", {"caller": caller.username}, content_type="application/json", **auth(key)
    )


def revoke_all(caller) -> None:
    approvals_revoke(approvals=CallerApproval.objects.filter(caller=caller), actor="tests")


def approved_elsewhere(lead):
    return CallerFactory(username="amy", approved_for=[DialerCampaignFactory()])


def revoked(lead):
    caller = CallerFactory(username="amy", approved_for=[lead.campaign])
    revoke_all(caller)
    return caller


def inactive(lead):
    return CallerFactory(username="amy", approved_for=[lead.campaign], is_active=False)


@pytest.mark.parametrize(
    ("who", "why"),
    [(approved_elsewhere, "is not approved"), (revoked, "is not approved"), (inactive, "is inactive and not approved")],
    ids=["approved for another campaign only", "revoked", "inactive"],
)
def test_a_pull_for_a_caller_not_approved_is_a_403_naming_the_caller_and_the_campaign(client, agency_key, who, why):
    # given
    lead = DialerLeadFactory()
    caller = who(lead)
    # when
    response = pull(client, agency_key, lead.campaign, caller)
    # then
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "caller_not_approved",
            "message": f"amy {why} to call the campaign {lead.campaign} (#{lead.campaign_id}).",
            "field": "caller",
        }
    }
    lead.refresh_from_db()
    assert (lead.status, lead.leased_to) == (LeadStatus.ELIGIBLE, None)


def test_a_revoked_caller_is_refused_on_their_next_request(client, agency_key):
    # given: Amy pulled two leads, then her approval was revoked
    campaign = DialerCampaignFactory()
    first, second = DialerLeadFactory(campaign=campaign), DialerLeadFactory(campaign=campaign)
    amy = CallerFactory(approved_for=[campaign])
    assert len(pull(client, agency_key, campaign, amy).json()["leads"]) == 2
    revoke_all(amy)
    # when
    pulled = pull(client, agency_key, campaign, amy)
    called = post_call(client, agency_key, first, amy)
    released = release(client, agency_key, second, amy)
    # then
    assert [r.status_code for r in (pulled, called, released)] == [403, 403, 403]
    assert {r.json()["error"]["code"] for r in (pulled, called, released)} == {"caller_not_approved"}
    assert not Call.objects.exists()
    assert set(Lead.objects.values_list("status", "leased_to")) == {(LeadStatus.ELIGIBLE, None)}


def test_a_call_by_a_caller_neither_holding_the_lease_nor_approved_is_a_403_and_records_nothing(client, agency_key):
    # given: Ben holds the lease; Amy is approved for another campaign
    lead = DialerLeadFactory()
    ben = CallerFactory(approved_for=[lead.campaign])
    pull(client, agency_key, lead.campaign, ben)
    amy = CallerFactory(username="amy", approved_for=[DialerCampaignFactory()])
    # when
    response = post_call(client, agency_key, lead, amy)
    # then
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "caller_not_approved",
        "message": f"amy is not approved to call the campaign {lead.campaign} (#{lead.campaign_id}) "
        "and does not hold this lead's lease.",
        "field": "caller",
    }
    lead.refresh_from_db()
    assert (Call.objects.count(), lead.leased_to) == (0, ben)


def test_a_caller_approved_for_the_campaign_records_a_call_on_a_lead_another_holds(client, agency_key):
    # given
    lead = DialerLeadFactory()
    pull(client, agency_key, lead.campaign, CallerFactory(approved_for=[lead.campaign]))
    amy = CallerFactory(approved_for=[lead.campaign])
    # when
    response = post_call(client, agency_key, lead, amy)
    # then
    assert response.status_code == 201
    assert Call.objects.get().caller == amy


def test_only_the_lease_holder_releases_a_lead(client, agency_key):
    # given: Ben holds the lease; Cara is approved too; Amy is not approved for the campaign
    lead = DialerLeadFactory()
    ben, cara = CallerFactory(approved_for=[lead.campaign]), CallerFactory(approved_for=[lead.campaign])
    amy = CallerFactory(approved_for=[DialerCampaignFactory()])
    pull(client, agency_key, lead.campaign, ben)
    # when
    by_cara = release(client, agency_key, lead, cara)
    by_amy = release(client, agency_key, lead, amy)
    by_ben = release(client, agency_key, lead, ben)
    after_by_amy = release(client, agency_key, lead, amy)
    # then
    assert (by_cara.status_code, by_amy.status_code, by_ben.status_code) == (409, 409, 200)
    assert by_ben.json()["status"] == "eligible"
    assert after_by_amy.status_code == 403
    assert after_by_amy.json()["error"]["code"] == "caller_not_approved"


def test_a_deactivated_caller_is_refused_pulls_calls_and_releases(client, agency_key):
    # given: Amy pulled a lead, then her user was deactivated (her approval still in force)
    lead = DialerLeadFactory()
    amy = CallerFactory(username="amy", approved_for=[lead.campaign])
    pull(client, agency_key, lead.campaign, amy)
    type(amy).objects.filter(pk=amy.pk).update(is_active=False)
    # when
    answers = [
        pull(client, agency_key, lead.campaign, amy),
        post_call(client, agency_key, lead, amy),
        release(client, agency_key, lead, amy),
    ]
    # then
    assert [a.status_code for a in answers] == [403, 403, 403]
    assert {a.json()["error"]["message"] for a in answers} == {
        f"amy is inactive and not approved to call the campaign {lead.campaign} (#{lead.campaign_id})."
    }
    lead.refresh_from_db()
    assert (Call.objects.count(), lead.leased_to) == (0, amy)

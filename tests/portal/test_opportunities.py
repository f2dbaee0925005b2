"""The customer's own opportunities in the portal: the list and its filters, the account's page, the detail
with its history, and the CSV export (formula-escaped, never naming the agency's staff)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.models import ConsiderationStage, LostReason, Opportunity
from campaigns.services.opportunities import opportunity_lost, opportunity_stage_set
from tests.campaigns.factories import ContactFactory, LeadFactory
from tests.portal.conftest import ops_user, qualify

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops():
    return ops_user("staffer-olm")


@pytest.fixture
def opportunities(tenant_a, ops):
    """A's lead open for Tower A at Decision, and another of A's leads lost for Price."""
    open_one = qualify(tenant_a.lead, actor=ops, project="Tower A", stage="Decision")
    bea = ContactFactory(account=tenant_a.account, first_name="Bea", last_name="Lost")
    lost_one = qualify(LeadFactory(campaign=tenant_a.campaign, contact=bea), actor=ops, lost="Price")
    return open_one, lost_one


def _names(response) -> list[str]:
    return [o.contact.first_name for o in response.context["opportunities"]]


def test_the_opportunities_page_lists_the_customers_own_with_project_stage_and_state(
    portal_client, opportunities, tenant_b
):
    # when
    response = portal_client.get(reverse("portal:opportunities"))

    # then
    page = response.content.decode()
    assert sorted(_names(response)) == ["Ada", "Bea"]
    assert "Tower A" in page and "Decision" in page and "Lost: Price" in page and "Open" in page
    assert "staffer-olm" not in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"state": "open"}, ["Ada"]),
        ({"state": "lost"}, ["Bea"]),
        ({"state": "won"}, []),
        ({"stage": "Decision"}, ["Ada"]),
        ({"stage": "Consideration"}, ["Bea"]),
        ({"q": "anvil"}, ["Ada", "Bea"]),
    ],
)
def test_the_opportunities_page_filters_by_state_stage_and_search(portal_client, opportunities, query, expected):
    # when
    response = portal_client.get(reverse("portal:opportunities"), query)

    # then
    assert sorted(_names(response)) == expected


def test_the_opportunities_page_filters_by_campaign_and_project(portal_client, opportunities, tenant_a):
    # given
    open_one, _ = opportunities

    # when
    by_project = portal_client.get(reverse("portal:opportunities"), {"project": open_one.project_id})
    by_campaign = portal_client.get(reverse("portal:opportunities"), {"campaign": tenant_a.campaign.pk})

    # then
    assert _names(by_project) == ["Ada"]
    assert sorted(_names(by_campaign)) == ["Ada", "Bea"]


def test_the_accounts_page_shows_its_opportunities(portal_client, opportunities, tenant_a):
    # when
    page = portal_client.get(reverse("portal:account", args=[tenant_a.account.pk])).content.decode()
    other = portal_client.get(reverse("portal:account", args=[tenant_a.marked_account.pk])).content.decode()

    # then
    assert "<h2>Opportunities</h2>" in page and "Tower A" in page and "Lost: Price" in page
    assert "<h2>Opportunities</h2>" not in other


def test_the_detail_shows_the_history_without_who_or_the_notes(portal_client, opportunities, tenant_a, ops):
    # given: ops follow it up with notes of their own
    open_one, _ = opportunities
    opportunity_stage_set(
        opportunity=open_one,
        consideration_stage=ConsiderationStage.objects.get(campaign=tenant_a.campaign, label="Awareness"),
        actor=ops,
    )
    opportunity_lost(
        opportunity=open_one,
        lost_reason=LostReason.objects.get(customer=tenant_a.customer, label="Other"),
        actor=ops,
        note="they went with the cheaper agency, per Olm",
    )

    # when
    page = portal_client.get(reverse("portal:opportunity", args=[open_one.pk])).content.decode()

    # then
    assert "Qualified by the agency on" in page
    assert "Consideration stage changed (from Decision): Awareness" in page
    assert "Lost (from Open): Lost: Other" in page
    assert "staffer-olm" not in page and "cheaper agency" not in page


def test_the_export_is_the_customers_own_escaped_and_without_staff(portal_client, opportunities, tenant_a):
    # given: a project whose name a spreadsheet would run
    open_one, _ = opportunities
    open_one.project.name = '=HYPERLINK("http://x")'
    open_one.project.save()

    # when
    response = portal_client.get(reverse("portal:opportunities_csv"), {"state": "open"})

    # then
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert lines[0] == "\ufeffaccount,contact,campaign,project,stage,state,customer,qualified"
    assert len(lines) == 2
    assert lines[1].startswith('Anvil Works,Ada Lovelace,Spring Outreach,"\'=HYPERLINK(""http://x"")",Decision,Open,')
    assert "staffer-olm" not in lines[1]


def test_another_customers_opportunity_is_not_found(client, tenant_b, opportunities):
    # given
    client.force_login(tenant_b.user)
    open_one, _ = opportunities

    # when
    response = client.get(reverse("portal:opportunity", args=[open_one.pk]))
    listed = client.get(reverse("portal:opportunities"))

    # then
    assert response.status_code == 404
    assert list(listed.context["opportunities"]) == []
    assert Opportunity.objects.filter(customer=tenant_b.customer).count() == 0


def test_the_opportunities_page_is_bounded_in_queries(
    portal_client, opportunities, tenant_a, ops, django_assert_max_num_queries
):
    # given: 20 more
    for i in range(20):
        contact = ContactFactory(account=tenant_a.account, first_name=f"More{i}", last_name="Opp")
        qualify(LeadFactory(campaign=tenant_a.campaign, contact=contact), actor=ops, lost="Timing")

    # when / then
    with django_assert_max_num_queries(12):
        response = portal_client.get(reverse("portal:opportunities"))
    assert len(response.context["opportunities"]) == 22

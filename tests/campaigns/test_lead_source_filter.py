"""The lead list's "lead source" filter: the sources of the leads, by name, read as a skip scan of the source
index (``every_lead_source``) for ops, the caller's own leads' for an approved caller."""

import pytest
from django.urls import reverse

from campaigns.admin.lead_filters import every_lead_source
from campaigns.models import Lead
from tests.campaigns.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_every_lead_source_is_the_distinct_sources_by_name():
    # given: leads from four sources, one of them blank, several leads each
    for source in ["vendor-b", "", "vendor-a", "vendor-b", "list 2026", "vendor-a"]:
        LeadFactory(source=source)
    distinct = list(Lead.objects.order_by("source").values_list("source", flat=True).distinct())
    # then: the skip scan finds the same sources, in the same order
    assert every_lead_source(limit=100) == distinct == ["", "list 2026", "vendor-a", "vendor-b"]
    # and stops at its limit
    assert every_lead_source(limit=2) == distinct[:2]


def test_no_lead_means_no_source():
    assert every_lead_source(limit=100) == []


def test_the_lead_list_offers_the_same_sources(admin_client):
    for source in ["vendor-b", "", "vendor-a"]:
        LeadFactory(source=source)
    response = admin_client.get(reverse("admin:campaigns_lead_changelist"))
    content = response.content.decode()
    assert response.status_code == 200
    for shown in ["(none)", "vendor-a", "vendor-b"]:
        assert shown in content
    # and choosing one filters on it
    response = admin_client.get(reverse("admin:campaigns_lead_changelist"), {"source": "vendor-a"})
    assert [lead.source for lead in response.context["cl"].result_list] == ["vendor-a"]


def test_grouped_writes_thousands_with_commas():
    from campaigns.templatetags.counts import grouped

    assert grouped(1000) == "1,000"
    assert grouped(999) == "999"
    assert grouped(1_000_001) == "1,000,001"

"""The pool order is one index scan: no sort, whatever the campaign's size."""

import pytest
from django.db import connection
from django.db.models import F

from campaigns.models import Lead, LeadStatus
from tests.campaigns.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plan")
def test_next_eligible_leads_of_a_campaign_are_one_index_scan():
    # given
    lead = LeadFactory()
    query = Lead.objects.filter(campaign=lead.campaign, status=LeadStatus.ELIGIBLE).order_by(
        F("priority").desc(), F("last_attempt_at").asc(nulls_first=True), "id"
    )[:10]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        # when
        plan = query.explain()
    # then
    assert "lead_pool_order" in plan
    assert "Sort" not in plan

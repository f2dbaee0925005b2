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
        # Statistics left by earlier tests may make a sort of a few rows look cheapest; with sorting priced
        # out, a plan without a Sort exists only if an index yields the pool's order by itself.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        # when
        plan = query.explain()
    # then
    assert "lead_pool_order" in plan
    assert "Sort" not in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plan")
def test_the_prepared_lease_statement_walks_the_pool_index_whatever_its_parameters():
    # given: the statement a pull prepares, planned without its parameters as the settings ask
    import re

    from django.db import transaction
    from django.utils import timezone

    from campaigns.dialer.pool import _lease_sql
    from suppressions.rules import entry_type_id

    lead = LeadFactory()
    with transaction.atomic():
        sql = _lease_sql(connection.alias, lead.campaign_id, 10, entry_type_id())
    numbered = iter(range(1, 1000))
    prepared = re.sub(r"(?<!%)%s", lambda _: f"${next(numbered)}", sql).replace("%%", "%")
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("force_generic_plan",)
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"PREPARE lease_plan AS {prepared}")
        # when
        cursor.execute(
            "EXPLAIN EXECUTE lease_plan(%s, %s, %s, %s, %s, %s, %s, %s)",
            (now, lead.campaign_id, None, "waiting", "leased", now, None, now),
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("DEALLOCATE lease_plan")
    # then: a generic plan that scans the pool's partial index in order
    assert "Index Scan using lead_pool_order" in plan
    assert "Sort Key: campaigns_lead" not in plan

"""Admin list counts cost a bounded amount of work, however large the table."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Lead, LeadStatus
from leadops.pagination import BoundedCountPaginator
from tests.campaigns.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def twelve_leads(settings):
    settings.LEADOPS_ADMIN_COUNT_LIMIT = 10
    return LeadFactory.create_batch(12, campaign=CampaignFactory())


def test_count_below_the_limit_is_exact(twelve_leads):
    # given
    paginator = BoundedCountPaginator(Lead.objects.filter(pk__in=[lead.pk for lead in twelve_leads[:4]]), 2)
    # when
    count = paginator.count
    # then
    assert (count, paginator.count_is_exact, paginator.count_qualifier) == (4, True, "")


def test_count_above_the_limit_stops_at_the_limit(twelve_leads):
    # given
    paginator = BoundedCountPaginator(Lead.objects.filter(status=LeadStatus.ELIGIBLE).order_by("-id"), 5)
    # when
    with CaptureQueriesContext(connection) as queries:
        count = paginator.count
    # then
    assert (count, paginator.count_qualifier, paginator.num_pages) == (10, "more than", 2)
    assert "LIMIT 11" in queries.captured_queries[-1]["sql"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the planner's estimate is PostgreSQL's")
def test_unfiltered_count_of_a_big_table_is_the_planners_estimate(twelve_leads):
    # given
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE campaigns_lead")
    paginator = BoundedCountPaginator(Lead.objects.all(), 5)
    # when
    with CaptureQueriesContext(connection) as queries:
        count = paginator.count
    # then
    assert count == 12
    assert paginator.count_qualifier == "about"
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)


@pytest.mark.parametrize(
    ("through", "counted", "qualifier"),
    [(1, 4, "more than"), (2, 6, "more than"), (3, 8, "more than"), (4, 10, "more than"), (9, 10, "more than")],
)
def test_a_searched_count_reaches_one_page_beyond_the_page_asked_for(
    settings, twelve_leads, through, counted, qualifier
):
    # given: twelve leads found, two to a page, a search cap of 10
    settings.LEADOPS_SEARCH_COUNT_LIMIT = 10
    found = Lead.objects.filter(pk__in=[lead.pk for lead in twelve_leads]).order_by("-id")
    # when: page ``through`` is asked for
    paginator = BoundedCountPaginator(found, 2, searched=True, searched_through=through)
    # then: the count goes one page further (the next page is there to click), never past the cap
    assert (paginator.count, paginator.count_qualifier) == (counted, qualifier)
    assert paginator.num_pages == counted // 2


def test_a_searched_count_is_exact_when_the_next_page_ends_the_list(settings, twelve_leads):
    settings.LEADOPS_SEARCH_COUNT_LIMIT = 100
    found = Lead.objects.filter(pk__in=[lead.pk for lead in twelve_leads]).order_by("-id")
    paginator = BoundedCountPaginator(found, 5, searched=True, searched_through=2)
    assert (paginator.count, paginator.count_qualifier, paginator.num_pages) == (12, "", 3)


def test_the_admin_and_the_portal_read_the_page_asked_for_from_the_query_string():
    from leadops.pagination import page_asked

    assert [page_asked(v) for v in ("3", None, "", "last", "-2", "0")] == [3, 1, 1, 1, 1, 1]

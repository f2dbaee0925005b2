"""Admin list pages that stay fast on million-row tables: never a full-table ``COUNT(*)`` per page load.

``Paginator.count`` is the one number the admin changelist needs. ``BoundedCountPaginator`` answers it:

* with no filter and no search on PostgreSQL, from the planner's estimate (``pg_class.reltuples``), which
  costs one catalogue lookup whatever the table's size; the estimate is used only once the table is big
  enough that an exact count would be slow;
* otherwise by counting at most ``LEADOPS_ADMIN_COUNT_LIMIT + 1`` rows, so a filter that matches most of a
  big table still costs a bounded scan; a searched list counts only to the end of the page after the one
  shown (``searched_through``: "more than 200 leads" on the first page of 100, one page further on each
  page after), and never past ``LEADOPS_SEARCH_COUNT_LIMIT + 1`` (1,000). A broad search is counted by
  walking the list and checking each row (``campaigns.selectors.searching``): a one-in-a-hundred term read
  100,000 rows to say "more than 1,000", where "more than 200" and a next page say all a person needs.

``count_qualifier`` says how to read the number ("about", "more than", or exact);
``templates/admin/campaigns/pagination.html`` writes it in front of the count.
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

DEFAULT_COUNT_LIMIT = 10_000
DEFAULT_SEARCH_COUNT_LIMIT = 1_000


def count_limit(*, searched: bool = False) -> int:
    if searched:
        return int(getattr(settings, "LEADOPS_SEARCH_COUNT_LIMIT", DEFAULT_SEARCH_COUNT_LIMIT))
    return int(getattr(settings, "LEADOPS_ADMIN_COUNT_LIMIT", DEFAULT_COUNT_LIMIT))


def page_asked(value: object) -> int:
    """Return the page number a query string asks for (1 for none or nonsense: the paginator then refuses
    or shows the first page as it would)."""
    try:
        return max(1, int(str(value)))
    except (TypeError, ValueError):
        return 1


def table_row_estimate(queryset: QuerySet) -> int | None:
    """Return the planner's row estimate for the queryset's table on PostgreSQL, or None if it has none.

    ``reltuples`` is -1 for a table never vacuumed or analysed (PostgreSQL 14+) and 0 for a new one.
    """
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    if row is None or row[0] is None or row[0] < 0:
        return None
    return int(row[0])


def is_unfiltered(queryset: QuerySet) -> bool:
    """Return whether the queryset reads every row of its table (no WHERE, no DISTINCT, no slice)."""
    query = queryset.query
    return not query.where and not query.distinct and query.low_mark == 0 and query.high_mark is None


class BoundedCountPaginator(Paginator):
    """A paginator whose ``count`` costs a bounded amount of work however large the table is."""

    _qualifier = ""

    def __init__(self, *args, searched: bool = False, searched_through: int = 1, **kwargs):
        """``searched``: the list is a search's; ``searched_through``: the page number asked for (a searched
        count reaches one page beyond it)."""
        super().__init__(*args, **kwargs)
        self.searched = searched
        self.searched_through = max(1, searched_through)

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        limit = count_limit(searched=self.searched)
        if self.searched:
            limit = min(limit, (self.searched_through + 1) * self.per_page)
        if is_unfiltered(queryset):
            estimate = table_row_estimate(queryset)
            if estimate is not None and estimate > limit:
                self._qualifier = "about"
                return estimate
        # COUNT(*) over a LIMITed subquery: it stops after limit + 1 rows.
        bounded = queryset.order_by()[: limit + 1].count()
        if bounded > limit:
            self._qualifier = "more than"
            return limit
        return bounded

    @property
    def count_qualifier(self) -> str:
        """Return what the list page writes before an inexact count: "about", "more than", or nothing."""
        self.count  # noqa: B018 -- the qualifier is known once the count is.
        return self._qualifier

    @property
    def count_is_exact(self) -> bool:
        return not self.count_qualifier

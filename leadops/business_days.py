"""US business days: weekdays that are not a US federal holiday (``holidays``' financial-free federal calendar).

The Telemarketing Sales Rule gives a seller 10 business days to honour a Do-Not-Call request; leadops counts
them here. Federal holidays observed on a weekday (a Saturday's on the Friday before, a Sunday's on the Monday
after) are the ``holidays`` package's ``US`` calendar with its default (federal) categories.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta

import holidays


@functools.cache
def _federal(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("US", years=year))


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _federal(day.year)


def business_days_after(day: date, count: int) -> date:
    """Return the ``count``-th business day after ``day`` (``day`` itself not counted)."""
    found = day
    while count > 0:
        found += timedelta(days=1)
        if is_business_day(found):
            count -= 1
    return found


def business_days_between(start: date, end: date) -> int:
    """Return how many business days come after ``start`` up to and including ``end`` (negative when ``end`` is
    before ``start``)."""
    if end < start:
        return -business_days_between(end, start)
    return sum(1 for n in range(1, (end - start).days + 1) if is_business_day(start + timedelta(days=n)))

"""Paging of long lists without counting every row.

An inbox or outbox of a busy registry holds tens of thousands of letters; counting them all on
every page view costs more than showing the page. Lists count at most ``COUNT_CAP`` rows: beyond
that the page says "more than 1,000" and the newest 1,000 can be paged through; older ones are
found with the registers' search.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

COUNT_CAP = 1000


class CappedPaginator(Paginator):
    """A paginator whose count stops at ``COUNT_CAP`` (``capped`` tells whether there are more)."""

    capped = False

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        found = rows[: COUNT_CAP + 1].count() if isinstance(rows, QuerySet) else len(rows)
        self.capped = found > COUNT_CAP
        return min(found, COUNT_CAP)


def capped_count(rows: QuerySet[Any]) -> tuple[int, bool]:
    """How many rows, counting at most ``COUNT_CAP``; and whether there are more."""
    found = rows[: COUNT_CAP + 1].count()
    return min(found, COUNT_CAP), found > COUNT_CAP


def page_of_rows(rows: Any, number: str | None, per_page: int) -> Page:
    """One page of ``rows``."""
    return CappedPaginator(rows, per_page).get_page(number)

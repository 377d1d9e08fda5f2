"""Pagination for tables too large to COUNT(*) on every page load."""

import json

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property


def estimated_rows(queryset):
    """PostgreSQL's planner estimate of how many rows `queryset` returns (no rows are read).

    For a whole table this is pg_class.reltuples scaled to the table's current size.
    """
    sql, params = queryset.order_by().query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """Counts exactly up to `exact_limit` rows, and estimates beyond that on PostgreSQL.

    The exact part is a COUNT over a LIMITed subquery, so it stops early;
    a million-row table costs an estimate, not a full scan. Other databases
    (SQLite for small installations) count exactly.
    """

    exact_limit = 10_000
    # True once `count` is the planner's estimate (the admin then says "about N").
    is_estimated = False

    @cached_property
    def count(self):
        queryset = self.object_list
        if not isinstance(queryset, QuerySet) or connections[queryset.db].vendor != "postgresql":
            return super().count
        capped = queryset.order_by()[: self.exact_limit + 1].count()
        if capped <= self.exact_limit:
            return capped
        self.is_estimated = True
        return max(estimated_rows(queryset), capped)

"""Large tables: the paginator counts small results exactly and estimates big ones without a full COUNT."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_entry, make_target
from tracker.adminkit.paginator import EstimatedCountPaginator, estimated_rows
from tracker.targets.models import ProgressEntry

pytestmark = pytest.mark.django_db


class SmallLimitPaginator(EstimatedCountPaginator):
    exact_limit = 10


def make_entries(targets=6):
    for _ in range(targets):
        target = make_target()
        for month in range(2, 7):
            make_entry(target, month)


def test_it_counts_small_results_exactly():
    make_entries(2)
    paginator = EstimatedCountPaginator(ProgressEntry.objects.order_by("pk"), 3)
    assert paginator.count == 10
    assert paginator.num_pages == 4
    assert [e.month for e in paginator.page(2)] == [5, 6, 2]


def test_it_estimates_large_results_on_postgresql_without_a_full_count(postgres):
    make_entries(6)  # 30 rows, above the limit of 10
    with postgres.cursor() as cursor:
        cursor.execute("ANALYZE targets_progressentry")
    everything = ProgressEntry.objects.select_related("target").order_by("-pk")
    june = everything.filter(month=6)
    with CaptureQueriesContext(connection) as queries:
        whole = SmallLimitPaginator(everything, 10).count
        filtered = SmallLimitPaginator(june, 10).count
    assert whole == estimated_rows(everything) == 30
    assert filtered == 6  # exact: below the limit
    whole_paginator, june_paginator = SmallLimitPaginator(everything, 10), SmallLimitPaginator(june, 10)
    assert (whole_paginator.count, whole_paginator.is_estimated) == (30, True)
    assert (june_paginator.count, june_paginator.is_estimated) == (6, False)
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 2 and all("LIMIT 11" in sql for sql in counts)
    assert sum("EXPLAIN" in q["sql"] for q in queries) == 1


def test_it_never_reports_fewer_rows_than_it_has_seen(postgres):
    make_entries(6)
    # No ANALYZE: whatever the planner guesses, the count is at least the rows already counted.
    assert SmallLimitPaginator(ProgressEntry.objects.order_by("pk"), 10).count >= 11


def test_the_entries_list_says_about_when_the_count_is_an_estimate(postgres, admin_client, monkeypatch):
    from django.urls import reverse

    make_entries(6)
    with postgres.cursor() as cursor:
        cursor.execute("ANALYZE targets_progressentry")
    url = reverse("admin:targets_progressentry_changelist")
    assert "约 30" not in admin_client.get(url).content.decode()  # 30 rows: counted exactly
    monkeypatch.setattr(EstimatedCountPaginator, "exact_limit", 10)
    assert "约 30" in admin_client.get(url).content.decode()

"""Report, exports and dashboard run the same number of queries for 5 targets as for 500."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_plan, make_section, make_user
from tracker.accounts.models import Membership
from tracker.targets.models import MonthlyPlanPoint, ProgressEntry, Target, Unit
from tracker.targets.status import assess_period

pytestmark = pytest.mark.django_db

# Five targets already hold a decomposed count (Q0002 under Q0000) and a task with notes.
KINDS = [Target.Kind.CUMULATIVE, Target.Kind.GROWTH, Target.Kind.CUMULATIVE, Target.Kind.QUALITATIVE,
         Target.Kind.MILESTONE, Target.Kind.MARGIN, Target.Kind.RECURRING]
# A leader's scope costs two queries (the unit tree, the units leading their organisation's targets).
MAX_QUERIES = 26
# The bulletin's 四、存在问题 ends with the registers' part (open coordination items, projects behind their plan,
# firms expected to enter the above-scale list): three queries of its own, whatever the size of the registers.
BULLETIN_REGISTER_QUERIES = 3


def build(n, start=0):
    """n targets of every kind over 2 sections and 5 units, entries for months 2–6, some decomposed."""
    plan = make_plan(2022)
    sections = [make_section(plan, 1), make_section(plan, 2)]
    units = [Unit.objects.get_or_create(code=f"u{i}", defaults={"name": f"单位{i}"})[0] for i in range(5)]
    targets = []
    for i in range(start, start + n):
        kind = KINDS[i % len(KINDS)]
        targets.append(Target(
            plan=plan, section=sections[i % 2], lead_unit=units[i % 5], code=f"Q{i:04d}", name=f"目标{i}", kind=kind,
            target_value=None if kind in (Target.Kind.MILESTONE, Target.Kind.QUALITATIVE) else Decimal("12"),
            comparator_name="全省" if kind == Target.Kind.MARGIN else "", frequency="quarter",
            deadline=datetime.date(2022, 12, 31), combined_jan_feb=i % 4 == 0,
        ))
    Target.objects.bulk_create(targets)
    targets = list(Target.objects.filter(plan=plan, code__gte=f"Q{start:04d}").order_by("code"))
    cumulative = [t for t in Target.objects.filter(plan=plan, kind=Target.Kind.CUMULATIVE).order_by("code")]
    for child in cumulative[1::2]:  # every other count is a sub-target of the first one
        child.parent = cumulative[0]
    Target.objects.bulk_update(cumulative[1::2], ["parent"])
    cumulative = [t for t in cumulative if t.code >= f"Q{start:04d}"]
    submitted = timezone.make_aware(datetime.datetime(2022, 7, 5, 9))
    entries = []
    for t in targets:
        for month in range(2, 7):
            entries.append(ProgressEntry(
                target=t, year=2022, month=month, value=Decimal(month) if t.kind != Target.Kind.QUALITATIVE else None,
                comparator=Decimal("5") if t.kind == Target.Kind.MARGIN else None, note="进展",
                state=ProgressEntry.State.SUBMITTED, submitted_at=submitted,
            ))
    ProgressEntry.objects.bulk_create(entries)
    MonthlyPlanPoint.objects.bulk_create(
        MonthlyPlanPoint(target=t, month=6, value=Decimal("6")) for t in cumulative)
    return units


URLS = [
    reverse("reports:report", args=[2022, "06"]),
    reverse("reports:report", args=[2022, "06"]) + "?_export=csv",
    reverse("reports:report", args=[2022, "06"]) + "?_export=xlsx",
    reverse("reports:report", args=[2022, "06"]) + "?_export=docx&status=off_track",
    reverse("reports:dashboard") + "?period=2022-06",
    reverse("reports:completeness", args=[2022, "06"]),
    reverse("reports:target", args=["Q0000"]) + "?period=2022-06",
]


@pytest.mark.parametrize("n", [5, 500])
@pytest.mark.parametrize("role", ["leader", "clerk"])
def test_it_runs_a_constant_number_of_queries(client, django_assert_max_num_queries, n, role):
    units = build(n)
    user = make_user(unit=units[0],
                     role=Membership.Role.CLERK if role == "clerk" else Membership.Role.LEADER)
    client.force_login(user)
    for url in URLS:
        with django_assert_max_num_queries(MAX_QUERIES + (BULLETIN_REGISTER_QUERIES if "docx" in url else 0)):
            response = client.get(url)
        assert response.status_code == 200, url


def query_counts(client):
    counts = []
    for url in URLS:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    return counts


def test_it_runs_exactly_the_same_queries_for_5_and_500_targets(client):
    units = build(5)
    client.force_login(make_user(unit=units[0], role=Membership.Role.CLERK))
    small = query_counts(client)
    build(495, start=5)
    assert Target.objects.count() == 500
    assert query_counts(client) == small


def test_it_assesses_a_period_in_a_constant_number_of_queries(django_assert_num_queries):
    build(5)
    with CaptureQueriesContext(connection) as small:
        assess_period(Target.objects.all(), 2022, 6)
    build(95, start=5)
    with django_assert_num_queries(len(small)):
        result = assess_period(Target.objects.all(), 2022, 6)
    # targets, plans, sections, units, entries (and those in correction), points, kids + theirs, reporting policies
    assert len(result) == 100 and len(small) == 11

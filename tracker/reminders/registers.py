"""The registers' part of the reviewers' reminder email: what the leader asks of the registers (issue 15).

For the units a reviewer reviews: the scheduling months submitted and waiting for review (each with a link to its
screen), open coordination items (协调事项) by age and handler, projects behind their planned stage, and firms
expected to enter the above-scale list by the end of the quarter that have not — counts and the oldest few of
each, with links to the three leader pages. The rows come from tracker.registers.lists
(the same rules as the pages and the bulletin), read once per sweep (three queries) and cut per reviewer.
"""

from collections import Counter
from dataclasses import dataclass, field

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from tracker import links
from tracker.accounts import scoping
from tracker.registers import lists
from tracker.registers import views as pages
from tracker.registers.models import Coordination, Listing, Project, ScheduleMonth
from tracker.targets import workdays
from tracker.targets.models import ProgressEntry
from tracker.targets.period import Period
from tracker.targets.policies import current_period, end_of

# How many of each kind the email names (the oldest); the page behind the link lists them all.
OLDEST = 3
PAGE_TITLES = {
    "months": _("Scheduling months waiting for review"),
    "open_items": pages.OpenItemsView.title,
    "behind": pages.BehindView.title,
    "expected": pages.ExpectedView.title,
}


@dataclass
class Part:
    """One kind of register row in the email: how many, the oldest few, and the page listing them all."""

    name: str
    count: int
    oldest: list
    url: str
    extra: dict = field(default_factory=dict)

    @property
    def title(self):
        return PAGE_TITLES[self.name]


class RegisterLines:
    """The registers' rows of one day, read once; `for_user` cuts them to the units a reviewer reviews."""

    def __init__(self, today):
        self.today = today
        self.period = current_period(today)
        items = Coordination.objects.select_related("project__unit").order_by("raised_on", "pk")
        self.items = list(lists.open_items(items))
        projects = Project.objects.select_related("unit").order_by("unit__code", "name", "pk")
        self.behind = lists.behind(projects, self.period)
        listings = Listing.objects.select_related("firm__unit").order_by("expected_month", "firm__name", "pk")
        self.expected = list(lists.expected_not_entered(listings, self.period))
        query = f"?period={self.period.key}"
        self.urls = {name: links.absolute(path + query) for name, path in links.register_pages()}
        # Submitted by the end of the day and waiting, as the entries of the same email.
        self.months = list(ScheduleMonth.objects.filter(
            state=ProgressEntry.State.SUBMITTED, submitted_at__lt=end_of(today),
        ).select_related("unit").order_by("year", "month", "unit__code", "register"))
        for month in self.months:
            period = Period(month.year, month.month)
            projects = month.register == ScheduleMonth.Register.PROJECTS
            screen = links.schedule_url if projects else links.firm_schedule_url
            month.period_label, month.url = period.label, links.absolute(screen(month.unit.code, period.key))
        self.urls["months"] = links.absolute(links.registers_home_url())

    def for_user(self, user):
        """{"period", "parts", "months_waiting"} of the registers' rows in the user's review units, or None when
        there are none."""
        allowed = scoping.review_unit_ids(user)

        def mine(unit_id):
            return allowed is None or unit_id in allowed

        months = [m for m in self.months if mine(m.unit_id)]
        items = [i for i in self.items if mine(i.project.unit_id)]
        behind = [p for p in self.behind if mine(p.unit_id)]
        expected = [x for x in self.expected if mine(x.firm.unit_id)]
        if not (months or items or behind or expected):
            return None
        for item in items:
            item.days_open = (self.today - item.raised_on).days
        for listing in expected:
            listing.expected_label = _month_label(listing.expected_month)
        handlers = Counter(i.handler for i in items)
        old = sum(1 for i in items if i.days_open > lists.OLD_ITEM_DAYS)
        parts = [
            Part("months", len(months), months, self.urls["months"]),
            Part(
                "open_items",
                len(items),
                items[:OLDEST],
                self.urls["open_items"],
                {
                    "old": old,
                    "days": lists.OLD_ITEM_DAYS,
                    "handlers": sorted(handlers.items(), key=lambda pair: (-pair[1], not pair[0], pair[0])),
                },
            ),
            # Behind: the longest overdue first (the earliest planned month that has passed).
            Part("behind", len(behind), sorted(behind, key=_planned)[:OLDEST], self.urls["behind"]),
            Part("expected", len(expected), expected[:OLDEST], self.urls["expected"]),
        ]
        return {"period": self.period, "parts": parts, "months_waiting": len(months)}


# Worded when the email is rendered, in its reader's language.
_month_label = lazy(lists.month_text, str)


def _planned(project):
    return (project.planned_start or project.planned_production or "9999-99", project.name)


def register_only_day(today):
    """Whether a reviewer with nothing waiting gets the registers' email alone today: the first working day of
    the month (once a month; on other days the registers ride along with the email of entries waiting)."""
    return today == workdays.nth_working_day(today.year, today.month, 1)

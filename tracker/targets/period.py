"""A reporting period: a year and the month whose year-to-date figure (1—N月累计) is reported.

Every screen, reason, email and export names a period through this one object,
in one notation per language:

    label          2022年1—6月 / Jan–Jun 2022   (running text, headings, titles)
    months_label   1—6月 / Jan–Jun              (tables and reasons, where the year is known)
    month_name     6月 / Jun
    key            2022-06                      (URLs, files, the Reminder log)

January alone is 2022年1月 / Jan 2022. Indicators reported for January and
February together have no January figure (Target.expects_entry); their first
period, 1—2月, is written like any other.
"""

import calendar
import datetime
from dataclasses import dataclass
from functools import total_ordering

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tracker.targets import workdays

MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Years a period may have: wide enough for any plan, narrow enough that dates and calendars never overflow.
MIN_YEAR, MAX_YEAR = 2000, 2100


def _english():
    return (get_language() or "").startswith("en")


@total_ordering
@dataclass(frozen=True)
class Period:
    year: int
    month: int

    def __post_init__(self):
        if not (isinstance(self.year, int) and isinstance(self.month, int)):
            raise ValueError(_("A period needs a whole year and month."))
        if not 1 <= self.month <= 12:
            raise ValueError(_("The month must be between 1 and 12."))
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise ValueError(_("The year %(year)s is out of range (%(min)s–%(max)s).") % {
                "year": self.year, "min": MIN_YEAR, "max": MAX_YEAR})

    # --- making one ------------------------------------------------------------------------------

    @classmethod
    def parse(cls, text):
        """'2022-06' -> Period(2022, 6); raises ValueError with a message for the user."""
        try:
            year_s, month_s = str(text).strip().split("-")
            if not (year_s.isdigit() and month_s.isdigit()):
                raise ValueError
            return cls(int(year_s), int(month_s))
        except (ValueError, TypeError):
            raise ValueError(_("'%(text)s' is not a period of the form YYYY-MM.") % {"text": text}) from None

    @classmethod
    def of(cls, day):
        """The period a date falls in."""
        return cls(day.year, day.month)

    # --- arithmetic ------------------------------------------------------------------------------

    def __lt__(self, other):
        return (self.year, self.month) < (other.year, other.month)

    def shift(self, months):
        index = self.year * 12 + (self.month - 1) + months
        return Period(index // 12, index % 12 + 1)

    @property
    def previous(self):
        return self.shift(-1)

    @property
    def next(self):
        return self.shift(1)

    @property
    def start(self):
        return datetime.date(self.year, self.month, 1)

    @property
    def end(self):
        """The period's last day."""
        return datetime.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def deadline(self, due_working_day):
        """When the period's figures are due: the Nth working day of the next month (official calendar)."""
        return workdays.due_date(self.year, self.month, due_working_day)

    # --- names -----------------------------------------------------------------------------------

    @property
    def key(self):
        return f"{self.year:04d}-{self.month:02d}"

    def __str__(self):
        return self.key

    @property
    def label(self):
        """2022年1—6月 / Jan–Jun 2022, in the active language."""
        if _english():
            return f"{self.months_label} {self.year}"
        return f"{self.year}年{self.months_label}"

    @property
    def months_label(self):
        """1—6月 / Jan–Jun: the months a year-to-date figure covers, in the active language."""
        return months_label(self.month)

    @property
    def month_label(self):
        """2022年9月 / Sep 2022: the month itself (not the months up to it), in the active language."""
        return f"{self.month_name} {self.year}" if _english() else f"{self.year}年{self.month_name}"

    @property
    def month_name(self):
        return MONTHS_EN[self.month - 1] if _english() else f"{self.month}月"


def months_label(month):
    """1—6月 / Jan–Jun for a year-to-date figure through `month`, in the active language (1月 / Jan alone)."""
    if _english():
        return MONTHS_EN[0] if month == 1 else f"Jan–{MONTHS_EN[month - 1]}"
    return "1月" if month == 1 else f"1—{month}月"


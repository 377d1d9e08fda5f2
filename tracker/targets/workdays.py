"""Working days and reporting deadlines.

Figures for month M are due on the Nth working day of month M+1. Working days
follow the official Chinese calendar (holidays and adjusted working days, 调休)
from the `chinesecalendar` package; for years it does not cover we fall back
to Monday–Friday and log a warning once per year.
"""

import datetime
import logging
from functools import lru_cache

import chinese_calendar

logger = logging.getLogger(__name__)

ONE_DAY = datetime.timedelta(days=1)

# Years already warned about, so a sweep does not log the same warning per date.
_warned_years = set()


@lru_cache(maxsize=4096)
def is_working_day(day):
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            logger.warning(
                "The official calendar does not cover %s; counting Monday to Friday as working days.", day.year
            )
        return day.weekday() < 5


def add_working_days(day, count):
    """The working day `count` working days after `day` (before it when negative)."""
    step = ONE_DAY if count >= 0 else -ONE_DAY
    remaining = abs(count)
    while remaining:
        day += step
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start, end):
    """Working days d with start < d <= end (negative when end is before start)."""
    if end < start:
        return -working_days_between(end, start)
    count, day = 0, start
    while day < end:
        day += ONE_DAY
        if is_working_day(day):
            count += 1
    return count


def nth_working_day(year, month, n):
    """The nth working day of a month; the month's last working day if it has fewer than n."""
    day = datetime.date(year, month, 1)
    last = None
    seen = 0
    while day.month == month:
        if is_working_day(day):
            seen += 1
            last = day
            if seen == n:
                return day
        day += ONE_DAY
    return last


@lru_cache(maxsize=1024)
def due_date(year, month, n):
    """When the figures for (year, month) are due: the nth working day of the following month."""
    if month == 12:
        return nth_working_day(year + 1, 1, n)
    return nth_working_day(year, month + 1, n)

"""The project's links by name: one place that knows which URL each screen has.

Apps link to each other's screens through these functions instead of
importing each other's views (emails link to the entry screen, the
completeness page to it too, the report to the target page…).
"""

from django.conf import settings
from django.urls import reverse


def absolute(path):
    """A full URL for emails and other messages read outside the site."""
    return settings.SITE_URL + path


def _code(unit):
    return getattr(unit, "code", unit)


def entry_screen_url(unit, period):
    """The monthly entry screen of a unit (a Unit or its code) for a period (a Period or 'YYYY-MM')."""
    return reverse("admin:targets_progressentry_entry", args=[_code(unit), str(period)])


def review_queue_url():
    """The entries waiting for review."""
    return reverse("admin:targets_progressentry_changelist") + "?state__exact=submitted"


def organisations_url():
    """The combined dashboard: status counts per organisation (issuing unit)."""
    return reverse("reports:organisations")


def report_url(period):
    return reverse("reports:report", args=[f"{period.year:04d}", f"{period.month:02d}"])


def completeness_url(period):
    return reverse("reports:completeness", args=[f"{period.year:04d}", f"{period.month:02d}"])


def briefing_note_url(period):
    """Where the next steps of the month's bulletin are saved."""
    return reverse("reports:briefing_note", args=[f"{period.year:04d}", f"{period.month:02d}"])


def dashboard_url(period):
    return reverse("reports:dashboard") + f"?period={period.key}"


def target_url(code):
    return reverse("reports:target", args=[code])


def register_rows_url(target_id, period):
    """The firms or projects behind a register-backed target's figure for a month (by the target's id: codes are
    unique within a plan only)."""
    return reverse("registers:figure_rows", args=[target_id, str(period)])


def schedule_url(unit, period):
    """The monthly project scheduling screen of a unit (a Unit or its code) for a period."""
    return reverse("registers:schedule", args=[_code(unit), str(period)])


def firm_schedule_url(unit, period):
    """The monthly scheduling screen of a unit's above-scale cultivation firms (a Unit or its code) for a period."""
    return reverse("registers:firm_schedule", args=[_code(unit), str(period)])


def registers_home_url():
    """The registers' home page: each unit's scheduling months and their review state."""
    return reverse("registers:home")


def register_pages():
    """The registers' pages for leaders: (URL name, path)."""
    return [(name, reverse(f"registers:{name}")) for name in ("open_items", "behind", "expected")]


def chase_url(period):
    """Where the completeness page's 催报 button posts the units to chase for a period."""
    return reverse("reminders:chase", args=[f"{period.year:04d}", f"{period.month:02d}"])

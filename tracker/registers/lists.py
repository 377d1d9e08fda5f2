"""What the leader asks of the registers, as querysets and rows: used by the pages (views) and by the
bulletin's 存在问题 (`problems`). Every function takes querysets already limited to what the person may see.
"""

from collections import Counter

from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _

from tracker.accounts import scoping
from tracker.registers.models import STAGE_ORDER, Coordination, Listing, Project
from tracker.targets.period import Period

STARTED = STAGE_ORDER[STAGE_ORDER.index(Project.Stage.STARTED):]
# An open coordination item older than this many days is named as long-standing.
OLD_ITEM_DAYS = 30


def quarter_months(period):
    first = (period.month - 1) // 3 * 3 + 1
    return [Period(period.year, m).key for m in range(first, first + 3)]


def open_items(items):
    return items.filter(solved_on__isnull=True)


def _lateness(project, key):
    """How the project is behind its planned stage at period `key`: "suspended", "start", "production" or ""."""
    if project.stage == Project.Stage.SUSPENDED:
        return "suspended"
    if project.planned_start and project.planned_start <= key and project.stage not in STARTED:
        return "start"
    if project.planned_production and project.planned_production <= key:
        return "production"
    return ""


def month_text(key):
    """A register's "YYYY-MM" as people read it (2022年3月 / Mar 2022); "" for none, the text itself if malformed."""
    if not key:
        return ""
    try:
        return Period.parse(key).month_label
    except ValueError:
        return key


def _behind_reason(project, key):
    """Why the project is behind at period `key`, in the active language ("" if it is not)."""
    lateness = _lateness(project, key)
    if lateness == "suspended":
        return _("Suspended or slowed: %(reason)s") % {"reason": project.suspended_reason}
    if lateness == "start":
        return _("Planned to start in %(month)s, still %(stage)s") % {
            "month": month_text(project.planned_start), "stage": project.get_stage_display()}
    if lateness == "production":
        return _("Planned to produce in %(month)s, still %(stage)s") % {
            "month": month_text(project.planned_production), "stage": project.get_stage_display()}
    return ""


# Worded when shown (str()), so an email renders the reason in its reader's language.
_behind_text = lazy(_behind_reason, str)


def behind(projects, period):
    """The projects behind their planned stage at `period`, each with `behind`, the reason in words."""
    key = period.key
    found = []
    for project in projects.exclude(stage=Project.Stage.PRODUCING):
        if _lateness(project, key):
            project.behind = _behind_text(project, key)
            found.append(project)
    return found


def expected_not_entered(listings, period):
    """Cultivation-list firms expected to enter the above-scale list by the end of the period's quarter that
    have not (expected earlier and still waiting included)."""
    return listings.filter(kind=Listing.Kind.CULTIVATION, state=Listing.State.ACTIVE,
                           expected_month__lte=quarter_months(period)[-1]).exclude(expected_month="")


def problems(user, period, today=None):
    """The registers' lines for the bulletin's 存在问题: [(unit name, text)] per county, in three queries."""
    today = today or timezone.localdate()
    items = open_items(scoping.visible_by_unit(user, Coordination.objects.all(), "project__unit_id"))
    projects = scoping.visible_by_unit(user, Project.objects.select_related("unit"))
    listings = scoping.visible_by_unit(user, Listing.objects.all(), "firm__unit_id")
    units, open_count, old_count = {}, Counter(), Counter()
    for unit_id, name, raised_on in items.values_list("project__unit_id", "project__unit__name", "raised_on"):
        units[unit_id] = name
        open_count[unit_id] += 1
        if (today - raised_on).days > OLD_ITEM_DAYS:
            old_count[unit_id] += 1
    late = Counter()
    for project in behind(projects, period):
        units[project.unit_id] = str(project.unit)
        late[project.unit_id] += 1
    waiting = Counter()
    for unit_id, name in expected_not_entered(listings, period).values_list("firm__unit_id", "firm__unit__name"):
        units[unit_id] = name
        waiting[unit_id] += 1
    lines = []
    for unit_id in sorted(set(open_count) | set(late) | set(waiting), key=lambda pk: units.get(pk, "")):
        parts = []
        if open_count[unit_id]:
            parts.append(_("%(count)s coordination items open (%(old)s for more than %(days)s days)") % {
                "count": open_count[unit_id], "old": old_count[unit_id], "days": OLD_ITEM_DAYS})
        if late[unit_id]:
            parts.append(_("%(count)s projects behind their planned stage") % {"count": late[unit_id]})
        if waiting[unit_id]:
            parts.append(_("%(count)s firms expected to enter the above-scale list by the end of the quarter "
                           "have not") % {"count": waiting[unit_id]})
        lines.append((units.get(unit_id, ""), "；".join(parts)))
    return lines

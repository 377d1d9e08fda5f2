"""One navigation for every screen, by role: where a person lands after logging in and which links they are offered.

Clerks land on their entry screen for the month being reported (the chooser when they enter for several units),
reviewers on their review queue, leaders and administrators on the dashboard. A link is offered only when the role
can use what it opens: no entry link for a leader, no review queue for a clerk.
"""

from django.urls import reverse
from django.utils.translation import gettext as _

from tracker import links
from tracker.accounts import scoping
from tracker.accounts.models import Membership
from tracker.targets.models import Unit
from tracker.targets.policies import current_period


def can_enter(user):
    ids = scoping.edit_unit_ids(user)
    return ids is None or bool(ids)


def can_review(user):
    ids = scoping.review_unit_ids(user)
    return ids is None or bool(ids)


def can_chase(user):
    """Reviewers, leaders and administrators chase units for missing figures (催报); clerks are the ones chased."""
    return scoping.is_admin(user) or bool(scoping.roles(user) & {Membership.Role.REVIEWER, Membership.Role.LEADER})


def entry_url(user, period=None):
    """The person's own entry screen for the month (the chooser if they enter for several units or all)."""
    period = period or current_period()
    ids = scoping.edit_unit_ids(user)
    if ids is not None:
        units = list(Unit.objects.filter(pk__in=ids, led_targets__isnull=False).distinct().order_by("code")[:2])
        if len(units) == 1:
            return links.entry_screen_url(units[0], period)
    return reverse("admin:targets_progressentry_entry_chooser")


def start_url(user):
    """Where a person lands after logging in."""
    if scoping.is_admin(user) or not (can_enter(user) or can_review(user)):
        return links.dashboard_url(current_period())
    if can_review(user):
        return links.review_queue_url()
    return entry_url(user)


def nav_links(user, period=None):
    """[(key, label, url)] of the main screens this person can use, in one order everywhere."""
    if not scoping._usable(user):
        return []
    period = period or current_period()
    items = [("dashboard", _("Dashboard"), links.dashboard_url(period)),
             ("report", _("Monthly report"), links.report_url(period)),
             ("completeness", _("Completeness"), links.completeness_url(period))]
    if can_enter(user):
        items.append(("entry", _("Monthly entry"), entry_url(user, period)))
    if can_review(user):
        items.append(("review", _("Review queue"), links.review_queue_url()))
    if user.is_staff:
        items.append(("admin", _("Administration"), reverse("admin:index")))
    return items


def navigation(request):
    """Context processor: the role-aware links (lazily, so pages without a header cost no query)."""
    user = getattr(request, "user", None)

    class Lazy:
        def __iter__(self):
            if not hasattr(self, "_items"):
                self._items = nav_links(user)
            return iter(self._items)

    return {"nav_links": Lazy()}


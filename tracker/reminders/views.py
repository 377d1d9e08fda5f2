"""The completeness page's 催报 button: chase the chosen units for the month's missing figures now (POST only)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from tracker import links
from tracker.accounts import navigation, scoping
from tracker.reminders import tasks
from tracker.reminders.chase import chase
from tracker.targets.period import Period


@login_required
@require_POST
def chase_units(request, year, month):
    if not navigation.can_chase(request.user):
        raise PermissionDenied(_("Only reviewers, leaders and administrators chase units."))
    try:
        period = Period.parse(f"{year}-{month}")
    except ValueError as exc:
        raise Http404(str(exc)) from None
    back = links.completeness_url(period)
    codes = request.POST.getlist("unit")
    units = [u for u in scoping.visible_units(request.user).filter(code__in=codes).order_by("code")]
    if not units:
        messages.error(request, _("Choose the units to chase."))
        return redirect(back)
    result = chase(units, period, tasks.queue_delivery)
    if result.claimed:
        names = sorted({r.recipient for r in result.claimed})
        messages.success(request, ngettext(
            "Chased: one reminder sent now to %(names)s.", "Chased: %(count)s reminders sent now to %(names)s.",
            len(result.claimed)) % {"count": len(result.claimed), "names": ", ".join(names)})
    if result.already:
        messages.info(request, _("Already chased today for %(period)s, not sent again: %(names)s.") % {
            "period": period.label, "names": ", ".join(sorted({u.get_username() for u, _unit in result.already}))})
    if result.no_clerk:
        messages.warning(request, _("No clerk to chase in %(units)s: add one under Users.") % {
            "units": ", ".join(str(u) for u in result.no_clerk)})
    if result.nothing_missing:
        messages.info(request, _("Nothing missing for %(period)s in %(units)s.") % {
            "period": period.label, "units": ", ".join(str(u) for u in result.nothing_missing)})
    return redirect(back)



from django.conf import settings
from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from tracker.accounts.navigation import start_url
from tracker.entry.views import evidence

admin.site.site_header = _("Target tracker")
admin.site.site_title = _("Target tracker")
admin.site.index_title = _("Targets, figures and reports")


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico whatever the page says; the icon itself is a (hashed) static file."""

    def get_redirect_url(self, *args, **kwargs):
        return static("reports/favicon.ico")


def login(request, extra_context=None):
    """The admin's login; without a ?next= of its own (or with the site's root), each role lands on its start:
    clerks on their entry screen, reviewers on their queue, leaders on the dashboard."""
    response = admin.site.login(request, extra_context)
    if request.method == "POST" and response.status_code == 302 and request.user.is_authenticated:
        asked = request.GET.get("next") or request.POST.get("next")
        if "next" not in request.GET and asked == reverse("admin:index"):
            asked = None  # the admin's own default for a login page opened without ?next=
        if asked in (None, "", "/"):
            return redirect(start_url(request.user))
    return response


urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path(f"{settings.ADMIN_URL}login/", login),
    path("favicon.ico", FaviconView.as_view()),
    path(settings.ADMIN_URL, admin.site.urls),
    path("evidence/<path:name>", evidence, name="evidence"),
    path("imports/", include("tracker.imports.urls")),
    path("releases/", include("tracker.releases.urls")),
    path("registers/", include("tracker.registers.urls")),
    path("reminders/", include("tracker.reminders.urls")),
    path("api/", include("tracker.api.urls")),
    path("", include("tracker.reports.urls")),
    path("", include("tracker.ops.urls")),
]

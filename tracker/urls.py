from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from tracker.entry.views import evidence

admin.site.site_header = _("Target tracker")
admin.site.site_title = _("Target tracker")
admin.site.index_title = _("Targets, figures and reports")

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("evidence/<path:name>", evidence, name="evidence"),
    path("imports/", include("tracker.imports.urls")),
    path("releases/", include("tracker.releases.urls")),
    path("registers/", include("tracker.registers.urls")),
    path("api/", include("tracker.api.urls")),
    path("", include("tracker.reports.urls")),
    path("", include("tracker.ops.urls")),
]

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from tracker.targets.views import evidence

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("evidence/<path:name>", evidence, name="evidence"),
    path("imports/", include("tracker.imports.urls")),
    path("", include("tracker.reports.urls")),
    path("", include("tracker.ops.urls")),
]

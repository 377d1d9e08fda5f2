from django.urls import path, re_path

from tracker.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("organisations/", views.OrganisationsView.as_view(), name="organisations"),
    path("reports/", views.report_index, name="index"),
    re_path(r"^reports/(?P<year>\d{4})-(?P<month>\d{2})/$", views.ReportView.as_view(), name="report"),
    re_path(
        r"^reports/(?P<year>\d{4})-(?P<month>\d{2})/completeness/$",
        views.CompletenessView.as_view(), name="completeness",
    ),
    re_path(
        r"^reports/(?P<year>\d{4})-(?P<month>\d{2})/next-steps/$",
        views.BriefingNoteView.as_view(), name="briefing_note",
    ),
    path("targets/<str:code>/", views.TargetView.as_view(), name="target"),
]

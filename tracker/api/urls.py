from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from tracker.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("units", views.UnitViewSet, basename="api-unit")
router.register("plans", views.PlanViewSet, basename="api-plan")
router.register("sections", views.SectionViewSet, basename="api-section")
router.register("targets", views.TargetViewSet, basename="api-target")
router.register("entries", views.EntryViewSet, basename="api-entry")
router.register("indicators", views.IndicatorViewSet, basename="api-indicator")
router.register("regions", views.RegionViewSet, basename="api-region")
router.register("peer-groups", views.PeerGroupViewSet, basename="api-peer-group")
router.register("series", views.SeriesValueViewSet, basename="api-series")
router.register("firms", views.FirmViewSet, basename="api-firm")
router.register("projects", views.ProjectViewSet, basename="api-project")
router.register("coordination-items", views.CoordinationViewSet, basename="api-coordination")

urlpatterns = [
    path("reports/", views.ReportView.as_view(), name="api-report"),
    path("completeness/", views.CompletenessView.as_view(), name="api-completeness"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    *router.urls,
]

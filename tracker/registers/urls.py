from django.urls import path

from tracker.registers import views

app_name = "registers"
urlpatterns = [
    path("", views.RegistersHomeView.as_view(), name="home"),
    path("open-items/", views.OpenItemsView.as_view(), name="open_items"),
    path("behind/", views.BehindView.as_view(), name="behind"),
    path("expected/", views.ExpectedView.as_view(), name="expected"),
    path("schedule/<slug:unit_code>/<str:period>/", views.ScheduleView.as_view(), name="schedule"),
    path("schedule-firms/<slug:unit_code>/<str:period>/", views.FirmScheduleView.as_view(), name="firm_schedule"),
    path("figure/<int:target_id>/<str:period>/", views.FigureRowsView.as_view(), name="figure_rows"),
]

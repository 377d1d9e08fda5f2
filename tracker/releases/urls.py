from django.urls import path

from tracker.releases import views

app_name = "releases"

urlpatterns = [
    path("", views.grid_today, name="today"),
    path("<int:year>/<int:month>/", views.grid, name="grid"),
    path("import/", views.upload, name="upload"),
    path("import/<int:pk>/", views.batch_detail, name="batch"),
    path("import/<int:pk>/confirm/", views.batch_confirm, name="confirm"),
    path("import/<int:pk>/refresh/", views.batch_refresh, name="refresh"),
]

from django.urls import path

from tracker.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("template/", views.template_download, name="template"),
    path("<int:pk>/", views.batch_detail, name="batch"),
    path("<int:pk>/confirm/", views.batch_confirm, name="confirm"),
    path("<int:pk>/refresh/", views.batch_refresh, name="refresh"),
]

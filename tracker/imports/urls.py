from django.urls import path

from tracker.imports import register_views, views

app_name = "imports"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("template/", views.template_download, name="template"),
    path("<int:pk>/", views.batch_detail, name="batch"),
    path("<int:pk>/confirm/", views.batch_confirm, name="confirm"),
    path("<int:pk>/refresh/", views.batch_refresh, name="refresh"),
    path("registers/", register_views.register_upload, name="register_upload"),
    path("registers/template/", register_views.register_template, name="register_template"),
    path("registers/<int:pk>/", register_views.register_batch, name="register_batch"),
    path("registers/<int:pk>/confirm/", register_views.register_confirm, name="register_confirm"),
    path("registers/<int:pk>/refresh/", register_views.register_refresh, name="register_refresh"),
]

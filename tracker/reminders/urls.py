from django.urls import re_path

from tracker.reminders import views

app_name = "reminders"

urlpatterns = [
    re_path(r"^(?P<year>\d{4})-(?P<month>\d{2})/chase/$", views.chase_units, name="chase"),
]

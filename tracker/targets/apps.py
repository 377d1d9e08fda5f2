from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TargetsConfig(AppConfig):
    name = "tracker.targets"
    verbose_name = _("Targets")

    def ready(self):
        from tracker.targets import stamps

        stamps.connect()

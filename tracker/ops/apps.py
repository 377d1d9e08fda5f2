from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "tracker.ops"
    verbose_name = _("Operations")

    def ready(self):
        from tracker.ops import lookups  # noqa: F401  (registers the lookup)

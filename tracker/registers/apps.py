from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistersConfig(AppConfig):
    name = "tracker.registers"
    verbose_name = _("Registers (企业库、项目库)")

    def ready(self):
        from tracker.registers import figures
        from tracker.services import entries

        if figures.computed not in entries.COMPUTED_FIGURES:
            entries.COMPUTED_FIGURES.append(figures.computed)

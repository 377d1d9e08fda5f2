from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistersConfig(AppConfig):
    name = "tracker.registers"
    verbose_name = _("Registers (企业库、项目库)")

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "tracker.accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from django.contrib import admin

        from tracker.accounts import signals  # noqa: F401  (connects the receivers)
        from tracker.accounts.forms import ThrottledAuthenticationForm
        from tracker.accounts.roles import sync_role_groups

        # Runs after auth has created the permissions of every model.
        post_migrate.connect(sync_role_groups, dispatch_uid="tracker.accounts.sync_role_groups")
        admin.site.login_form = ThrottledAuthenticationForm

import axes.apps
from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.http import Http404
from django.utils.translation import gettext_lazy as _


def not_found(model_admin, request, opts, object_id):
    raise Http404(_("No such object, or not one of your units'."))


class AccountsConfig(AppConfig):
    name = "tracker.accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from django.contrib import admin

        from tracker.accounts import signals  # noqa: F401  (connects the receivers)
        from tracker.accounts.forms import LockoutAwareAuthenticationForm
        from tracker.accounts.roles import sync_role_groups

        # Runs after auth has created the permissions of every model.
        post_migrate.connect(sync_role_groups, dispatch_uid="tracker.accounts.sync_role_groups")
        admin.site.login_form = LockoutAwareAuthenticationForm
        # Django's admin answers an id it cannot find (or may not show) with a redirect to the
        # index ("perhaps it was deleted?"). Every admin here answers 404 instead, so a guessed
        # id of another unit's row behaves like a missing one, in every app's admin alike.
        admin.ModelAdmin._get_obj_does_not_exist_redirect = not_found


class LoginLockoutsConfig(axes.apps.AppConfig):
    """django-axes as installed here: the same app, with a name the admin index can translate."""

    default = False  # tracker.accounts itself is AccountsConfig
    verbose_name = _("Login lockouts")

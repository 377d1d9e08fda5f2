from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tracker.accounts import throttle
from tracker.accounts.models import Membership
from tracker.accounts.roles import sync_user_groups


@receiver(user_login_failed)
def count_failed_login(sender, credentials, request=None, **kwargs):
    username = credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username")
    if username:
        throttle.register_failure(username, throttle.client_ip(request))


@receiver(user_logged_in)
def forget_failed_logins(sender, request, user, **kwargs):
    throttle.clear(user.get_username(), throttle.client_ip(request))


@receiver(post_save, sender=Membership)
def membership_saved(sender, instance, **kwargs):
    sync_user_groups(instance.user)


@receiver(post_delete, sender=Membership)
def membership_deleted(sender, instance, origin=None, **kwargs):
    # When the user is being deleted there are no groups left to keep in step.
    if getattr(origin, "model", type(origin)) is get_user_model():
        return
    sync_user_groups(instance.user)

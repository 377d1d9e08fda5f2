from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tracker.accounts.models import Membership
from tracker.accounts.roles import sync_user_groups


@receiver(post_save, sender=Membership)
def membership_saved(sender, instance, **kwargs):
    sync_user_groups(instance.user)


@receiver(post_delete, sender=Membership)
def membership_deleted(sender, instance, origin=None, **kwargs):
    # When the user is being deleted there are no groups left to keep in step.
    if getattr(origin, "model", type(origin)) is get_user_model():
        return
    sync_user_groups(instance.user)

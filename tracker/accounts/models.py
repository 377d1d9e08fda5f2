"""People: their units and roles, and per-person settings."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.targets.models import Unit


class Membership(models.Model):
    """A person's role in a unit. Access to rows follows the unit (and its sub-units)."""

    class Role(models.TextChoices):
        CLERK = "clerk", _("Clerk (录入员)")
        REVIEWER = "reviewer", _("Reviewer (审核员)")
        LEADER = "leader", _("Leader (领导)")
        ADMIN = "admin", _("Administrator")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    unit = models.ForeignKey(Unit, models.CASCADE, related_name="memberships", verbose_name=_("unit"))
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.CLERK)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "unit", "role"], name="unique_membership")]

    def __str__(self):
        return f"{self.user} · {self.unit} · {self.get_role_display()}"


class Profile(models.Model):
    """Per-person settings that Django's User lacks."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="profile")
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self):
        return str(self.user)


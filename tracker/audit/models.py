"""A record of every change to audited rows: who, when, through which path, old -> new."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Change(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        DELETE = "delete", _("Deleted")
        TRANSITION = "transition", _("State change")

    model = models.CharField(_("model"), max_length=50)
    object_id = models.CharField(_("object id"), max_length=40)
    object_repr = models.CharField(_("object"), max_length=200)
    # The unit that owns the row, so a clerk's history view can be limited to their units.
    unit_id = models.BigIntegerField(_("unit"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("user")
    )
    # "source" here is the write path (途径); a plan's "source" is the document it comes from (来源).
    source = models.CharField(
        pgettext_lazy("write path", "source"), max_length=30, help_text=_("admin, entry screen, import, command…")
    )
    # The API token a write came through (source "api"): its id and, as it was then, its name and key prefix.
    # Plain values, not a foreign key: the history sits below the API in the layers and outlives revoked tokens.
    token_id = models.BigIntegerField(_("API token id"), null=True, blank=True, db_index=True)
    token = models.CharField(_("API token"), max_length=130, blank=True)
    changes = models.JSONField(_("changes"), default=dict, help_text=_("field: [old, new]"))
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("change")
        verbose_name_plural = _("history")
        indexes = [models.Index(fields=["model", "object_id"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.object_repr} {self.get_action_display()}"

"""What the reports keep of their own: the next-steps text of a month's bulletin."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.targets.models import Plan


class BriefingNote(models.Model):
    """五、下步工作: written by a reviewer or a leader for a plan's month, before the bulletin is exported."""

    plan = models.ForeignKey(Plan, models.CASCADE, related_name="briefing_notes", verbose_name=_("plan"))
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    next_steps = models.TextField(_("next steps (下步工作)"), blank=True, max_length=5000)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("updated by"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("bulletin text")
        verbose_name_plural = _("bulletin texts")
        constraints = [models.UniqueConstraint(fields=["plan", "year", "month"], name="one_briefing_note_a_month")]

    def __str__(self):
        return f"{self.plan} {self.year}-{self.month:02d}"

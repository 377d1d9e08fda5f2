"""An uploaded release table between its preview and its confirmation (as ImportBatch is for figures)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.targets.period import Period


class ReleaseBatch(models.Model):
    """The cells read from one release table, kept so that "confirm" writes exactly what was previewed.

    Each row is one cell of the table (a region's value of an indicator, with its published ranks) and the
    version of the stored value it was compared with; confirming refuses a value changed since.
    """

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed")
        APPLIED = "applied", _("Applied")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="release_batches", verbose_name=_("uploaded by")
    )
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, db_index=True)
    size = models.PositiveIntegerField(_("size in bytes"))
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PREVIEWED)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    rows = models.JSONField(_("rows"), default=list)
    problems = models.JSONField(_("problems"), default=list)
    file_problems = models.JSONField(_("problems in the file"), default=list, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("release import")
        verbose_name_plural = _("release imports")

    def __str__(self):
        return f"{self.file_name} ({self.uploaded_at:%Y-%m-%d %H:%M})"

    @property
    def period(self):
        return Period(self.year, self.month)

    @property
    def can_confirm(self):
        return self.status == self.Status.PREVIEWED and not self.problems and bool(self.rows)

    @property
    def can_refresh(self):
        return self.status == self.Status.PREVIEWED and not self.file_problems and bool(self.rows)

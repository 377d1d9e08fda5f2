"""An uploaded file between its preview and its confirmation."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    PREVIEWED = "previewed", _("Previewed")
    APPLIED = "applied", _("Applied")


class Upload(models.Model):
    """What every kept upload records: its file's name, when, whether applied, its rows, problems and counts."""

    Status = Status

    file_name = models.CharField(_("file name"), max_length=255)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PREVIEWED)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    rows = models.JSONField(_("rows"), default=list)
    problems = models.JSONField(_("problems"), default=list)
    created = models.PositiveIntegerField(_("created"), default=0)
    changed = models.PositiveIntegerField(_("changed"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)

    class Meta:
        abstract = True
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self):
        return f"{self.file_name} ({self.uploaded_at:%Y-%m-%d %H:%M})"


class ImportBatch(Upload):
    """The rows read from one upload, kept so that "confirm" applies exactly what was previewed.

    Only parsed values are kept (never the file); confirming runs them through
    the entry service again, so rights, locks and values are checked anew, and
    each row's stored `version` makes a figure changed since the preview a
    conflict. "Refresh" checks the kept rows again against what is stored now.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="import_batches", verbose_name=_("uploaded by")
    )
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, db_index=True)
    size = models.PositiveIntegerField(_("size in bytes"))
    # The part of `problems` found in the file itself: no re-check of the kept rows can clear them.
    file_problems = models.JSONField(_("problems in the file"), default=list, blank=True)
    skipped = models.PositiveIntegerField(_("rows left empty"), default=0)

    class Meta(Upload.Meta):
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    @property
    def can_confirm(self):
        return self.status == self.Status.PREVIEWED and not self.problems and bool(self.rows)

    @property
    def can_refresh(self):
        return self.status == self.Status.PREVIEWED and not self.file_problems and bool(self.rows)


class RegisterImport(Upload):
    """An upload of firms or projects (tracker.imports.registers) between its preview and its confirmation.

    Keeps the rows as read (cell texts) and each matched row's version, never the file; confirming checks the
    rows again and refuses those changed since the preview.
    """

    class Kind(models.TextChoices):
        FIRMS = "firms", _("Firms")
        PROJECTS = "projects", _("Projects")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="register_imports", verbose_name=_("uploaded by")
    )
    kind = models.CharField(_("register"), max_length=10, choices=Kind.choices)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)

    class Meta(Upload.Meta):
        verbose_name = _("register import")
        verbose_name_plural = _("register imports")

    @property
    def can_confirm(self):
        return self.status == Status.PREVIEWED and not self.problems and bool(self.rows)

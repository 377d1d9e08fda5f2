"""The log of every reminder email (the reporting policy it follows is tracker.targets.models.ReportingPolicy).

A `Reminder` row is the claim: it is inserted, under a unique key, before the
email is sent, so a sweep that runs twice, two workers at once or a retried
task never send the same email twice. (One window remains, when a worker dies
after the server took the email: see `delivery`.)
"""

from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracker.reminders import secrets


def message_id_domain():
    """The right-hand side of reminder Message-IDs: REMINDER_MESSAGE_ID_DOMAIN, else the sender's domain."""
    domain = getattr(settings, "REMINDER_MESSAGE_ID_DOMAIN", "")
    if not domain:
        domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    return domain or "localhost"


def new_message_id():
    """A fresh Message-ID for a reminder, kept on the row so every attempt sends the same one."""
    return make_msgid(idstring="reminder", domain=message_id_domain())


class Reminder(models.Model):
    """One email: claimed, then sent (or failed, or skipped), with what it said.

    While a worker sends it, the row is `sending` and holds a lease until
    `lease_until`; a row whose lease ran out (the worker died) is taken back by
    the sweep or by Celery's redelivered task, and sent again with the same
    `message_id`.
    """

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", _("Due soon")
        DUE_TODAY = "due_today", _("Due today")
        OVERDUE = "overdue", _("Overdue")
        ESCALATION = "escalation", _("Escalation")
        REVIEW = "review", _("Waiting for review")
        DIGEST = "digest", _("Monthly digest")
        # Sent at once from the completeness page's 催报 button, to the clerks of the units chased.
        CHASE = "chase", _("Chased from the completeness page")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        RETRY = "retry", _("Waiting to retry")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="reminders", verbose_name=_("user")
    )
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    period = models.CharField(_("period"), max_length=7, help_text=_("YYYY-MM"))
    day = models.DateField(_("day"), help_text=_("The reporting day this email belongs to."))
    as_of = models.DateField(_("as of"), null=True, help_text=_("The date the sweep ran as."))
    targets = models.JSONField(_("targets"), default=list, blank=True)
    # [{"target": id, "period": "YYYY-MM"}]: what is still missing, re-checked just before sending.
    items = models.JSONField(_("items"), default=list, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body_text = models.TextField(_("text"), blank=True)
    body_html = models.TextField(_("HTML"), blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    lease_until = models.DateTimeField(
        _("lease until"), null=True, blank=True,
        help_text=_("While sending: after this time the send is taken to have been interrupted and is tried again."),
    )
    message_id = models.CharField(
        _("Message-ID"), max_length=255, blank=True, default=new_message_id,
        help_text=_("The same on every attempt, so a resend after an interruption is recognisable."),
    )
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("reminder email")
        verbose_name_plural = _("reminder emails")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "period", "day"], name="one_reminder_per_key"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} {self.period} → {self.recipient}"


class Webhook(models.Model):
    """A group robot (企业微信群机器人 or 钉钉自定义机器人) that gets a unit's or a person's reminders too.

    The DingTalk signing secret is kept encrypted (tracker.reminders.secrets) and never shown again once saved.
    """

    class Kind(models.TextChoices):
        WECOM = "wecom", _("WeCom group robot")
        DINGTALK = "dingtalk", _("DingTalk group robot")

    unit = models.ForeignKey("targets.Unit", models.CASCADE, null=True, blank=True, related_name="webhooks",
                             verbose_name=_("unit"), help_text=_("Everyone of this unit gets their reminders here."))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True,
                             related_name="webhooks", verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=100, blank=True,
                            help_text=_("Which group chat this is, e.g. 运行监测科工作群."))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    url = models.URLField(_("webhook address"), max_length=500)
    # Encrypted (Fernet, with a key derived from SECRET_KEY): see tracker.reminders.secrets.
    secret = models.CharField(_("signing secret"), max_length=500, blank=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    # The robot said "too fast" (WeCom 45009, DingTalk 130101): nothing is sent to it before this time.
    throttled_until = models.DateTimeField(_("paused until"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("reminder webhook")
        verbose_name_plural = _("reminder webhooks")
        constraints = [models.CheckConstraint(
            condition=models.Q(unit__isnull=True, user__isnull=False) | models.Q(unit__isnull=False, user__isnull=True),
            name="webhook_for_a_unit_or_a_person")]

    def __str__(self):
        label = f"{self.get_kind_display()} {self.name}".strip()
        return f"{label} → {self.unit or self.user}"

    def save(self, *args, **kwargs):
        # Whatever path set it (the admin, a shell, a fixture), the secret is stored encrypted, never in clear.
        if self.secret and not self.secret.startswith(secrets.PREFIX):
            self.secret = secrets.encrypt(self.secret)
        super().save(*args, **kwargs)

    def plain_secret(self):
        """The signing secret in clear, for signing a message; raises secrets.Unreadable if it cannot be read."""
        return secrets.decrypt(self.secret) if self.secret else ""


class WebhookDelivery(models.Model):
    """One reminder to one robot, claimed in the database like the email (unique per reminder and robot)."""

    reminder = models.ForeignKey(Reminder, models.CASCADE, related_name="webhook_deliveries",
                                 verbose_name=_("reminder email"))
    webhook = models.ForeignKey(Webhook, models.CASCADE, related_name="deliveries", verbose_name=_("webhook"))
    title = models.CharField(_("subject"), max_length=300, blank=True)
    markdown = models.TextField(_("Markdown"), blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Reminder.Status.choices,
                              default=Reminder.Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    # When the robot was last called for this row: the per-robot rate limit counts these.
    attempted_at = models.DateTimeField(_("attempted at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook message")
        verbose_name_plural = _("webhook messages")
        constraints = [models.UniqueConstraint(fields=["reminder", "webhook"], name="one_message_per_robot")]
        indexes = [models.Index(fields=["webhook", "attempted_at"]), models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.webhook} ← {self.reminder}"

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tracker.accounts import throttle


class ThrottledAuthenticationForm(AdminAuthenticationForm):
    """The admin login form, refusing attempts while a username+address is locked.

    The lock is checked before the password, so a locked account reveals
    nothing about whether a guess was right.
    """

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "locked": _("Too many failed logins. Try again in %(minutes)s."),
    }

    def _check_lock(self):
        username = self.cleaned_data.get("username")
        if not username:
            return
        seconds = throttle.seconds_locked(username, throttle.client_ip(self.request))
        if seconds:
            minutes = -(-seconds // 60)
            raise ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"minutes": ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}},
            )

    def clean(self):
        self._check_lock()
        try:
            return super().clean()
        except ValidationError:
            # The failure was just counted (signal); if it reached the limit, say so now.
            self._check_lock()
            raise

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from tracker.accounts import lockout


class LockoutAwareAuthenticationForm(AdminAuthenticationForm):
    """The admin login form, saying so when a username+address is locked.

    django-axes' backend comes first in AUTHENTICATION_BACKENDS and refuses a
    locked username+address before any password is checked, so a locked account
    reveals nothing about whether a guess was right. Django then reports "wrong
    username or password"; this form replaces that with the lock message, both
    for a refused attempt and for the failure that has just reached the limit.
    """

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            if self.request is not None and getattr(self.request, "axes_locked_out", False):
                raise ValidationError(
                    lockout.locked_message(self.request, getattr(self.request, "axes_credentials", None)), code="locked"
                ) from None
            raise

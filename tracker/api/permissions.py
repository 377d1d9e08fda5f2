from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from tracker.accounts import scoping
from tracker.api.models import ApiToken


class TokenMayWrite(permissions.BasePermission):
    """Read-only tokens read; they never write."""

    message = _("This API token is read-only.")

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return not (isinstance(request.auth, ApiToken) and request.auth.read_only)


class ReadsSeries(permissions.BasePermission):
    """Indicators, regions, peer groups and series values: every staff member, as on the indicator grid."""

    message = _("Only staff read the indicator series.")

    def has_permission(self, request, view):
        return scoping.can_read_series(request.user)

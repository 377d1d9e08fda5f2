"""One request budget per API token (API_RATE_LIMIT, e.g. "600/minute"); sessions are counted per person."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from tracker.api.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api_token"

    def get_rate(self):
        # Read when used (not at import), so the setting can change in tests and per deployment.
        return settings.API_RATE_LIMIT or None

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"anon-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

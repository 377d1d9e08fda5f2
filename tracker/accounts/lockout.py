"""How django-axes locks logins here (the AXES_* settings point at these functions).

After LOGIN_FAILURE_LIMIT failed logins for one username from one client
address, that combination is refused for LOGIN_LOCKOUT_SECONDS; axes'
backend checks the lock before any password, and a successful login forgets
the failures of its username and address.

The client address is REMOTE_ADDR, unless TRUSTED_PROXY_IP_HEADER names the
header a reverse proxy sets (e.g. HTTP_X_FORWARDED_FOR). Only set it when a
proxy is really in front: otherwise a client could pick its own address.
"""

import ipaddress
import math

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext, ngettext


def _meta_key(header):
    header = header.strip()
    if header.startswith("HTTP_") or header == "REMOTE_ADDR":
        return header
    return "HTTP_" + header.upper().replace("-", "_")


def _valid_ip(text):
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_ip(request):
    """AXES_CLIENT_IP_CALLABLE: the address a lock is keyed by (None when there is no valid one)."""
    header = settings.TRUSTED_PROXY_IP_HEADER
    if header:
        raw = request.META.get(_meta_key(header), "")
        # A proxy appends the address it saw to X-Forwarded-For; entries to its
        # left come from the client and can be forged, so take the last one.
        candidate = _valid_ip(raw.split(",")[-1]) if raw else None
        if candidate:
            return candidate
    return _valid_ip(request.META.get("REMOTE_ADDR", ""))


def username_key(request, credentials):
    """AXES_USERNAME_CALLABLE: "Clerk1 " and "clerk1" count as one username, so case does not dodge a lock."""
    if credentials:
        username = credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username")
    else:
        username = request.POST.get(get_user_model().USERNAME_FIELD)
    return (username or "").strip().casefold()[:150] or None


def seconds_locked(request, credentials):
    """Seconds until this username may try again from this address (axes counts from the last failure)."""
    AxesProxyHandler.update_request(request)  # sets request.axes_ip_address (once per request)
    last = AccessAttempt.objects.filter(
        username=get_client_username(request, credentials), ip_address=request.axes_ip_address
    ).aggregate(last=Max("attempt_time"))["last"]
    if last is None:
        return 0
    return max(0, math.ceil((last + get_cool_off(request) - timezone.now()).total_seconds()))


def locked_message(request, credentials):
    minutes = max(1, math.ceil(seconds_locked(request, credentials) / 60))
    return gettext("Too many failed logins. Try again in %(minutes)s.") % {
        "minutes": ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    }


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the answer to a login that axes refused or just locked.

    The admin login page already shows the lock message (LockoutAwareAuthenticationForm),
    so it is kept, answered with AXES_HTTP_RESPONSE_CODE (429). Any other page gets the
    message alone (so does every page under ASGI, where axes passes no original response;
    the web process here is WSGI).
    """
    if isinstance(original_response, HttpResponse) and original_response.status_code == 200:
        original_response.status_code = settings.AXES_HTTP_RESPONSE_CODE
        return original_response
    return HttpResponse(locked_message(request, credentials), status=settings.AXES_HTTP_RESPONSE_CODE,
                        content_type="text/plain; charset=utf-8")

"""Login throttling: after LOGIN_FAILURE_LIMIT failed logins for one username
from one address, further attempts are refused for LOGIN_LOCKOUT_SECONDS.

The client address is REMOTE_ADDR, unless TRUSTED_PROXY_IP_HEADER names the
header a reverse proxy sets (e.g. HTTP_X_FORWARDED_FOR). Only set it when a
proxy is really in front: otherwise a client could pick its own address.
"""

import datetime
import ipaddress
import logging
import math

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tracker.accounts.models import LoginFailure

logger = logging.getLogger("tracker.accounts")


def _meta_key(header):
    header = header.strip()
    if header.startswith("HTTP_") or header == "REMOTE_ADDR":
        return header
    return "HTTP_" + header.upper().replace("-", "_")


def _valid_ip(text):
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return ""


def client_ip(request):
    if request is None:
        return ""
    header = settings.TRUSTED_PROXY_IP_HEADER
    if header:
        raw = request.META.get(_meta_key(header), "")
        # A proxy appends the address it saw to X-Forwarded-For; entries to its
        # left come from the client and can be forged, so take the last one.
        candidate = _valid_ip(raw.split(",")[-1]) if raw else ""
        if candidate:
            return candidate
    return _valid_ip(request.META.get("REMOTE_ADDR", ""))


def _key(username):
    return (username or "").strip().casefold()[:150]


def _window():
    return datetime.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)


def seconds_locked(username, ip, now=None):
    """Seconds until this username may try again from this address; 0 when not locked."""
    now = now or timezone.now()
    row = LoginFailure.objects.filter(username=_key(username), ip=ip, locked_until__gt=now).first()
    return math.ceil((row.locked_until - now).total_seconds()) if row else 0


def register_failure(username, ip, now=None):
    """Count one failed login; lock when the limit is reached. Returns the row."""
    now = now or timezone.now()
    with transaction.atomic():
        row, _ = LoginFailure.objects.select_for_update().get_or_create(username=_key(username), ip=ip)
        if row.locked_until and row.locked_until > now:
            return row  # already locked: attempts are refused before checking the password
        if row.locked_until or (row.last_failed_at and now - row.last_failed_at > _window()):
            # The previous lock ran out, or the earlier failures are old: start counting afresh.
            row.failures, row.locked_until = 0, None
        row.failures += 1
        row.last_failed_at = now
        if row.failures >= settings.LOGIN_FAILURE_LIMIT:
            row.locked_until = now + _window()
            logger.warning("Login locked for %r from %s after %s failures", row.username, ip or "?", row.failures)
        row.save()
    return row


def clear(username, ip):
    LoginFailure.objects.filter(username=_key(username), ip=ip).delete()

"""Judged summaries kept between requests, for readers of many targets (a province: 4,800).

A summary is cached under everything it depends on: the page, the user (who sees what), the period, the
language, today's date (deadlines make figures late, so a colour may change overnight with no write) and the
data stamp (tracker.targets.stamps), which moves with every write to the tables a status is judged from. A
change to an entry, a review step, a series value, a target, a threshold, a reporting policy, a plan's status
or a membership therefore never shows the old colour. Without a stamp (this transaction wrote such a table)
the summary is computed afresh and not kept.

Django's cache framework holds them (CACHES; the default is each process's own memory).
"""

import hashlib
import logging

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import get_language

from tracker.targets import stamps

logger = logging.getLogger(__name__)

# A summary is computed again after this long even when nothing changed (a safety net, not the freshness rule).
TIMEOUT_SECONDS = 15 * 60


def key(page, user, period, stamp, extra=""):
    parts = (page, str(user.pk), period.key, get_language() or "", timezone.localdate().isoformat(),
             f"{stamp[0]}.{stamp[1]}", extra)
    return "tracker:summary:" + hashlib.sha256("|".join(parts).encode()).hexdigest()


def cached(page, user, period, compute, extra=""):
    """compute() (picklable), from the cache when nothing it depends on has changed since it was kept.

    A cache that cannot be reached (CACHE_URL's Redis down) costs time, not the page: it is read as empty.
    """
    stamp = stamps.current()
    if stamp is None:
        return compute()
    name = key(page, user, period, stamp, extra)
    try:
        found = cache.get(name)
    except Exception:  # the backend's own errors (redis-py's, …) share no base class
        logger.warning("summary cache unavailable", exc_info=True)
        return compute()
    if found is None:
        found = compute()
        try:
            cache.set(name, found, TIMEOUT_SECONDS)
        except Exception:
            logger.warning("summary cache unavailable", exc_info=True)
    return found


def light(summary, flagged_keys=("code", "name", "status", "severity")):
    """A summary (report.summarise) as plain data: labels as text, the flagged rows reduced to `flagged_keys`."""
    return {
        **summary,
        "status_cells": [(key, str(label), count) for key, label, count in summary["status_cells"]],
        "flagged": [{k: r[k] for k in flagged_keys} for r in summary["flagged"]],
    }

"""Housekeeping tasks, run by beat (settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from tracker.targets import stamps


@shared_task(ignore_result=True)
def fold_data_stamps():
    """Keep the data-stamp table at a few rows (tracker.targets.stamps.fold)."""
    return stamps.fold()

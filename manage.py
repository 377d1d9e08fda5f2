#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""
import os
import sys


def main():
    """Run administrative tasks."""
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'tracker.settings')
    # A bare `manage.py` on a laptop (neither SECRET_KEY nor DEBUG set) runs with a throwaway key, so
    # makemigrations, loaddata and the like just work. The web and Celery processes never do this,
    # and an explicit DEBUG=0 without SECRET_KEY still stops with a clear error.
    if 'SECRET_KEY' not in os.environ and 'DEBUG' not in os.environ:
        os.environ.setdefault('TRACKER_INSECURE_DEV_KEY', '1')
    try:
        from django.core.management import execute_from_command_line
    except ImportError as exc:
        raise ImportError(
            "Couldn't import Django. Are you sure it's installed and "
            "available on your PYTHONPATH environment variable? Did you "
            "forget to activate a virtual environment?"
        ) from exc
    execute_from_command_line(sys.argv)


if __name__ == '__main__':
    main()

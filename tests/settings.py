"""Test settings: the real settings with a throwaway key and plain static files.

The production configuration itself is checked in tests/test_settings.py.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("TRACKER_PLAIN_STATIC", "1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

from tracker.settings import *  # noqa: E402,F403

MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
# Serve static files from the apps (no collectstatic in tests), as in DEBUG.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

"""Robot signing secrets at rest: encrypted with Fernet (the `cryptography` package), never stored in clear.

The key is derived from SECRET_KEY; secrets written under a key listed in SECRET_KEY_FALLBACKS still decrypt, so
a key rotation keeps the robots working (save each robot's secret again, or re-encrypt, before dropping the
fallback). A secret that no key decrypts raises `Unreadable`: its message then fails with a clear reason and the
person enters the secret again.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.crypto import salted_hmac

PREFIX = "fernet:"
SALT = "tracker.reminders.secrets"


class Unreadable(Exception):
    pass


def _fernet(secret_key):
    digest = salted_hmac(SALT, "webhook signing secrets", secret=secret_key, algorithm="sha256").digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _keys():
    return MultiFernet([_fernet(key) for key in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]])


def encrypt(plain):
    return PREFIX + _keys().encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(stored):
    if not stored.startswith(PREFIX):
        raise Unreadable("the stored secret is not encrypted")
    try:
        return _keys().decrypt(stored[len(PREFIX):].encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError) as exc:
        raise Unreadable("the stored secret cannot be decrypted with SECRET_KEY or its fallbacks") from exc

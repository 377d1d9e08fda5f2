"""Settings for target tracker.

Everything that differs between a laptop and production comes from the
environment; the defaults give a working embedded set-up (SQLite, no broker).
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    """A yes/no setting. Only the usual words count, so a typo stops the start instead of reading as "no"."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(
        f"{name} must be 1/0, true/false, yes/no or on/off (any case), or empty for the default; not {value!r}."
    )


def env_int(name, default, minimum=None):
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value!r}.")
    return number


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def weak_secret_key(key):
    """Django's own test for a weak key (check --deploy, security.W009)."""
    return len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure-")


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and not env_bool("TRACKER_INSECURE_DEV_KEY", False):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Only for DEBUG / local runs; never used in production.
    SECRET_KEY = "insecure-dev-key-only-for-local-use-" + "x" * 30
elif not DEBUG and weak_secret_key(SECRET_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY is too weak for DEBUG off: it needs at least 50 characters, at least 5 different ones, "
        "and must not start with 'django-insecure-'. "
        'Make one with: python -c "import secrets; print(secrets.token_urlsafe(64))"'
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Base URL used in emails (links to the entry screen and the report).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# The admin lives at a configurable path so it is not at the well-known /admin/.
ADMIN_URL = os.environ.get("ADMIN_URL", "admin/").strip("/") + "/"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tables2",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # the Swagger UI and ReDoc files, vendored (pinned in requirements.txt)
    # django-axes (login lockouts), under a translated name; see tracker.accounts.lockout.
    "tracker.accounts.apps.LoginLockoutsConfig",
    # The domain core, then the apps by role (see the code map in README.md).
    "tracker.targets",
    "tracker.audit",
    "tracker.accounts",
    "tracker.registers",
    "tracker.entry",
    "tracker.setup",
    "tracker.reports",
    "tracker.reminders",
    "tracker.imports",
    "tracker.releases",
    "tracker.ops",
    "tracker.api",
]

MIDDLEWARE = [
    # First: a NUL or other control character in the URL (see the class) is a 400 before anything reads it.
    "tracker.middleware.MalformedRequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tracker.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes asks: turns a refused or just-locked login into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

# axes' backend comes first: it refuses a locked username+address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "tracker.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "tracker" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tracker.accounts.navigation.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "tracker.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a writer instead of failing at once when two requests overlap.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

# Kept dashboard summaries (tracker.reports.summaries). Default: each process's own memory; CACHE_URL
# (redis://…) shares them between the web processes. A cache that fails is read as empty (pages compute afresh).
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "tracker" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and not env_bool("TRACKER_PLAIN_STATIC", False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Evidence files are served by tracker.entry.views.evidence, which checks unit access.
MEDIA_URL = "/evidence/"
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 20 * 1024 * 1024)
EVIDENCE_EXTENSIONS = env_list("EVIDENCE_EXTENSIONS", "pdf,jpg,jpeg,png,doc,docx,xls,xlsx,wps,et,ofd,zip")
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

LOGIN_URL = "admin:login"
# After logging in without a usable ?next= (none, or one pointing off the site): the dashboard.
LOGIN_REDIRECT_URL = "reports:dashboard"  # the login view sends each role to its own start

# Email: configured from the standard variables (EMAIL_BACKEND, EMAIL_HOST, ...)
# into Django 6.1's MAILERS. With DEBUG on the default console backend prints
# mails, so reminders are visible on a laptop with no SMTP server; production
# defaults to SMTP (check --deploy rejects the console backend).
EMAIL_BACKEND_PATH = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
_mail_options = {}
if EMAIL_BACKEND_PATH.endswith("smtp.EmailBackend"):
    _mail_options = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 25),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "use_ssl": env_bool("EMAIL_USE_SSL", False),
        "timeout": env_int("EMAIL_TIMEOUT", 30),
    }
elif EMAIL_BACKEND_PATH.endswith("filebased.EmailBackend"):
    _mail_options = {"file_path": os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "sent_emails"))}
MAILERS = {"default": {"BACKEND": EMAIL_BACKEND_PATH, "OPTIONS": _mail_options}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "tracker@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery. With no broker configured the app runs "embedded": tasks run
# eagerly in the calling process, so nothing needs a server.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# How often beat runs the reminder sweep; the sweep itself decides what is due.
REMINDER_SWEEP_SECONDS = env_int("REMINDER_SWEEP_SECONDS", 300)
# One static schedule (django-celery-beat does not support Django 6.1); run exactly one `celery beat`.
# Each sweep expires after one period so sweeps queued while no worker runs do not pile up.
CELERY_BEAT_SCHEDULE = {
    "reminder-sweep": {
        "task": "tracker.reminders.tasks.sweep_reminders",
        "schedule": REMINDER_SWEEP_SECONDS,
        "options": {"expires": REMINDER_SWEEP_SECONDS},
    },
    # The data stamps behind the kept dashboard summaries (tracker.targets.stamps) folded into one row.
    "fold-data-stamps": {
        "task": "tracker.ops.tasks.fold_data_stamps",
        "schedule": 3600,
        "options": {"expires": 3600},
    },
}
# Scheduled sweeps send nothing before this local hour (the command runs whenever it is called).
REMINDER_SEND_HOUR = env_int("REMINDER_SEND_HOUR", 8)
# A worker sending a reminder holds it this long; if it has not recorded the outcome by then (it died), the sweep
# or Celery's redelivered task sends it again. It must exceed the longest SMTP conversation: each step may take up
# to EMAIL_TIMEOUT, so the default is ten times that (300 s with the 30 s default).
REMINDER_SEND_LEASE_SECONDS = env_int("REMINDER_SEND_LEASE_SECONDS", 10 * env_int("EMAIL_TIMEOUT", 30))
# The domain in reminder Message-IDs (stable across hosts); empty: the domain of DEFAULT_FROM_EMAIL.
REMINDER_MESSAGE_ID_DOMAIN = os.environ.get("REMINDER_MESSAGE_ID_DOMAIN", "")
# Redis broker: a message a worker took but never acknowledged (it died) is given to another worker after this
# many seconds. It must exceed the longest retry countdown (1 h) plus the send lease, or a retry waiting on a
# worker is handed out twice (harmless, the database decides, but wasted). Recovery after a crash does not wait
# for it: the sweep takes an interrupted send back once its lease has run out.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 7200),
}

# Four eyes: a reviewer may not approve a figure they submitted themselves unless this is on.
REVIEW_SELF_APPROVAL = env_bool("REVIEW_SELF_APPROVAL", False)

# Upload limits (imports and evidence files).
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 5 * 1024 * 1024)
# What one imported file may hold, so that no upload can tie up a worker (see README, Importing).
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 20_000)
IMPORT_MAX_COLUMNS = env_int("IMPORT_MAX_COLUMNS", 50)
IMPORT_XLSX_MAX_UNPACKED_BYTES = env_int("IMPORT_XLSX_MAX_UNPACKED_BYTES", 50 * 1024 * 1024)
# Reading a file stops after this long; keep it well under GUNICORN_TIMEOUT (30 s), which also covers the checks.
IMPORT_TIME_BUDGET_SECONDS = env_int("IMPORT_TIME_BUDGET_SECONDS", 15)
# Longest progress note or problems text an entry may hold, on every write path.
ENTRY_TEXT_MAX_CHARS = env_int("ENTRY_TEXT_MAX_CHARS", 2000)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000

# Login lockouts (django-axes, see tracker.accounts.lockout): after LOGIN_FAILURE_LIMIT failures for one
# username from one client address, that combination is refused for LOGIN_LOCKOUT_SECONDS.
# Behind a reverse proxy the client address comes from TRUSTED_PROXY_IP_HEADER when set
# (e.g. HTTP_X_FORWARDED_FOR, its last address); otherwise REMOTE_ADDR is trusted.
TRUSTED_PROXY_IP_HEADER = os.environ.get("TRUSTED_PROXY_IP_HEADER", "")
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = datetime.timedelta(seconds=env_int("LOGIN_LOCKOUT_SECONDS", 900, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "tracker.accounts.lockout.client_ip"
AXES_USERNAME_CALLABLE = "tracker.accounts.lockout.username_key"
AXES_LOCKOUT_CALLABLE = "tracker.accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
# Attempts refused while locked are not counted, so they do not stretch the lock.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Only the failures are kept (in the database, so a lock holds across processes), not every login.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_DISABLE_ACCESS_LOG = True
# tracker.accounts.admin shows the failures (and only them) to administrators.
AXES_ENABLE_ADMIN = False

if env_bool("USE_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Production hardening: on whenever DEBUG is off.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# The proxy's or orchestrator's health check may probe over plain HTTP on the loopback.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Reminders on WeCom/DingTalk group robots (tracker.reminders.webhooks): calls per robot per minute, and timeout.
REMINDER_WEBHOOK_PER_MINUTE = env_int("REMINDER_WEBHOOK_PER_MINUTE", 20, minimum=1)
REMINDER_WEBHOOK_TIMEOUT = env_int("REMINDER_WEBHOOK_TIMEOUT", 10, minimum=1)

# The REST API (tracker.api, see README "API"): per-person tokens, throttled per token.
API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600/minute")  # empty: no limit
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 100, minimum=1)
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 1000, minimum=1)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tracker.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "tracker.api.permissions.TokenMayWrite",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["tracker.api.throttling.TokenRateThrottle"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "tracker.api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "tracker.api.errors.handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Target tracker API",
    "DESCRIPTION": "Plans, targets, monthly figures, report rows and completeness. Send `Authorization: Token <key>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"tracker": {"level": os.environ.get("LOG_LEVEL", "INFO")}},
}

"""SIM Console settings: one file, read from environment variables."""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from console.env import env_bool, env_database, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)

# pytest sets PYTEST_VERSION: tests run with the production default DEBUG=0 and need no key.
RUNNING_TESTS = "PYTEST_VERSION" in os.environ

SECRET_KEY = env_str("SECRET_KEY")
if SECRET_KEY is None:
    if not (DEBUG or RUNNING_TESTS):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: set it to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DEBUG=1 for local development."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_countries",
    "django_tasks_db",
    "console",
    "products",
    "sims",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "console.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "console.middleware.HtmxSignInRedirectMiddleware",
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", default_sqlite_path=str(BASE_DIR / "db.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Network-side effects go through this adapter; the simulator is built in.
CARRIER_ADAPTER = env_str("CARRIER_ADAPTER", default="sims.carriers.simulator.SimulatorCarrier")
# ICCIDs ending in one of these are refused by the simulator (demos and tests of carrier refusals).
CARRIER_SIMULATOR_REFUSE_SUFFIXES = env_list("CARRIER_SIMULATOR_REFUSE_SUFFIXES", default=[])
# Network latency the simulator adds to each call, as a real carrier's API has.
CARRIER_SIMULATOR_DELAY_MS = env_int("CARRIER_SIMULATOR_DELAY_MS", default=0)

# The carrier pushes usage to /carrier/usage/ with "Authorization: Bearer <this>"; empty: no push endpoint.
CARRIER_PUSH_TOKEN = env_secret("CARRIER_PUSH_TOKEN", min_length=32)
# The largest push body accepted (about 4,000 records a MB).
CARRIER_PUSH_MAX_MB = env_int("CARRIER_PUSH_MAX_MB", default=8, minimum=1)
# The task worker fetches usage from the carrier and runs the periodic rules this often.
USAGE_FETCH_MINUTES = env_int("USAGE_FETCH_MINUTES", default=15, minimum=1)

MEDIA_ROOT = env_str("MEDIA_ROOT", default=str(BASE_DIR / "media"))
MEDIA_URL = "media/"  # never served: uploaded ICCID files are read by the import job only
IMPORT_MAX_UPLOAD_MB = env_int("IMPORT_MAX_UPLOAD_MB", default=64)
# ICCIDs per import batch: one transaction, one carrier call, one charge line each.
IMPORT_BATCH_SIZE = env_int("IMPORT_BATCH_SIZE", default=50_000)

# Webcam scanning: frames the import page sends a few times a second.
SCAN_MAX_FRAME_BYTES = env_int("SCAN_MAX_FRAME_BYTES", default=4_000_000)
SCAN_MAX_FRAME_PIXELS = env_int("SCAN_MAX_FRAME_PIXELS", default=3840 * 2160)
SCAN_FRAMES_PER_SECOND = env_int("SCAN_FRAMES_PER_SECOND", default=8, minimum=1)

# The REST API: requests a second per token before 429; emnify auth tokens live this long.
API_REQUESTS_PER_SECOND = env_int("API_REQUESTS_PER_SECOND", default=20, minimum=1)
API_AUTH_TOKEN_MINUTES = env_int("API_AUTH_TOKEN_MINUTES", default=60, minimum=1)

# Webhooks (api/webhooks.py): receivers on loopback, private, link-local or reserved addresses, or on
# the console's own host, are refused unless this is on (a receiver inside your own network).
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", default=False)
# Seconds to connect, and to wait for each read of the answer.
WEBHOOKS_TIMEOUT_SECONDS = env_int("WEBHOOKS_TIMEOUT_SECONDS", default=5, minimum=1)
# Attempts per delivery before it is marked failed; the wait doubles from WEBHOOKS_RETRY_SECONDS.
WEBHOOKS_MAX_ATTEMPTS = env_int("WEBHOOKS_MAX_ATTEMPTS", default=8, minimum=1)
WEBHOOKS_RETRY_SECONDS = env_int("WEBHOOKS_RETRY_SECONDS", default=30, minimum=1)

# The effective data limit of a SIM whose product sets no default (Particle's rule).
DEFAULT_DATA_LIMIT_MB = 5
SIMS_PER_PAGE = 50

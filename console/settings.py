"""SIM Console settings: one file, read from environment variables."""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from lib.env import (
    env_base_url,
    env_bool,
    env_database,
    env_int,
    env_list,
    env_origins,
    env_proxy_ssl_header,
    env_removed,
    env_secret,
    env_str,
)

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
# Origins that may POST besides the console's own host (another subdomain, a proxy answering on another name).
CSRF_TRUSTED_ORIGINS = env_origins("CSRF_TRUSTED_ORIGINS")

# HTTPS. Production (DEBUG off) is HTTPS unless HTTPS=0 says otherwise: secure cookies, a redirect to
# https://, and HSTS. Behind a reverse proxy that ends TLS, SECURE_PROXY_SSL_HEADER names the header by
# which the proxy tells the scheme (X-Forwarded-Proto); without it every request looks like http and
# the redirect would loop. The test suite runs over plain http.
HTTPS = env_bool("HTTPS", default=not (DEBUG or RUNNING_TESTS))
SECURE_PROXY_SSL_HEADER = env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER")
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
# HSTS: a year by default; start lower (HSTS_SECONDS=3600) on a first deployment, as browsers keep it.
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", default=31_536_000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", default=True)

# Headers on every answer (SecurityMiddleware, XFrameOptionsMiddleware, ContentSecurityPolicyMiddleware).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline script, no inline style, no eval: every script and stylesheet is a static file, htmx
# is told not to add its indicator <style> nor to eval (templates/base.html). Pages are never framed.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Sessions end SESSION_HOURS after their last change (the sign-in: browsing does not extend them),
# or when the browser closes if asked.
SESSION_COOKIE_AGE = env_int("SESSION_HOURS", default=12, minimum=1) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=False)
# No script reads the CSRF cookie: pages carry the token (forms, and hx-headers for htmx).
CSRF_COOKIE_HTTPONLY = True

# Sign-in limits (console/sign_in.py): after this many failed sign-ins for one username, or from one
# client address, within SIGN_IN_WINDOW_MINUTES, further attempts are refused until the window ends.
SIGN_IN_FAILURES_PER_USERNAME = env_int("SIGN_IN_FAILURES_PER_USERNAME", default=5, minimum=1)
SIGN_IN_FAILURES_PER_ADDRESS = env_int("SIGN_IN_FAILURES_PER_ADDRESS", default=30, minimum=1)
SIGN_IN_WINDOW_MINUTES = env_int("SIGN_IN_WINDOW_MINUTES", default=15, minimum=1)
# Reverse proxies in front of the console that append the client's address to X-Forwarded-For:
# the address is read that many entries from the right. 0: the address the connection came from.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", default=0)

# The cache holds the rate limits (sign-in, API, scanner) and the cost estimates. By default it is
# per process; CACHE_TABLE (created by `manage.py createcachetable`) shares it through the database
# between every web and worker process.
CACHE_TABLE = env_str("CACHE_TABLE")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": CACHE_TABLE}
    if CACHE_TABLE
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

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
    "devices",
    "imports",
    "billing",
    "carriers",
    "rules",
    "webhooks",
    "notifications",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
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

# Fernet keys (comma-separated, newest first) that encrypt carrier accounts' credentials (carriers/credentials.py).
# Make one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
CARRIER_CREDENTIALS_KEYS = env_list("CARRIER_CREDENTIALS_KEYS", default=[])
# The carrier pushes usage to /carrier/usage/ with "Authorization: Bearer <this>"; empty: no push endpoint.
CARRIER_PUSH_TOKEN = env_secret("CARRIER_PUSH_TOKEN", min_length=32)
# The largest push body accepted (about 4,000 records a MB).
CARRIER_PUSH_MAX_MB = env_int("CARRIER_PUSH_MAX_MB", default=8, minimum=1)
# How long a push worker holds a carrier account: after a worker died mid-push, the account's changes
# wait this long before the next worker sends them again (carriers/push.py). Longer than the slowest batch.
CARRIER_PUSH_LEASE_SECONDS = env_int("CARRIER_PUSH_LEASE_SECONDS", default=120, minimum=1)
# SMS (carriers/sms.py): at most this many messages a second to each carrier account (its own
# settings' "sms_per_second" wins); a "Send SMS" to more SIMs than SMS_BULK_JOB_ABOVE_SIMS records its
# messages in a background job; the simulator delivers a message this many seconds after it took it.
SMS_PER_SECOND = env_int("SMS_PER_SECOND", default=10, minimum=1)
SMS_BULK_JOB_ABOVE_SIMS = env_int("SMS_BULK_JOB_ABOVE_SIMS", default=10_000, minimum=1)
CARRIER_SIMULATOR_SMS_DELIVERY_S = env_int("CARRIER_SIMULATOR_SMS_DELIVERY_S", default=3)
# The task worker fetches usage from the carrier and runs the periodic rules this often.
USAGE_FETCH_MINUTES = env_int("USAGE_FETCH_MINUTES", default=15, minimum=1)

MEDIA_ROOT = env_str("MEDIA_ROOT", default=str(BASE_DIR / "media"))
MEDIA_URL = "media/"  # never served: uploaded ICCID files are read by the import job only
IMPORT_MAX_UPLOAD_MB = env_int("IMPORT_MAX_UPLOAD_MB", default=64)
# ICCIDs per import batch: one transaction, one carrier call, one charge line each.
IMPORT_BATCH_SIZE = env_int("IMPORT_BATCH_SIZE", default=50_000)
# A bulk action on more SIMs than this runs as a background job with a progress page (sims/bulk_jobs.py);
# on fewer, in the request.
BULK_JOB_ABOVE_SIMS = env_int("BULK_JOB_ABOVE_SIMS", default=10_000, minimum=1)
# SIMs per chunk of a bulk job: one transaction each, committed with the job's counters.
BULK_JOB_CHUNK_SIMS = env_int("BULK_JOB_CHUNK_SIMS", default=5_000, minimum=1)

# Webcam scanning: frames the import page sends a few times a second.
SCAN_MAX_FRAME_BYTES = env_int("SCAN_MAX_FRAME_BYTES", default=4_000_000)
SCAN_MAX_FRAME_PIXELS = env_int("SCAN_MAX_FRAME_PIXELS", default=3840 * 2160)
SCAN_FRAMES_PER_SECOND = env_int("SCAN_FRAMES_PER_SECOND", default=8, minimum=1)

# The REST API: requests a token may make in each window before 429 (Particle's limit: 10,000 in
# 5 minutes; emnify's is lower, so scripts written for either are never refused); emnify auth tokens
# live API_AUTH_TOKEN_MINUTES.
env_removed("API_REQUESTS_PER_SECOND", instead="API_RATE_LIMIT requests in API_RATE_LIMIT_WINDOW_SECONDS (10000 in 300 by default)")
API_RATE_LIMIT = env_int("API_RATE_LIMIT", default=10_000, minimum=1)
API_RATE_LIMIT_WINDOW_SECONDS = env_int("API_RATE_LIMIT_WINDOW_SECONDS", default=300, minimum=1)
API_AUTH_TOKEN_MINUTES = env_int("API_AUTH_TOKEN_MINUTES", default=60, minimum=1)

# Webhooks (webhooks/): receivers on loopback, private, link-local or reserved addresses, or on
# the console's own host, are refused unless this is on (a receiver inside your own network).
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", default=False)
# Seconds to connect, and to wait for each read of the answer; and for a whole attempt, whatever the receiver does.
WEBHOOKS_TIMEOUT_SECONDS = env_int("WEBHOOKS_TIMEOUT_SECONDS", default=5, minimum=1)
WEBHOOKS_DEADLINE_SECONDS = env_int("WEBHOOKS_DEADLINE_SECONDS", default=15, minimum=1)
# Attempts per delivery before it is marked failed; the wait doubles from WEBHOOKS_RETRY_SECONDS.
WEBHOOKS_MAX_ATTEMPTS = env_int("WEBHOOKS_MAX_ATTEMPTS", default=8, minimum=1)
WEBHOOKS_RETRY_SECONDS = env_int("WEBHOOKS_RETRY_SECONDS", default=30, minimum=1)

# Notifications (notifications/): a page of the list.
NOTIFICATIONS_PER_PAGE = 50

SIMS_PER_PAGE = 50

# Email (invitations, password resets) through Django's mailers: SMTP when EMAIL_HOST is set;
# otherwise each message is printed as plain text to the server's output (./run's terminal), so its
# link can be copied whole and followed without a mail server (console/mail.py). Tests replace every
# mailer with the in-memory outbox.
_email_host = env_str("EMAIL_HOST", default="") or ""
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": _email_host,
            "port": env_int("EMAIL_PORT", default=587, minimum=1),
            "username": env_str("EMAIL_HOST_USER", default="") or "",
            "password": env_str("EMAIL_HOST_PASSWORD", default="") or "",
            "use_tls": env_bool("EMAIL_USE_TLS", default=True),
            # A mail server that does not answer must not hold a request for long.
            "timeout": 10,
        },
    }
    if _email_host
    else {"BACKEND": "console.mail.PlainTextConsoleBackend"}
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", default="SIM Console <sim-console@localhost>")
# Links in emails start with this (https://console.example.com); empty: the address the request came to
# (its host is checked against ALLOWED_HOSTS, its scheme read as for HTTPS).
CONSOLE_BASE_URL = env_base_url("CONSOLE_BASE_URL")
# An invitation's link works this many days.
INVITATION_DAYS = env_int("INVITATION_DAYS", default=7, minimum=1)

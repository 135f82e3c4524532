import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from lib.env import env_bool, env_database, env_list, env_secret


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("TRUE", True), ("yes", True), ("0", False), ("off", False), ("", False)])
def test_booleans_accept_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("DEBUG", raw)
    assert env_bool("DEBUG", default=False) is expected


def test_a_bad_boolean_names_the_variable(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match=r"DEBUG='maybe' is not a boolean"):
        env_bool("DEBUG", default=False)


def test_a_list_with_an_empty_entry_is_refused(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "a.example,,b.example")
    with pytest.raises(ImproperlyConfigured, match="ALLOWED_HOSTS"):
        env_list("ALLOWED_HOSTS", default=[])
    monkeypatch.setenv("ALLOWED_HOSTS", "a.example, b.example")
    assert env_list("ALLOWED_HOSTS", default=[]) == ["a.example", "b.example"]


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_an_unset_or_empty_secret_turns_the_feature_off(monkeypatch, raw):
    if raw is None:
        monkeypatch.delenv("CARRIER_PUSH_TOKEN", raising=False)
    else:
        monkeypatch.setenv("CARRIER_PUSH_TOKEN", raw)
    assert env_secret("CARRIER_PUSH_TOKEN", min_length=32) == ""


def test_a_short_secret_stops_start_up_and_says_how_to_make_one(monkeypatch):
    monkeypatch.setenv("CARRIER_PUSH_TOKEN", "secret")
    with pytest.raises(ImproperlyConfigured, match=r"CARRIER_PUSH_TOKEN is 6 characters long: use at least 32 .*token_urlsafe"):
        env_secret("CARRIER_PUSH_TOKEN", min_length=32)


def test_a_secret_a_bearer_header_cannot_carry_is_refused(monkeypatch):
    monkeypatch.setenv("CARRIER_PUSH_TOKEN", "a long secret with spaces in it, 40 chars")
    with pytest.raises(ImproperlyConfigured, match="CARRIER_PUSH_TOKEN holds characters a bearer token cannot carry"):
        env_secret("CARRIER_PUSH_TOKEN", min_length=32)
    monkeypatch.setenv("CARRIER_PUSH_TOKEN", " Zx9-_.~+/Zx9-_.~+/Zx9-_.~+/Zx9-_.~+/== ")
    assert env_secret("CARRIER_PUSH_TOKEN", min_length=32) == "Zx9-_.~+/Zx9-_.~+/Zx9-_.~+/Zx9-_.~+/=="


def test_sqlite_is_the_default_and_runs_in_wal_mode(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = env_database("DATABASE_URL", default_sqlite_path="/tmp/x.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]


def test_postgres_urls_are_parsed(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/console")
    config = env_database("DATABASE_URL", default_sqlite_path="unused")
    assert (config["ENGINE"], config["NAME"], config["HOST"]) == ("django.db.backends.postgresql", "console", "127.0.0.1")


@pytest.mark.parametrize("url", ["mysql://root@localhost/db", "not a url"])
def test_an_unsupported_database_url_names_the_variable(monkeypatch, url):
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        env_database("DATABASE_URL", default_sqlite_path="unused")


def _start(env: dict) -> subprocess.CompletedProcess:
    clean = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "console.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=clean, capture_output=True, text=True, timeout=60
    )


def test_start_up_stops_without_a_secret_key_in_production():
    result = _start({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_start_up_stops_on_a_bad_value_naming_it():
    result = _start({"DEBUG": "sometimes"})
    assert result.returncode != 0
    assert "DEBUG='sometimes' is not a boolean" in result.stderr


def test_a_webhook_deadline_under_a_second_stops_start_up_naming_it():
    result = _start({"DEBUG": "1", "WEBHOOKS_DEADLINE_SECONDS": "0"})
    assert result.returncode != 0
    assert "WEBHOOKS_DEADLINE_SECONDS='0' must be 1 or more" in result.stderr


def test_start_up_works_with_good_production_values():
    assert _start({"DEBUG": "0", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "sims.example.com"}).returncode == 0


def test_start_up_stops_on_the_removed_per_second_api_limit_and_names_its_replacement():
    result = _start({"DEBUG": "1", "API_REQUESTS_PER_SECOND": "50"})
    assert result.returncode != 0
    assert "API_REQUESTS_PER_SECOND is no longer read: set API_RATE_LIMIT" in result.stderr


def _settings_of(env: dict, expression: str) -> str:
    clean = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "console.settings", "DEBUG": "1", **env}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); from django.conf import settings; print({expression})"],
        env=clean, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_mail_is_printed_to_the_console_without_an_email_host():
    assert _settings_of({}, "settings.MAILERS['default']['BACKEND']") == "console.mail.PlainTextConsoleBackend"


def test_an_email_host_sends_mail_by_smtp_with_its_variables():
    env = {
        "EMAIL_HOST": "smtp.example.com", "EMAIL_PORT": "465", "EMAIL_HOST_USER": "console", "EMAIL_HOST_PASSWORD": "s3cret",
        "EMAIL_USE_TLS": "0", "DEFAULT_FROM_EMAIL": "SIMs <sims@example.com>",
    }  # fmt: skip
    mailer = "settings.MAILERS['default']"
    assert _settings_of(env, f"{mailer}['BACKEND']") == "django.core.mail.backends.smtp.EmailBackend"
    options = _settings_of(env, f"sorted({mailer}['OPTIONS'].items())")
    assert options == str(sorted({"host": "smtp.example.com", "port": 465, "username": "console", "password": "s3cret", "use_tls": False, "timeout": 10}.items()))
    assert _settings_of(env, "settings.DEFAULT_FROM_EMAIL") == "SIMs <sims@example.com>"


def test_a_console_base_url_without_its_scheme_stops_start_up_naming_it():
    result = _start({"DEBUG": "1", "CONSOLE_BASE_URL": "console.example.com"})
    assert result.returncode != 0
    assert "CONSOLE_BASE_URL='console.example.com' is not an address" in result.stderr
    assert _settings_of({"CONSOLE_BASE_URL": "https://console.example.com/"}, "settings.CONSOLE_BASE_URL") == "https://console.example.com"

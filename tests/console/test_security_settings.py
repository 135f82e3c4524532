"""Production settings: the deploy check, the security headers, the Content Security Policy, sessions."""

import json
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from tests.conftest import ROOT

# The environment README's "Deploy" section documents, as a deployment behind a TLS proxy sets it.
PRODUCTION_ENV = {
    "SECRET_KEY": "k7Qx-example-only-0c9f3b1d8e2a4f6b7c5d9e1f3a2b4c6d8e0f1a3b5c7d9e2f4a6b8c0d",
    "ALLOWED_HOSTS": "console.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://console.example.com",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    "TRUSTED_PROXY_COUNT": "1",
    "CACHE_TABLE": "console_cache",
    "MEDIA_ROOT": "/srv/console/media",
    "DATABASE_URL": "postgres://console:secret@db.example.com:5432/console",
    # Without a mail server, emails are printed: `check --deploy` refuses that backend in production.
    "CONSOLE_BASE_URL": "https://console.example.com",
    "EMAIL_HOST": "smtp.example.com",
    "DEFAULT_FROM_EMAIL": "SIM Console <sims@example.com>",
    "CARRIER_CREDENTIALS_KEYS": "uH3v5Vn0Hh8w2bQk9y9n1Yw3w0W8m6c0Zl9f3uYV3zs=",
}


def run_django(code_or_args: list[str], env: dict) -> subprocess.CompletedProcess:
    """manage.py (or python -c) in a fresh process with only `env`: DEBUG unset, not under pytest."""
    clean = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "console.settings", **env}
    return subprocess.run(
        [sys.executable, *code_or_args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def production_settings(**overrides: str) -> dict:
    names = [
        "DEBUG", "HTTPS", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_PROXY_SSL_HEADER", "CSRF_TRUSTED_ORIGINS",
        "SESSION_COOKIE_AGE", "SESSION_EXPIRE_AT_BROWSER_CLOSE", "CACHES", "TRUSTED_PROXY_COUNT",
    ]
    code = f"import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({{n: getattr(s, n) for n in {names!r}}}))"
    result = run_django(["-c", code], {**PRODUCTION_ENV, **overrides})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_deploy_check_passes_with_the_documented_production_environment():
    result = run_django(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr + result.stdout


def test_the_deploy_check_warns_when_https_is_turned_off():
    result = run_django(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], {**PRODUCTION_ENV, "HTTPS": "0"})
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr


def test_the_deploy_check_warns_when_emails_would_link_to_the_development_address():
    without = {name: value for name, value in PRODUCTION_ENV.items() if name != "CONSOLE_BASE_URL"}
    result = run_django(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], without)
    assert result.returncode != 0
    assert "console.W001" in result.stderr and "Set CONSOLE_BASE_URL" in result.stderr


def test_the_deploy_check_warns_when_carrier_credentials_have_no_key_of_their_own():
    without = {name: value for name, value in PRODUCTION_ENV.items() if name != "CARRIER_CREDENTIALS_KEYS"}
    result = run_django(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], without)
    assert result.returncode != 0
    assert "carriers.W001" in result.stderr and "rotate_carrier_credentials" in result.stderr


def test_production_is_https_with_secure_cookies_and_hsts():
    found = production_settings()
    assert found["DEBUG"] is False and found["HTTPS"] is True
    assert found["SECURE_SSL_REDIRECT"] and found["SESSION_COOKIE_SECURE"] and found["CSRF_COOKIE_SECURE"]
    assert found["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert found["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and found["SECURE_HSTS_PRELOAD"]
    assert found["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert found["CSRF_TRUSTED_ORIGINS"] == ["https://console.example.com"]


def test_cache_table_shares_the_cache_through_the_database_and_without_it_each_process_has_its_own():
    shared = production_settings()["CACHES"]["default"]
    assert shared == {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "console_cache"}
    assert production_settings(CACHE_TABLE="")["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")


def test_hsts_and_session_length_come_from_the_environment():
    found = production_settings(HSTS_SECONDS="3600", HSTS_PRELOAD="0", SESSION_HOURS="2", SESSION_EXPIRE_AT_BROWSER_CLOSE="1")
    assert (found["SECURE_HSTS_SECONDS"], found["SECURE_HSTS_PRELOAD"]) == (3600, False)
    assert (found["SESSION_COOKIE_AGE"], found["SESSION_EXPIRE_AT_BROWSER_CLOSE"]) == (7200, True)


def test_without_a_proxy_header_setting_no_header_is_trusted():
    assert production_settings(SECURE_PROXY_SSL_HEADER="")["SECURE_PROXY_SSL_HEADER"] is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto: https", "is not a header name"),
        ("CSRF_TRUSTED_ORIGINS", "console.example.com", "give origins with their scheme"),
        ("SESSION_HOURS", "0", "SESSION_HOURS='0' must be 1 or more"),
        ("HTTPS", "sure", "HTTPS='sure' is not a boolean"),
    ],
)
def test_a_bad_security_value_stops_start_up_naming_it(name, value, message):
    result = run_django(["-c", "import django; django.setup()"], {**PRODUCTION_ENV, name: value})
    assert result.returncode != 0
    assert message in result.stderr


# The headers, on the pages a person sees and on the API.


def policy_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_pages_carry_a_policy_without_inline_script_eval_or_inline_style(owner_client, product, sim):
    for url in (reverse("login"), reverse("sim_list", args=[product.slug]), reverse("api_docs")):
        policy = policy_of(owner_client.get(url))
        assert policy["script-src"] == ["'self'"], url
        assert policy["style-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
        assert policy["base-uri"] == ["'none'"] and policy["form-action"] == ["'self'"]
        header = owner_client.get(url)["Content-Security-Policy"]
        assert "unsafe-inline" not in header and "unsafe-eval" not in header


def test_every_answer_carries_the_security_headers(client, owner_client, product):
    for response in (
        client.get(reverse("login")),
        owner_client.get(reverse("sim_list", args=[product.slug])),
        owner_client.get(reverse("sim_list", args=[product.slug]), headers={"HX-Request": "true"}),
        client.get("/v1/sims"),
        client.get(reverse("admin:login")),
    ):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        assert "Content-Security-Policy" in response


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an on* event handler"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
    (re.compile(r"\shx-on", re.I), "an hx-on attribute (evaluated code)"),
]


def test_no_template_holds_what_the_policy_would_block():
    found = []
    # Emails are not pages: no policy applies in a mail reader, and mail readers want inline styles.
    pages = [t for t in sorted((ROOT / "templates").rglob("*.html")) if not t.name.startswith("email")]
    assert len(pages) > 20
    for template in pages:
        text = template.read_text()
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                # A JSON data block is not a script the browser runs.
                if 'type="application/json"' in match.group(0):
                    continue
                found.append(f"{template.relative_to(ROOT)}: {what}: {match.group(0)!r}")
    assert found == []


def test_htmx_is_told_not_to_inject_styles_nor_evaluate_code(owner_client, product):
    page = owner_client.get(reverse("sim_list", args=[product.slug])).content.decode()
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page).group(1))
    assert config["includeIndicatorStyles"] is False
    assert config["allowEval"] is False
    assert config["allowScriptTags"] is False


# Sessions.


def test_a_session_lasts_twelve_hours_by_default(client, owner, settings):
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    client.post(reverse("login"), {"username": "owner", "password": "pw"})
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == 12 * 3600
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    session = Session.objects.get(session_key=cookie.value)
    assert abs(session.expire_date - (timezone.now() + timedelta(hours=12))) < timedelta(minutes=1)


def test_an_expired_session_is_signed_out(client, owner, product, settings):
    client.post(reverse("login"), {"username": "owner", "password": "pw"})
    assert client.get(reverse("home")).status_code == 200
    Session.objects.filter(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_session_can_end_with_the_browser(client, owner, settings):
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    client.post(reverse("login"), {"username": "owner", "password": "pw"})
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""

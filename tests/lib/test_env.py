import pytest
from django.core.exceptions import ImproperlyConfigured

from lib.env import env_base_url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        ("https://console.example.com/", "https://console.example.com"),
        ("https://example.com:8443/sims", "https://example.com:8443/sims"),
    ],
)
def test_the_console_address_is_kept_without_its_trailing_slash(monkeypatch, raw, expected):
    if raw is None:
        monkeypatch.delenv("CONSOLE_BASE_URL", raising=False)
    else:
        monkeypatch.setenv("CONSOLE_BASE_URL", raw)
    assert env_base_url("CONSOLE_BASE_URL") == expected


@pytest.mark.parametrize("raw", ["console.example.com", "ftp://console.example.com", "https://console.example.com/?x=1"])
def test_an_address_without_its_scheme_stops_start_up_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("CONSOLE_BASE_URL", raw)
    with pytest.raises(ImproperlyConfigured, match=r"CONSOLE_BASE_URL=.* is not an address.*such as https://console.example.com"):
        env_base_url("CONSOLE_BASE_URL")

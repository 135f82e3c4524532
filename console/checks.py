"""Checks `manage.py check --deploy` runs beside Django's own: settings a production console needs."""

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def console_base_url_is_set(app_configs, **kwargs) -> list[CheckMessage]:
    if settings.CONSOLE_BASE_URL:
        return []
    return [
        Warning(
            "CONSOLE_BASE_URL is not set: emails the worker sends (notifications) link to http://127.0.0.1:8000, "
            "and invitation and password reset links take the address from the request.",
            hint="Set CONSOLE_BASE_URL to the address people reach the console at, such as https://console.example.com.",
            id="console.W001",
        )
    ]

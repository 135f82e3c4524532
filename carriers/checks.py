"""Checks `manage.py check --deploy` runs for carriers: credentials need a key of their own in production."""

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def credentials_key_is_set(app_configs, **kwargs) -> list[CheckMessage]:
    if settings.CARRIER_CREDENTIALS_KEYS:
        return []
    return [
        Warning(
            "CARRIER_CREDENTIALS_KEYS is not set: carrier accounts' credentials are encrypted with a key derived from "
            "SECRET_KEY, so changing SECRET_KEY makes them unreadable, and whoever has SECRET_KEY can read them.",
            hint=(
                'Set CARRIER_CREDENTIALS_KEYS to a Fernet key (python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"), then run manage.py rotate_carrier_credentials.'
            ),
            id="carriers.W001",
        )
    ]

"""The carrier adapters, by code, and the adapter of a carrier account (or of the built-in simulator)."""

from functools import cache

from django.conf import settings as django_settings
from django.utils.module_loading import import_string

from carriers.adapters.base import Adapter
from carriers.credentials import decrypt
from carriers.models import CarrierAccount

ADAPTERS: dict[str, str] = {
    "simulator": "carriers.adapters.simulator.SimulatorAdapter",
    "twilio": "carriers.adapters.twilio.TwilioSuperSimAdapter",
    "emnify": "carriers.adapters.emnify.EmnifyAdapter",
}


@cache
def adapter_class(code: str) -> type[Adapter]:
    if code not in ADAPTERS:
        raise LookupError(f"No carrier adapter is called {code!r}: use one of {', '.join(ADAPTERS)}.")
    return import_string(ADAPTERS[code])


def adapter_for(account: CarrierAccount | None) -> Adapter:
    """The adapter that speaks for `account`; None: the built-in simulator of products without an account."""
    if account is None:
        return adapter_class("simulator")(settings=built_in_simulator_settings(), credentials={})
    cls = adapter_class(account.adapter)
    return cls(settings={**account.settings, "account_id": account.pk}, credentials=decrypt(account.credentials))


def built_in_simulator_settings() -> dict:
    return {
        "account_id": None,
        "latency_ms": django_settings.CARRIER_SIMULATOR_DELAY_MS,
        "refuse_suffixes": list(django_settings.CARRIER_SIMULATOR_REFUSE_SUFFIXES),
        "sms_delivery_s": django_settings.CARRIER_SIMULATOR_SMS_DELIVERY_S,
    }

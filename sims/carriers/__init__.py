"""Carrier adapters: every network-side effect of SIM Console goes through one of these."""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from sims.carriers.base import Carrier


@cache
def _carrier_class(path: str) -> type[Carrier]:
    return import_string(path)


def get_carrier() -> Carrier:
    return _carrier_class(settings.CARRIER_ADAPTER)()

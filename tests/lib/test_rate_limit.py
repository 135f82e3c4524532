"""API rate windows (lib/rate_limit.py) on the cache processes share: the database cache (CACHE_TABLE)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import caches
from django.core.management import call_command

from lib import rate_limit


@pytest.fixture
def database_cache(settings, db, monkeypatch):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "rate_test_cache"}}
    call_command("createcachetable", verbosity=0)
    monkeypatch.setattr(rate_limit, "cache", caches["default"])


def test_an_hour_long_window_keeps_counting_past_the_caches_default_five_minutes(database_cache):
    window_opens = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    with time_machine.travel(window_opens, tick=False) as traveller:
        rate_limit.hit("token-a", limit=100, window_seconds=3600)
        traveller.shift(timedelta(seconds=10))
        rate_limit.hit("token-a", limit=100, window_seconds=3600)
        traveller.shift(timedelta(minutes=6))

        third = rate_limit.hit("token-a", limit=100, window_seconds=3600)

    assert (third.hits, third.remaining) == (3, 97)

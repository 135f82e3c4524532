"""Rate limits on Django's cache: a fixed window of hits per second (a runaway client), and a window of
failures opened by the first one (sign-in lockouts). The cache is per process unless CACHE_TABLE shares it."""

import time

from django.core.cache import cache


def allow(key: str, *, per_second: int) -> bool:
    """Count one hit for `key` in the current second; False once it is over the limit."""
    window = f"rate:{key}:{int(time.time())}"
    if cache.add(window, 1, timeout=2):
        return True
    try:
        hits = cache.incr(window)
    except ValueError:  # expired between add and incr
        cache.add(window, 1, timeout=2)
        return True
    return hits <= per_second


def _failure_keys(key: str) -> tuple[str, str]:
    return f"failures:{key}:closes", f"failures:{key}:count"


def failures(key: str) -> tuple[int, float | None]:
    """The failures counted for `key` in its open window, and when that window closes (a Unix time)."""
    closes_key, count_key = _failure_keys(key)
    found = cache.get_many([closes_key, count_key])
    if closes_key not in found:
        return 0, None
    return int(found.get(count_key, 0)), found[closes_key]


def record_failure(key: str, *, window_seconds: int) -> tuple[int, float]:
    """Count one failure for `key`: the first opens a window of `window_seconds`; returns (count, window end)."""
    closes_key, count_key = _failure_keys(key)
    closes = time.time() + window_seconds
    if cache.add(closes_key, closes, timeout=window_seconds):
        cache.set(count_key, 0, timeout=window_seconds)
    else:
        closes = cache.get(closes_key, closes)
    try:
        count = cache.incr(count_key)  # atomic in the local memory cache, memcached and Redis
    except ValueError:  # the window closed between the two calls
        cache.add(count_key, 1, timeout=window_seconds)
        count = 1
    return count, closes


def clear_failures(key: str) -> None:
    cache.delete_many(_failure_keys(key))

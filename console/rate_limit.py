"""Rate limits on Django's cache: fixed windows of hits, of a second (the scanner) or longer (the API,
per token), and a window of failures opened by the first one (sign-in lockouts). The cache is per
process unless CACHE_TABLE shares it."""

import math
import time
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Window:
    """One key's fixed window after a hit: its limit, the hits counted so far, when it closes."""

    limit: int
    hits: int
    closes_at: int  # a Unix time
    seconds_left: int

    @property
    def allowed(self) -> bool:
        return self.hits <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.hits)


def hit(key: str, *, limit: int, window_seconds: int) -> Window:
    """Count one hit for `key` in the current window of `window_seconds`, windows aligned on the clock
    (every key's close at the same moments, so one cache entry per key and window)."""
    now = time.time()
    opened = int(now // window_seconds) * window_seconds
    closes_at = opened + window_seconds
    seconds_left = max(1, math.ceil(closes_at - now))
    name = f"rate:{key}:{window_seconds}:{opened}"
    if cache.add(name, 1, timeout=seconds_left + 1):
        hits = 1
    else:
        try:
            hits = cache.incr(name)
        except ValueError:  # expired between add and incr
            cache.add(name, 1, timeout=seconds_left + 1)
            hits = 1
    return Window(limit=limit, hits=hits, closes_at=closes_at, seconds_left=seconds_left)


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

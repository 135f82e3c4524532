"""Rate limits: fixed windows of hits on Django's cache, of a second (the scanner) or longer (the API,
per token; per process unless CACHE_TABLE shares the cache). Sign-in lockouts count their attempts in
the database instead (console/attempts.py)."""

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
            # The database cache's incr is a get and a set, and the set gives the entry the cache's
            # default timeout (300 s): a longer window would start counting again from one.
            cache.touch(name, timeout=seconds_left + 1)
        except ValueError:  # expired between add and incr
            cache.add(name, 1, timeout=seconds_left + 1)
            hits = 1
    return Window(limit=limit, hits=hits, closes_at=closes_at, seconds_left=seconds_left)

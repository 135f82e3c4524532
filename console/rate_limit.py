"""A fixed-window rate limit on Django's cache: cheap, and good enough to stop a runaway client."""

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

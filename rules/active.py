"""Which condition kinds have an enabled rule, remembered in the process: a pass whose kinds have none
(most passes, on most installations) returns without a query. A rule saved or deleted in this process
forgets it at once; one saved by another process is seen within FRESH_FOR seconds."""

import math
import time
from collections.abc import Iterable
from typing import Any

FRESH_FOR = 30.0

_memo: dict[str, Any] = {"until": 0.0, "kinds": frozenset()}


def kinds_in_use() -> frozenset[str]:
    if time.monotonic() >= _memo["until"]:
        from rules.models import Rule

        kinds = frozenset(Rule.objects.filter(enabled=True).values_list("condition_kind", flat=True).distinct())
        remember(kinds, for_seconds=FRESH_FOR)
    return _memo["kinds"]


def any_in_use(kinds: Iterable[str]) -> bool:
    return not kinds_in_use().isdisjoint(kinds)


def remember(kinds: frozenset[str], *, for_seconds: float = math.inf) -> None:
    _memo["kinds"], _memo["until"] = kinds, time.monotonic() + for_seconds


def forget(**kwargs: Any) -> None:
    """Connected to Rule's post_save and post_delete: the next pass reads the rules again."""
    _memo["until"] = 0.0

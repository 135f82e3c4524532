"""The console's two built-in rules, evaluated here in sims where they always were: the data limit's pause
(sims/limits.py) and the test-state triggers (sims/triggers.py). They run inside the pass that ingests usage
(triggers first, then the limit, in the chunk's transaction) or ticks, so their SQL, order and counts stay
as they were. What they did is announced with `builtin_rule_acted` once the SIMs changed (in ingestion, inside
the chunk's transaction, so the firings commit with the changes; elsewhere apply_action has committed its
chunks, whose transactions stay as they were): the rules app records it as firings of each product's
built-in Rule (sims imports nothing of rules)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.dispatch import Signal

# The built-in rules' condition kinds, as the rules app names them.
DATA_LIMIT = "data_limit"
TEST_TRIGGER = "test_trigger"

# Sent with `kind` (DATA_LIMIT or TEST_TRIGGER), `acted` ({SIM id: Acted}, the SIMs changed) and `now`.
builtin_rule_acted = Signal()


@dataclass(frozen=True)
class Acted:
    """What a built-in rule saw (its figures) and did (a line, as the SIM's event says it)."""

    figures: dict[str, Any]
    did: str


def announce(kind: str, acted: dict[int, Acted], *, now: datetime) -> None:
    if acted:
        builtin_rule_acted.send(sender=Acted, kind=kind, acted=acted, now=now)

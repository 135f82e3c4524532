"""Peak concurrency (emnify): the most SIMs billable at the same time in a billing period, at
12-hour resolution. A SIM counts in a 12-hour slot if it was billable at any moment of it, so
activating and suspending within one slot still counts once; the period's peak is the largest
slot. The seed's example: 200 SIMs activated in a month, never more than 100 at once, count 100."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

SLOT = timedelta(hours=12)


@dataclass(frozen=True)
class Step:
    """One change of one SIM, as the account sees it: billable before it, billable after it."""

    sim_id: int
    at: datetime
    billable_before: bool
    billable_after: bool


def slots(starts_at: datetime, ends_at: datetime) -> Iterator[tuple[datetime, datetime]]:
    moment = starts_at
    while moment < ends_at:
        yield moment, min(moment + SLOT, ends_at)
        moment += SLOT


class PeakSweep:
    """Fed the account's steps in time order, it keeps each slot's count relative to the number
    billable when the period started, which may be known only after the last step (see billing)."""

    def __init__(self, starts_at: datetime, ends_at: datetime) -> None:
        self.starts_at, self.ends_at = starts_at, ends_at
        self.slot_count = max(1, -(-(ends_at - starts_at) // SLOT))
        self._slot = 0
        self._change = 0  # billable now minus billable at the period's start
        self._change_at_slot_start = 0
        self._first_seen: dict[int, bool] = {}  # sim -> billable at the slot's start
        self._entered: set[int] = set()  # SIMs not billable at the slot's start, billable during it
        self._best = None  # largest slot count, relative

    def add(self, step: Step) -> None:
        if not self.starts_at <= step.at < self.ends_at:
            raise ValueError(f"a step at {step.at} is outside the period")
        offset = step.at - self.starts_at
        self._move_to(offset // SLOT)
        change = step.billable_after - step.billable_before
        self._change += change
        if offset % SLOT == timedelta(0):
            # On the slot's first instant: part of the state the slot starts with.
            self._change_at_slot_start += change
            self._first_seen[step.sim_id] = step.billable_after
            return
        was_billable_at_slot_start = self._first_seen.setdefault(step.sim_id, step.billable_before)
        if step.billable_after and not was_billable_at_slot_start:
            self._entered.add(step.sim_id)

    def peak(self, billable_at_start: int) -> int:
        self._move_to(self.slot_count - 1)
        return billable_at_start + max(self._best if self._best is not None else self._change, self._slot_total())

    def _slot_total(self) -> int:
        return self._change_at_slot_start + len(self._entered)

    def _move_to(self, slot: int) -> None:
        if slot == self._slot:
            return
        total = self._slot_total()
        self._best = total if self._best is None else max(self._best, total)
        # Slots with no step count what was billable through them: the count at their start.
        if slot > self._slot + 1:
            self._best = max(self._best, self._change)
        self._slot, self._change_at_slot_start = slot, self._change
        self._first_seen, self._entered = {}, set()


def peak_concurrency(*, billable_at_start: int, steps: Iterable[Step], starts_at: datetime, ends_at: datetime) -> int:
    sweep = PeakSweep(starts_at, ends_at)
    for step in steps:
        sweep.add(step)
    return sweep.peak(billable_at_start)

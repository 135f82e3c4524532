"""Peak concurrency (emnify): the most SIMs billable at the same time in a billing period.

emnify charges "the peak number of concurrently activated SIM cards within the billing period":
200 SIMs activated in a month but never more than 100 at once count 100, and so do 100 SIMs
suspended at 06:00 and 100 others activated at 09:00. The sweep is a running count over the
event log in time order: a SIM counts from the instant it becomes billable until the instant it
stops (a short activation is not free), and all the steps of one instant apply before it is
counted, so a swap at one instant never counts twice. emnify's "12 hour accuracy" is a
resolution of reporting: a 12-hour slot's peak is its most at once (with the count it starts
with), and the period's peak, the largest slot's, is the most at any instant."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Step:
    """One change of one SIM, as the account sees it: billable before it, billable after it."""

    sim_id: int
    at: datetime
    billable_before: bool
    billable_after: bool


class PeakSweep:
    """Fed the account's steps in time order, it keeps the most billable at once relative to the
    number billable when the period started, which may be known only after the last step (see billing)."""

    def __init__(self, starts_at: datetime, ends_at: datetime) -> None:
        self.starts_at, self.ends_at = starts_at, ends_at
        self._at = starts_at  # the instant whose steps are being summed
        self._change = 0  # billable after the steps so far minus billable at the period's start
        self._best: int | None = None  # the most after all the steps of an earlier instant, relative

    def add(self, step: Step) -> None:
        if not self.starts_at <= step.at < self.ends_at:
            raise ValueError(f"a step at {step.at} is outside the period")
        if step.at < self._at:
            raise ValueError(f"a step at {step.at} comes after one at {self._at}: give the steps in time order")
        if step.at > self._at:
            self._best = self._best_so_far()
            self._at = step.at
        self._change += step.billable_after - step.billable_before

    def peak(self, billable_at_start: int) -> int:
        return billable_at_start + self._best_so_far()

    def _best_so_far(self) -> int:
        return self._change if self._best is None else max(self._best, self._change)


def peak_concurrency(*, billable_at_start: int, steps: Iterable[Step], starts_at: datetime, ends_at: datetime) -> int:
    sweep = PeakSweep(starts_at, ends_at)
    for step in steps:
        sweep.add(step)
    return sweep.peak(billable_at_start)

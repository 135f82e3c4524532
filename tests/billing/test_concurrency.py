from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.concurrency import Step, peak_concurrency

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)


def at(hours: float, seconds: int = 0) -> datetime:
    return START + timedelta(hours=hours, seconds=seconds)


def peak(steps, billable_at_start=0, end=END):
    return peak_concurrency(billable_at_start=billable_at_start, steps=steps, starts_at=START, ends_at=end)


def test_the_seeds_example_200_sims_never_more_than_100_at_once_count_100():
    steps = []
    for sim in range(100):  # the first hundred: active for the first ten days
        steps.append(Step(sim, at(1), False, True))
        steps.append(Step(sim, at(240), True, False))
    for sim in range(100, 200):  # the second hundred: from day 12 on
        steps.append(Step(sim, at(288), False, True))
    assert peak(sorted(steps, key=lambda s: s.at)) == 100


def test_a_swap_within_twelve_hours_counts_the_sims_billable_at_the_same_time():
    # 100 SIMs suspended at 06:00, 100 others activated at 09:00: never more than 100 at once.
    steps = [Step(sim, at(6), True, False) for sim in range(100)]
    steps += [Step(sim, at(9), False, True) for sim in range(100, 200)]
    assert peak(steps, billable_at_start=100) == 100


def test_a_swap_at_one_instant_counts_once_whatever_order_its_steps_come_in():
    arriving_first = [Step(2, at(9), False, True), Step(1, at(9), True, False)]
    assert peak(arriving_first, billable_at_start=1) == 1


def test_a_sim_billable_for_a_moment_counts_at_that_moment():
    assert peak([Step(1, at(1), False, True), Step(1, at(1, seconds=1), True, False)]) == 1


def test_two_sims_count_two_when_billable_at_the_same_time_even_for_a_second():
    steps = [Step(1, at(1), False, True), Step(2, at(2), False, True), Step(1, at(2, seconds=1), True, False)]
    assert peak(steps) == 2
    # One second later, SIM 2 arrives as SIM 1 leaves: never together.
    steps = [Step(1, at(1), False, True), Step(1, at(2, seconds=1), True, False), Step(2, at(2, seconds=1), False, True)]
    assert peak(steps) == 1


def test_a_sim_off_at_the_periods_first_instant_does_not_count():
    assert peak([Step(1, START, True, False)], billable_at_start=1) == 0
    assert peak([Step(1, START, True, False), Step(2, at(5), False, True)], billable_at_start=1) == 1


def test_sims_billable_all_period_without_events_count():
    assert peak([], billable_at_start=7) == 7
    assert peak([Step(1, at(100), True, False)], billable_at_start=7) == 7


def test_a_step_outside_the_period_is_refused():
    with pytest.raises(ValueError, match="outside the period"):
        peak([Step(1, END, False, True)])


def test_steps_out_of_time_order_are_refused():
    with pytest.raises(ValueError, match="in time order"):
        peak([Step(1, at(5), False, True), Step(2, at(4), False, True)])


@st.composite
def histories(draw):
    """Per SIM: billable at the start or not, then chained changes at random half-hours (two or more
    at the same instant too). Steps at one instant come in a drawn order of SIMs: the sweep may
    not rely on ends coming before starts."""
    sims = draw(st.integers(min_value=0, max_value=8))
    rank = draw(st.permutations(range(sims)))
    start_states, steps = {}, []
    for sim in range(sims):
        billable = draw(st.booleans())
        start_states[sim] = billable
        moments = sorted(draw(st.lists(st.integers(min_value=0, max_value=2 * 24 * 6 - 1), max_size=6)))
        for half_hours in moments:
            after = draw(st.booleans())  # a step may leave billability as it was (a data limit change)
            steps.append(Step(sim, at(half_hours / 2), billable, after))
            billable = after
    steps.sort(key=lambda s: (s.at, rank[s.sim_id]))  # stable: a SIM's own steps keep their chain order
    return start_states, steps


def brute_force_peak(start_states, steps):
    """At the period's start and at every instant where something changes, the SIMs billable just
    after all the changes at that instant; the most of those."""
    best = 0
    for instant in {START} | {step.at for step in steps}:
        count = 0
        for sim, billable in start_states.items():
            for step in (s for s in steps if s.sim_id == sim and s.at <= instant):
                billable = step.billable_after
            count += billable
        best = max(best, count)
    return best


@settings(max_examples=300, deadline=None)
@given(histories())
def test_the_peak_from_steps_equals_a_brute_force_count_at_every_instant(history):
    start_states, steps = history
    end = START + timedelta(days=6)
    expected = brute_force_peak(start_states, steps)
    assert peak(steps, billable_at_start=sum(start_states.values()), end=end) == expected

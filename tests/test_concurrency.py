from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from products.concurrency import SLOT, Step, peak_concurrency, slots

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


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


def test_on_and_off_within_one_slot_counts_once_in_that_slot():
    assert peak([Step(1, at(1), False, True), Step(1, at(2), True, False)]) == 1


def test_two_sims_in_the_same_slot_count_two_even_if_never_on_together():
    steps = [Step(1, at(1), False, True), Step(1, at(2), True, False), Step(2, at(3), False, True)]
    assert peak(steps) == 2


def test_a_slot_boundary_separates_two_sims_that_follow_each_other():
    # SIM 1 off exactly at 12:00, SIM 2 on exactly at 12:00: different slots, so never counted together.
    steps = [Step(1, at(0), False, True), Step(1, at(12), True, False), Step(2, at(12), False, True)]
    assert peak(steps) == 1
    # One second earlier, SIM 2 is in SIM 1's slot.
    steps = [Step(1, at(0), False, True), Step(2, at(12) - timedelta(seconds=1), False, True), Step(1, at(12), True, False)]
    assert peak(steps) == 2


def test_sims_billable_all_period_without_events_count():
    assert peak([], billable_at_start=7) == 7
    assert peak([Step(1, at(100), True, False)], billable_at_start=7) == 7


def test_a_step_outside_the_period_is_refused():
    with pytest.raises(ValueError, match="outside the period"):
        peak([Step(1, END, False, True)])


@st.composite
def histories(draw):
    """Per SIM: billable at the start or not, then alternating changes at random half-hours."""
    sims = draw(st.integers(min_value=0, max_value=8))
    start_states, steps = {}, []
    for sim in range(sims):
        billable = draw(st.booleans())
        start_states[sim] = billable
        moments = sorted(set(draw(st.lists(st.integers(min_value=0, max_value=2 * 24 * 6 - 1), max_size=6))))
        for half_hours in moments:
            after = draw(st.booleans())  # a step may leave billability as it was (a data limit change)
            steps.append(Step(sim, at(half_hours / 2), billable, after))
            billable = after
    steps.sort(key=lambda s: (s.at, s.sim_id))
    return start_states, steps


def brute_force_peak(start_states, steps, end):
    best = 0
    for slot_start, slot_end in slots(START, end):
        count = 0
        for sim, billable in start_states.items():
            # A SIM's state at a moment is the one after every step up to and including it.
            for step in (s for s in steps if s.sim_id == sim and s.at <= slot_start):
                billable = step.billable_after
            inside = [s.billable_after for s in steps if s.sim_id == sim and slot_start < s.at < slot_end]
            count += billable or any(inside)
        best = max(best, count)
    return best


@settings(max_examples=300, deadline=None)
@given(histories())
def test_the_peak_from_steps_equals_a_brute_force_count_over_every_slot(history):
    start_states, steps = history
    end = START + timedelta(days=6)
    expected = brute_force_peak(start_states, steps, end)
    assert peak(steps, billable_at_start=sum(start_states.values()), end=end) == expected


def test_slots_are_twelve_hours_and_the_last_ends_with_the_period():
    assert list(slots(START, at(30))) == [(at(0), at(12)), (at(12), at(24)), (at(24), at(30))]
    assert SLOT == timedelta(hours=12)

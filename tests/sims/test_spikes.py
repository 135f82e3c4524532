from datetime import date, timedelta

import pytest

from lib.units import KB, MB
from sims.models import SimDailyUsage, UsageSpike
from sims.spikes import detect_spikes, latest_spike_day, spike_of, spikes_on

DAY = date(2026, 11, 20)
STEADY = [200 * KB, 220 * KB, 180 * KB, 210 * KB, 190 * KB, 205 * KB, 195 * KB] * 2


def test_a_day_far_above_a_steady_baseline_is_a_spike_with_its_factor():
    spike = spike_of(4 * MB, STEADY)
    assert spike is not None
    assert spike.baseline == 200 * KB
    assert spike.factor == pytest.approx(20)


def test_an_ordinary_busy_day_is_not_a_spike():
    assert spike_of(300 * KB, STEADY) is None


def test_a_noisy_sim_needs_a_bigger_jump_than_a_steady_one():
    noisy = [0, 3 * MB, 100 * KB, 2 * MB, 0, 4 * MB, 500 * KB] * 2
    assert spike_of(int(4.5 * MB), STEADY) is not None
    assert spike_of(int(4.5 * MB), noisy) is None
    assert spike_of(40 * MB, noisy) is not None


def test_one_earlier_spike_does_not_hide_the_next():
    history = STEADY[:-1] + [30 * MB]
    assert spike_of(4 * MB, history) is not None


def test_a_perfectly_regular_sim_spikes_at_three_times_its_norm():
    regular = [2 * MB] * 14
    assert spike_of(int(5.9 * MB), regular) is None
    assert spike_of(int(6.1 * MB), regular) is not None


def test_small_amounts_are_never_spikes_however_large_the_factor():
    assert spike_of(900 * KB, [1 * KB] * 14) is None


def test_a_sim_silent_for_two_weeks_that_wakes_with_megabytes_is_a_spike():
    spike = spike_of(5 * MB, [0] * 14)
    assert spike is not None and spike.factor == pytest.approx(500)


def _usage(sim, product, series: dict[date, int]) -> None:
    SimDailyUsage.objects.bulk_create(
        SimDailyUsage(sim=sim, product=product, day=day, bytes=amount) for day, amount in series.items()
    )


def _steady_then(day_bytes: int) -> dict[date, int]:
    series = {DAY - timedelta(days=offset + 1): amount for offset, amount in enumerate(STEADY)}
    return {**series, DAY: day_bytes}


def test_detection_stores_the_spiking_sims_of_each_product(product, other_product, make_sim):
    spiking, calm, elsewhere = make_sim(product), make_sim(product), make_sim(other_product)
    _usage(spiking, product, _steady_then(8 * MB))
    _usage(calm, product, _steady_then(250 * KB))
    _usage(elsewhere, other_product, _steady_then(9 * MB))

    assert detect_spikes(day=DAY) == 2

    mine = list(spikes_on(product, DAY))
    assert [(s.sim, s.bytes, s.baseline_bytes) for s in mine] == [(spiking, 8 * MB, 200 * KB)]
    assert mine[0].factor == pytest.approx(40)
    assert latest_spike_day(product, today=DAY + timedelta(days=1)) == DAY
    assert latest_spike_day(product, today=DAY + timedelta(days=5)) is None


def test_detecting_a_day_again_replaces_its_spikes(product, make_sim):
    sim = make_sim(product)
    _usage(sim, product, _steady_then(8 * MB))
    detect_spikes(day=DAY)
    SimDailyUsage.objects.filter(sim=sim, day=DAY).update(bytes=210 * KB)

    assert detect_spikes(day=DAY) == 0
    assert not UsageSpike.objects.exists()

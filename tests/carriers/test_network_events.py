"""The simulator's network events (a pure function of ICCID and hour, matching its usage) and their
fetch per carrier account on the periodic tick."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from carriers.adapters.simulator import SimulatorAdapter
from carriers.models import AccountRoutine, CarrierAccount
from carriers.network_events import fetch_events_per_account
from sims.carriers.simulator import Profile, SimulatorCarrier
from sims.carriers.simulator_events import imei_of, network_events
from sims.iccid import luhn_check_digit
from sims.models import Connectivity, NetworkEvent, SimConnectivity, UsageTick
from sims.periodic import run_periodic_work
from tests.conftest import make_iccid

NOW = datetime(2026, 11, 18, 15, 20, tzinfo=UTC)
DAY_START = datetime(2026, 11, 17, tzinfo=UTC)
FLEET = [(f"89490200001{n:08d}", "DE") for n in range(2000)]


def events_of(sims, since=DAY_START, until=DAY_START + timedelta(days=1)):
    return list(network_events(sims, since=since, until=until))


@pytest.fixture(scope="module")
def fleet_day():
    return events_of(FLEET)


def test_the_same_sims_and_hours_give_the_same_events():
    sims = FLEET[:50]
    assert events_of(sims) == events_of(sims)
    # Asked in two halves, the same events with the same ids: a window fetched again counts nothing twice.
    noon = DAY_START + timedelta(hours=12, minutes=30)
    halves = events_of(sims, until=noon) + events_of(sims, since=noon)
    assert sorted(halves, key=lambda row: row.event_id) == sorted(events_of(sims), key=lambda row: row.event_id)


def test_every_event_is_in_its_window_and_ids_are_unique(fleet_day):
    assert all(DAY_START < row.at <= DAY_START + timedelta(days=1) for row in fleet_day)
    assert len({row.event_id for row in fleet_day}) == len(fleet_day)


def test_a_sim_with_usage_in_an_hour_has_a_session_then_with_that_hours_bytes():
    iccid, home = next(sim for sim in FLEET if Profile.of(*sim).daily_bytes)
    usage = list(SimulatorCarrier().usage_records(sims=[(iccid, home)], since=DAY_START, until=DAY_START + timedelta(days=2)))
    usage = [u for u in usage if u.started_at < DAY_START + timedelta(days=1)]
    ends = [row for row in events_of([(iccid, home)]) if row.kind == "session_end"]

    assert [(e.at.hour, e.bytes) for e in ends] == [(u.started_at.hour, u.bytes_up + u.bytes_down) for u in usage]


def test_shares_across_a_fleet_look_like_a_real_one(fleet_day):
    kinds = Counter(row.kind for row in fleet_day)
    sims_by_kind = {kind: {row.iccid for row in fleet_day if row.kind == kind} for kind in kinds}
    silent = {iccid for iccid, home in FLEET if not Profile.of(iccid, home).daily_bytes}
    seen = {row.iccid for row in fleet_day}

    # An attach a day for each SIM with usage, none for the silent ones, most of which never show at all.
    assert len(sims_by_kind["attach"]) == len(FLEET) - len(silent)
    assert not sims_by_kind["attach"] & silent
    assert 0.03 < len(silent) / len(FLEET) < 0.1
    assert len(silent - seen) > len(silent) / 2
    # Sessions most hours of the working day; rejects now and then, with real causes.
    assert kinds["session_start"] == kinds["session_end"] > 5 * kinds["attach"]
    assert 0.01 < kinds["auth_reject"] / len(FLEET) < 0.1
    assert all(row.cause.startswith("#") for row in fleet_day if row.kind == "auth_reject")


def test_roamers_attach_abroad_on_some_days():
    week = list(network_events(FLEET[:300], since=DAY_START - timedelta(days=6), until=DAY_START + timedelta(days=1)))
    abroad = [row for row in week if row.kind == "attach" and row.country != "DE"]

    assert abroad
    assert all(row.country == "AT" and row.operator == "A1 Austria 232-01" for row in abroad)
    assert 0.01 < len(abroad) / sum(row.kind == "attach" for row in week) < 0.1


def test_each_sim_keeps_one_plausible_imei(fleet_day):
    imeis = {(row.iccid, row.imei) for row in fleet_day if row.imei}
    assert len(imeis) == len({iccid for iccid, _ in imeis})
    for _, imei in imeis:
        assert len(imei) == 15 and imei.isdigit() and luhn_check_digit(imei[:14]) == imei[14]
    assert imei_of(FLEET[0][0]) == imei_of(FLEET[0][0])


@pytest.fixture
def account(product):
    return CarrierAccount.objects.create(product=product, name="Simulated EU", adapter="simulator")


def sim_with_sessions():
    while True:
        iccid = make_iccid()
        if Profile.of(iccid, "").daily_bytes:
            return iccid


def test_a_tick_fetches_each_accounts_events_and_keeps_connectivity(product, account, make_sim):
    sim = make_sim(product, iccid=sim_with_sessions(), carrier_account=account)
    make_sim(product, iccid=sim_with_sessions())  # the built-in simulator's: no account, no events fetched
    UsageTick.objects.create(finished_at=NOW, usage_until=NOW - timedelta(hours=20))

    summary = run_periodic_work(now=NOW)

    assert "network events from 1 carrier accounts" in summary
    assert set(NetworkEvent.objects.values_list("sim_id", flat=True)) == {sim.pk}
    state = SimConnectivity.objects.get(sim=sim)
    assert state.status in (Connectivity.ONLINE, Connectivity.ATTACHED)
    assert state.imei == imei_of(sim.iccid)
    assert AccountRoutine.objects.get(account_key=account.pk).events_until == NOW


def test_fetching_a_window_again_counts_nothing_twice(product, account, make_sim):
    make_sim(product, iccid=sim_with_sessions(), carrier_account=account)
    AccountRoutine.objects.create(account_key=account.pk, events_until=NOW - timedelta(hours=6))
    fetch_events_per_account(now=NOW - timedelta(minutes=15))
    count = NetworkEvent.objects.count()

    fetch_events_per_account(now=NOW)

    events = NetworkEvent.objects.all()
    assert events.count() >= count > 0
    assert events.count() == len(set(events.values_list("event_id", flat=True)))


def test_a_carrier_that_does_not_answer_keeps_its_window(product, account, make_sim):
    make_sim(product, iccid=sim_with_sessions(), carrier_account=account)
    AccountRoutine.objects.create(account_key=account.pk, events_until=NOW - timedelta(hours=2))
    account.settings = {"failure_rate": 1}
    account.save()

    assert "Simulated EU did not answer" in fetch_events_per_account(now=NOW)
    assert AccountRoutine.objects.get(account_key=account.pk).events_until == NOW - timedelta(hours=2)
    assert not NetworkEvent.objects.exists()


def test_the_simulator_says_it_gives_network_events():
    from carriers.adapters.base import Capability

    assert Capability.CONNECTIVITY in SimulatorAdapter.capabilities

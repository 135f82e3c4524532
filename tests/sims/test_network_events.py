from datetime import UTC, datetime, timedelta

import pytest

from sims.models import Connectivity, NetworkEvent, SimConnectivity
from sims.network_events import NetworkEventRow, ingest_network_events, network_events_ingested
from tests.conftest import make_iccid

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
T = NOW - timedelta(hours=6)


def event(sim, event_id: str, kind: str, at: datetime = T, **fields) -> NetworkEventRow:
    return NetworkEventRow(event_id, sim.iccid, kind, at, **fields)


def connectivity(sim) -> SimConnectivity:
    return SimConnectivity.objects.get(sim=sim)


@pytest.fixture
def received():
    got: list = []

    def receiver(sender, events, **kwargs):
        got.extend(events)

    network_events_ingested.connect(receiver)
    yield got
    network_events_ingested.disconnect(receiver)


def test_an_attach_makes_a_sim_attached_with_its_network_and_device(sim, received):
    report = ingest_network_events(
        [event(sim, "e1", "attach", imei="356938035643809", operator="Telekom.de 262-01", country="DE", rat="LTE-M")], now=NOW
    )

    assert (report.received, report.ingested, report.duplicates, report.rejected_count) == (1, 1, 0, 0)
    state = connectivity(sim)
    assert (state.status, state.since, state.last_attach_at) == (Connectivity.ATTACHED, T, T)
    assert (state.operator, state.country, state.rat, state.imei) == ("Telekom.de 262-01", "DE", "LTE-M", "356938035643809")
    assert state.product_id == sim.product_id
    assert [(sim_id, row.event_id) for sim_id, _, row in received] == [(sim.pk, "e1")]


def test_a_session_makes_it_online_and_its_end_attached_again(sim):
    ingest_network_events([event(sim, "e1", "attach"), event(sim, "e2", "session_start", T + timedelta(minutes=1))], now=NOW)
    assert connectivity(sim).status == Connectivity.ONLINE
    assert connectivity(sim).since == T + timedelta(minutes=1)

    ingest_network_events([event(sim, "e3", "session_end", T + timedelta(minutes=9), bytes=5000)], now=NOW)

    state = connectivity(sim)
    assert (state.status, state.since, state.last_session_end_at) == (Connectivity.ATTACHED, T + timedelta(minutes=9), T + timedelta(minutes=9))
    assert NetworkEvent.objects.get(event_id="e3").bytes == 5000


def test_a_detach_makes_it_offline_since_then(sim):
    ingest_network_events([event(sim, "e1", "attach"), event(sim, "e2", "detach", T + timedelta(hours=1))], now=NOW)

    state = connectivity(sim)
    assert (state.status, state.since, state.last_attach_at) == (Connectivity.OFFLINE, T + timedelta(hours=1), T)


def test_a_reject_makes_it_offline_with_the_networks_cause(sim):
    ingest_network_events([event(sim, "e1", "auth_reject", cause="Roaming not allowed in this location area")], now=NOW)

    state = connectivity(sim)
    assert (state.status, state.since) == (Connectivity.OFFLINE, T)
    assert (state.last_reject_at, state.last_reject_cause) == (T, "Roaming not allowed in this location area")


def test_a_location_update_moves_the_sim_but_not_its_status(sim):
    ingest_network_events([event(sim, "e1", "attach", operator="Telekom.de 262-01", country="DE", rat="4G")], now=NOW)
    ingest_network_events(
        [event(sim, "e2", "location", T + timedelta(hours=2), operator="A1 Austria 232-01", country="AT", rat="2G", cell="232-01-4411-20931")],
        now=NOW,
    )

    state = connectivity(sim)
    assert (state.status, state.since) == (Connectivity.ATTACHED, T)
    assert (state.operator, state.country, state.rat) == ("A1 Austria 232-01", "AT", "2G")
    assert state.last_event_at == T + timedelta(hours=2)


def test_an_old_event_arriving_late_does_not_move_connectivity_back(sim):
    ingest_network_events(
        [event(sim, "e2", "session_start", T + timedelta(hours=1), operator="Orange F 208-01", country="FR")], now=NOW
    )
    ingest_network_events([event(sim, "e1", "detach", T, operator="Telekom.de 262-01", country="DE")], now=NOW)

    state = connectivity(sim)
    assert (state.status, state.since) == (Connectivity.ONLINE, T + timedelta(hours=1))
    assert (state.operator, state.country, state.last_event_at) == ("Orange F 208-01", "FR", T + timedelta(hours=1))
    assert NetworkEvent.objects.count() == 2  # kept in the history all the same


def test_events_of_a_chunk_in_any_order_end_in_the_newest_state(sim):
    rows = [
        event(sim, "e3", "session_end", T + timedelta(minutes=30)),
        event(sim, "e1", "attach", T),
        event(sim, "e2", "session_start", T + timedelta(minutes=5)),
    ]
    ingest_network_events(rows, now=NOW)

    state = connectivity(sim)
    assert (state.status, state.since) == (Connectivity.ATTACHED, T + timedelta(minutes=30))


def test_an_attach_after_a_reset_ends_it(sim):
    SimConnectivity.objects.create(sim=sim, status=Connectivity.OFFLINE, since=T - timedelta(days=2), reset_requested_at=T - timedelta(minutes=5))

    ingest_network_events([event(sim, "e1", "attach")], now=NOW)

    assert connectivity(sim).reset_requested_at is None
    assert connectivity(sim).status == Connectivity.ATTACHED


def test_ingesting_twice_stores_each_event_once_and_says_nothing_new(sim, received):
    rows = [event(sim, "e1", "attach"), event(sim, "e2", "session_start", T + timedelta(minutes=1))]
    ingest_network_events(rows, now=NOW)
    received.clear()

    report = ingest_network_events(rows + [rows[0]], now=NOW)

    assert (report.received, report.ingested, report.duplicates) == (3, 0, 3)
    assert NetworkEvent.objects.count() == 2
    assert received == []


def test_each_bad_event_is_rejected_with_its_line_and_reason(sim):
    rows = [
        NetworkEventRow("e1", make_iccid(), "attach", T, line=1),
        NetworkEventRow("e2", sim.iccid, "reboot", T, line=2),
        NetworkEventRow("e3", sim.iccid, "attach", NOW + timedelta(hours=1), line=3),
        NetworkEventRow("e4", sim.iccid, "attach", T, imei="35693803564380X", line=4),
        NetworkEventRow("e5", sim.iccid, "attach", T.replace(tzinfo=None), line=5),
        NetworkEventRow("", sim.iccid, "attach", T, line=6),
        NetworkEventRow("e7", sim.iccid, "location", T, country="XX", line=7),
        NetworkEventRow("e8", sim.iccid, "attach", T, line=8),
    ]

    report = ingest_network_events(rows, now=NOW)

    assert (report.received, report.ingested, report.rejected_count) == (8, 1, 7)
    reasons = {rejection.line: rejection.reason for rejection in report.rejected}
    assert "No SIM has ICCID" in reasons[1]
    assert "'reboot' is not a kind of network event" in reasons[2]
    assert "in the future" in reasons[3]
    assert "IMEI is 15 digits" in reasons[4]
    assert "no time zone" in reasons[5]
    assert "no event id" in reasons[6]
    assert "'XX' is not an ISO 3166 country code" in reasons[7]
    assert list(NetworkEvent.objects.values_list("event_id", flat=True)) == ["e8"]


def test_a_chunk_costs_the_same_queries_for_one_sim_or_two_hundred(product, make_sim, django_assert_max_num_queries):
    sims = [make_sim(product) for _ in range(200)]
    rows = [
        event(sim, f"{sim.pk}-{n}", kind, T + timedelta(minutes=n))
        for sim in sims
        for n, kind in enumerate(["attach", "session_start", "location", "session_end", "detach"])
    ]

    with django_assert_max_num_queries(16):
        report = ingest_network_events(rows, now=NOW)

    assert report.ingested == 1000
    assert SimConnectivity.objects.filter(status=Connectivity.OFFLINE).count() == 200


def test_a_chunk_of_old_and_new_events_stores_only_the_new_ones(sim, received):
    ingest_network_events([event(sim, "e1", "attach")], now=NOW)
    received.clear()

    report = ingest_network_events([event(sim, "e1", "attach"), event(sim, "e2", "detach", T + timedelta(hours=1))], now=NOW)

    assert (report.ingested, report.duplicates) == (1, 1)
    assert [row.event_id for _, _, row in received] == ["e2"]
    assert connectivity(sim).status == Connectivity.OFFLINE


def test_a_chunk_whose_stored_events_the_sample_misses_still_stores_only_the_new_ones(sim, received, monkeypatch):
    ingest_network_events([event(sim, "e2", "attach")], now=NOW)
    received.clear()
    monkeypatch.setattr("sims.network_events.PROBED", 1)  # only the chunk's first event is looked up

    report = ingest_network_events(
        [event(sim, "e1", "session_start", T + timedelta(minutes=1)), event(sim, "e2", "attach"), event(sim, "e3", "detach", T + timedelta(hours=1))],
        now=NOW,
    )

    assert (report.ingested, report.duplicates) == (2, 1)
    assert sorted(row.event_id for _, _, row in received) == ["e1", "e3"]
    assert NetworkEvent.objects.count() == 3
    assert connectivity(sim).status == Connectivity.OFFLINE

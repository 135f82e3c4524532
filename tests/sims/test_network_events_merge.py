"""Connectivity kept from network events as deliveries come: late, out of order, at the same time,
twice. The merge runs in SQL; `Reference` is the per-SIM rule it must keep (each delivery's new
events applied oldest first, in the order received when at the same time), as the Python merge
it replaced applied it."""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sims.models import Connectivity, SimConnectivity
from sims.network_events import STATUS_AFTER, NetworkEventRow, ingest_network_events

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
T = NOW - timedelta(hours=6)
FIELDS = ["status", "since", "last_event_at", "last_attach_at", "last_session_start_at", "last_session_end_at", "operator",
          "country", "rat", "imei", "last_reject_at", "last_reject_cause", "reset_requested_at"]  # fmt: skip


def at(minutes: int) -> datetime:
    return T + timedelta(minutes=minutes)


def event(sim, event_id: str, kind: str, minutes: int, **fields) -> NetworkEventRow:
    return NetworkEventRow(event_id, sim.iccid, kind, at(minutes), **fields)


def state(sim) -> SimConnectivity:
    return SimConnectivity.objects.get(sim=sim)


def test_events_at_the_same_time_count_in_the_order_received(sim):
    ingest_network_events([event(sim, "e1", "session_start", 0), event(sim, "e2", "detach", 0)], now=NOW)
    assert (state(sim).status, state(sim).since) == (Connectivity.OFFLINE, at(0))

    # A later delivery at that same time still counts: no older than what set the status.
    ingest_network_events([event(sim, "e3", "attach", 0, operator="Telekom.de 262-01")], now=NOW)
    assert (state(sim).status, state(sim).since, state(sim).operator) == (Connectivity.ATTACHED, at(0), "Telekom.de 262-01")


def test_a_late_older_event_changes_nothing_newer(sim):
    ingest_network_events(
        [event(sim, "e2", "auth_reject", 60, cause="#13 Roaming not allowed", operator="Orange F 208-01", country="FR")], now=NOW
    )
    ingest_network_events(
        [event(sim, "e1", "auth_reject", 30, cause="#11 PLMN not allowed", operator="Telekom.de 262-01", country="DE", rat="4G")],
        now=NOW,
    )

    got = state(sim)
    assert (got.status, got.since, got.last_reject_at, got.last_reject_cause) == (Connectivity.OFFLINE, at(60), at(60), "#13 Roaming not allowed")
    # Where the SIM is comes from the newest event that says; the older one's radio fills no gap either.
    assert (got.operator, got.country, got.rat, got.last_event_at) == ("Orange F 208-01", "FR", "", at(60))


def test_a_late_delivery_overlapping_the_stored_status_takes_its_events_from_then_on(sim):
    ingest_network_events([event(sim, "e1", "attach", 0), event(sim, "e2", "detach", 60)], now=NOW)

    # Sessions from before the detach (already past) and after it: online since the first one after it.
    ingest_network_events(
        [event(sim, "e3", "session_start", 30), event(sim, "e4", "session_start", 90), event(sim, "e5", "session_start", 120)], now=NOW
    )

    got = state(sim)
    assert (got.status, got.since, got.last_session_start_at) == (Connectivity.ONLINE, at(90), at(120))


def test_an_event_twice_in_one_delivery_counts_once(sim):
    rows = [event(sim, "e1", "attach", 0), event(sim, "e2", "session_start", 10), event(sim, "e1", "attach", 0)]

    report = ingest_network_events(rows, now=NOW)

    assert (report.ingested, report.duplicates, report.sims) == (2, 1, 1)
    assert (state(sim).status, state(sim).since) == (Connectivity.ONLINE, at(10))


def test_an_attach_older_than_the_reset_leaves_it_requested(sim):
    SimConnectivity.objects.create(sim=sim, status=Connectivity.OFFLINE, since=at(-60), reset_requested_at=at(30))

    ingest_network_events([event(sim, "e1", "attach", 0)], now=NOW)
    assert state(sim).reset_requested_at == at(30)

    ingest_network_events([event(sim, "e2", "attach", 30)], now=NOW)
    assert state(sim).reset_requested_at is None


@dataclass
class Reference:
    """One SIM's connectivity by the rule: the events of a delivery applied oldest first."""

    status: str = Connectivity.UNKNOWN
    since: datetime | None = None
    last_event_at: datetime | None = None
    last_attach_at: datetime | None = None
    last_session_start_at: datetime | None = None
    last_session_end_at: datetime | None = None
    operator: str = ""
    country: str = ""
    rat: str = ""
    imei: str = ""
    last_reject_at: datetime | None = None
    last_reject_cause: str = ""
    reset_requested_at: datetime | None = None

    def apply(self, row: NetworkEventRow) -> None:
        status = STATUS_AFTER.get(row.kind)
        times = [t for t in (self.since, self.last_attach_at, self.last_session_start_at, self.last_session_end_at, self.last_reject_at) if t]
        if status is not None and (not times or row.at >= max(times)) and (status != self.status or self.since is None):
            self.status, self.since = status, row.at
        later = {"attach": "last_attach_at", "session_start": "last_session_start_at", "session_end": "last_session_end_at"}
        if row.kind in later and (getattr(self, later[row.kind]) is None or row.at > getattr(self, later[row.kind])):
            setattr(self, later[row.kind], row.at)
        if row.kind == "attach" and self.reset_requested_at is not None and row.at >= self.reset_requested_at:
            self.reset_requested_at = None
        if row.kind == "auth_reject" and (self.last_reject_at is None or row.at >= self.last_reject_at):
            self.last_reject_at, self.last_reject_cause = row.at, row.cause
        if self.last_event_at is None or row.at >= self.last_event_at:
            self.last_event_at = row.at
            for name in ("operator", "country", "rat", "imei"):
                if getattr(row, name):
                    setattr(self, name, getattr(row, name))


def test_random_deliveries_end_as_the_rule_says(product, make_sim):
    """Deliveries of events out of order, at the same times, some late, some twice, some SIMs with a
    stored row and a reset: each SIM ends as the rule applied delivery by delivery says."""
    randomness = random.Random(17)
    sims = [make_sim(product) for _ in range(40)]
    expected = {sim.pk: Reference() for sim in sims}
    for sim in sims[::4]:  # stored before any event: a reset requested
        reset = at(randomness.randrange(0, 100, 10))
        SimConnectivity.objects.create(sim=sim, status=Connectivity.OFFLINE, since=at(-600), reset_requested_at=reset)
        expected[sim.pk] = Reference(status=Connectivity.OFFLINE, since=at(-600), reset_requested_at=reset)
    kinds = ["attach", "location", "session_start", "session_end", "detach", "auth_reject"]
    seen: set[str] = set()
    for delivery in range(6):
        rows = []
        for n in range(160):
            sim = randomness.choice(sims)
            kind = randomness.choice(kinds)
            if randomness.random() < 0.2 and seen:  # sent again, perhaps in this very delivery
                event_id = randomness.choice(sorted(seen))
            else:
                event_id = f"d{delivery}-{n}"
            rows.append(
                NetworkEventRow(
                    event_id, sim.iccid, kind, at(randomness.randrange(0, 120, 10)),  # few times: many ties
                    operator=randomness.choice(["", "Telekom.de 262-01", "Orange F 208-01"]),
                    country=randomness.choice(["", "DE", "FR"]), rat=randomness.choice(["", "4G", "LTE-M"]),
                    imei=randomness.choice(["", "356938035643809", "490154203237518"]),
                    cause=f"#{n} cause" if kind == "auth_reject" else "",
                )
            )  # fmt: skip
        by_iccid = {sim.iccid: sim.pk for sim in sims}
        new: dict[int, list[NetworkEventRow]] = {}
        for row in rows:
            if row.event_id not in seen:
                seen.add(row.event_id)
                new.setdefault(by_iccid[row.iccid], []).append(row)
        for sim_id, events in new.items():
            for row in sorted(events, key=lambda row: row.at):
                expected[sim_id].apply(row)

        ingest_network_events(rows, now=NOW)

    stored = {row["sim_id"]: row for row in SimConnectivity.objects.values("sim_id", *FIELDS)}
    for sim in sims:
        if sim.pk in stored:
            got = {name: stored[sim.pk][name] for name in FIELDS}
            assert got == {name: getattr(expected[sim.pk], name) for name in FIELDS}, sim.pk

"""The fleet header's connectivity counts are kept by database triggers on both databases (migrations 0023
and 0024): whatever writes a SIM's connectivity or moves the SIM, they equal a real count of its product."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from imports.importing import import_iccids
from sims.connectivity_counts import FleetConnectivity, fleet_connectivity, fold_connectivity_deltas
from sims.lifecycle import Action, Actor, apply_action
from sims.models import Connectivity, Sim, SimConnectivity, SimConnectivityDelta, SimStateDelta
from sims.network_events import NetworkEventRow, ingest_network_events

HTMX = {"HX-Request": "true"}


def real(product, now) -> FleetConnectivity:
    """The counts from the SIMs themselves, as the list's filters select them."""
    rows = SimConnectivity.objects.filter(sim__product=product)
    offline = rows.filter(status=Connectivity.OFFLINE)
    seen = rows.exclude(status=Connectivity.UNKNOWN).count()
    return FleetConnectivity(
        online=rows.filter(status=Connectivity.ONLINE).count(),
        attached=rows.filter(status=Connectivity.ATTACHED).count(),
        offline=offline.count(),
        offline_over_24h=offline.filter(since__lt=now - timedelta(hours=24)).count(),
        never_seen=product.sims.count() - seen,
    )


def ingest(now, *events: tuple) -> None:
    rows = [NetworkEventRow(f"e{i}-{sim.iccid}", sim.iccid, kind, at) for i, (sim, kind, at) in enumerate(events)]
    report = ingest_network_events(rows, now=now)
    assert report.rejected_count == 0


@pytest.fixture
def fleet(product, make_sim):
    """Six SIMs of the product after their network events: 1 online, 1 attached, 3 offline (2 for more than
    24 h), 1 never seen."""
    now = timezone.now()
    sims = [make_sim(product) for _ in range(6)]
    ingest(
        now,
        (sims[0], "attach", now - timedelta(hours=3)),
        (sims[0], "session_start", now - timedelta(hours=2)),
        (sims[1], "attach", now - timedelta(hours=1)),
        (sims[2], "detach", now - timedelta(hours=2)),
        (sims[3], "detach", now - timedelta(days=2)),
        (sims[4], "auth_reject", now - timedelta(days=3)),
    )
    return sims


def test_the_counts_follow_ingestion(product, fleet):
    now = timezone.now()
    assert fleet_connectivity(product, now=now) == real(product, now) == FleetConnectivity(1, 1, 3, 2, 1)

    ingest(
        now,
        (fleet[3], "attach", now - timedelta(minutes=30)),  # back from two days offline
        (fleet[0], "session_end", now - timedelta(minutes=20)),
        (fleet[0], "detach", now - timedelta(minutes=10)),
        (fleet[5], "attach", now - timedelta(minutes=5)),  # seen at last
    )

    assert fleet_connectivity(product, now=now) == real(product, now) == FleetConnectivity(0, 3, 3, 1, 0)


def test_a_late_event_older_than_the_stored_status_changes_no_count(product, fleet):
    now = timezone.now()
    ingest(now, (fleet[1], "detach", now - timedelta(hours=5)))  # before its attach an hour ago
    assert fleet_connectivity(product, now=now) == real(product, now) == FleetConnectivity(1, 1, 3, 2, 1)


def test_a_sim_removed_from_the_product_leaves_its_counts(product, fleet):
    now = timezone.now()
    apply_action(sims=[fleet[0].pk, fleet[4].pk], action=Action.REMOVE, actor=Actor.system("test"))

    assert fleet_connectivity(product, now=now) == real(product, now) == FleetConnectivity(0, 1, 2, 1, 1)
    # Its connectivity goes with it: the "Offline for" sort and the counts read the row by product.
    assert SimConnectivity.objects.get(sim=fleet[4]).product_id is None


def test_a_sim_imported_into_another_product_counts_there(product, other_product, owner, fleet):
    now = timezone.now()
    apply_action(sims=[fleet[3].pk], action=Action.REMOVE, actor=Actor.system("test"))
    import_iccids(product=other_product, user=owner, data=fleet[3].iccid, country="DE")

    assert fleet_connectivity(product, now=now) == real(product, now) == FleetConnectivity(1, 1, 2, 1, 1)
    assert fleet_connectivity(other_product, now=now) == real(other_product, now) == FleetConnectivity(0, 0, 1, 1, 0)


def test_a_deleted_sim_leaves_its_counts(product, fleet):
    now = timezone.now()
    fleet[2].delete()  # a SIM without history may be deleted: its connectivity goes with it
    assert fleet_connectivity(product, now=now) == real(product, now) == FleetConnectivity(1, 1, 2, 2, 1)


def test_folding_keeps_the_counts(product, fleet):
    now = timezone.now()
    fold_connectivity_deltas()
    assert fleet_connectivity(product, now=now) == FleetConnectivity(1, 1, 3, 2, 1)


def test_the_header_reads_counters_not_the_fleet(owner_client, product, fleet, make_sim, django_assert_max_num_queries):
    """Whatever the fleet's size, the header's request is a few queries; the statuses are summed from a
    few counter rows on both databases, never counted from the connectivity of every SIM."""
    more = [make_sim(product) for _ in range(20)]
    ingest(timezone.now(), *((sim, "attach", timezone.now() - timedelta(minutes=1)) for sim in more))

    with django_assert_max_num_queries(6), CaptureQueriesContext(connection) as queries:
        response = owner_client.get(reverse("fleet_connectivity", args=[product.slug]), headers=HTMX)

    assert "21 attached" in " ".join(re.sub(r"<[^>]+>", "", response.content.decode()).split())
    per_status = [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"]]
    assert per_status and all(SimConnectivityDelta._meta.db_table in sql for sql in per_status)


@pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL's flush truncates: no trigger fires")
def test_a_flush_emptying_the_counters_before_the_sims_leaves_no_count_behind(product, fleet):
    """Django's flush deletes every table's rows in any order (a test run's, the benches'): on SQLite,
    SIMs deleted after their counters must not leave negative counts for the next product of that id."""
    SimConnectivityDelta.objects.all().delete()
    SimStateDelta.objects.all().delete()
    SimConnectivity.objects.all().delete()
    Sim.objects.all().delete()
    assert not SimConnectivityDelta.objects.exists()
    assert not SimStateDelta.objects.exists()


def test_offline_for_more_than_24_hours_is_exact_to_the_second_whatever_the_time_of_the_hour(product, make_sim):
    """The count sums hourly counters (migration 0026) and counts the rest of the first hour: SIMs that went
    offline either side of the 24 hours, in the same hour as the bound and in others, and while they stay offline."""
    now = timezone.now()
    ago = [timedelta(hours=25), timedelta(hours=24, minutes=1), timedelta(hours=24, seconds=1), timedelta(hours=24),
           timedelta(hours=23, minutes=59), timedelta(hours=23, minutes=1), timedelta(hours=2), None]  # fmt: skip
    rows = [
        SimConnectivity.objects.create(sim=make_sim(product), product=product, status=Connectivity.OFFLINE, since=now - a if a else None)
        for a in ago
    ]

    def agrees() -> None:
        for later in (timedelta(0), timedelta(seconds=1), timedelta(minutes=17), timedelta(minutes=59, seconds=59)):
            assert fleet_connectivity(product, now=now + later) == real(product, now + later), later

    agrees()
    SimConnectivity.objects.filter(pk=rows[4].pk).update(since=now - timedelta(hours=30))  # still offline, since earlier
    SimConnectivity.objects.filter(pk=rows[0].pk).update(since=now - timedelta(minutes=5))
    SimConnectivity.objects.filter(pk=rows[5].pk).update(status=Connectivity.ONLINE, since=now)
    agrees()
    fold_connectivity_deltas()
    agrees()
    assert fleet_connectivity(product, now=now).offline_over_24h == 3  # 30 h, 24 h 1 min, 24 h 1 s

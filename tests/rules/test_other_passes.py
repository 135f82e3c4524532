"""Rules on network events (attached in a country, IMEI changed), on state changes, and on the periodic
tick (no data session for N hours, yesterday's spikes)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from devices.assignment import assign_sim
from devices.models import Device
from rules.models import RuleFiring
from rules.tick_pass import run_tick_rules
from sims.lifecycle import Action, Actor, apply_action
from sims.models import Connectivity, NetworkEvent, SimConnectivity, UsageSpike
from sims.network_events import NetworkEventRow, ingest_network_events
from tests.conftest import publish_queued_events
from tests.devices.test_assignment import imei_of

pytestmark = pytest.mark.django_db
WEBHOOK = [{"kind": "webhook"}]


def fired(rule) -> set[str]:
    return set(RuleFiring.objects.filter(rule=rule).values_list("sim__iccid", flat=True))


def event(sim, kind="attach", **fields) -> NetworkEventRow:
    fields.setdefault("at", timezone.now() - timedelta(minutes=5))
    return NetworkEventRow(event_id=f"{sim.iccid}-{kind}-{fields.get('country', '')}-{fields.get('imei', '')}", iccid=sim.iccid, kind=kind, **fields)


def test_attached_in_a_rate_zone_reads_the_zones_countries(make_rule, roomy_product, make_sim):
    from billing.models import ZoneCountry

    zone = ZoneCountry.objects.get(country="FR").zone
    rule = make_rule(condition_kind="country", condition={"zone": zone.code}, actions=WEBHOOK)
    in_france, elsewhere = make_sim(roomy_product), make_sim(roomy_product)
    outside = next(code for code in ("US", "BR", "JP", "AU") if ZoneCountry.objects.get(country=code).zone_id != zone.pk)
    ingest_network_events([event(in_france, country="FR"), event(elsewhere, country=outside)])
    assert list(RuleFiring.objects.filter(rule=rule).values_list("sim_id", "figures")) == [(in_france.pk, {"country": "FR"})]


def test_attached_in_a_country(make_rule, roomy_product, make_sim):
    rule = make_rule(condition_kind="country", condition={"countries": ["FR", "ES"]}, actions=WEBHOOK)
    in_france, in_germany, detached = make_sim(roomy_product), make_sim(roomy_product), make_sim(roomy_product)
    ingest_network_events([event(in_france, country="FR"), event(in_germany, country="DE"), event(detached, "detach", country="ES")])
    assert fired(rule) == {in_france.iccid}
    assert RuleFiring.objects.get(rule=rule).figures == {"country": "FR"}


def test_imei_changed_when_the_network_moves_the_sim_to_another_device(make_rule, roomy_product, make_sim):
    rule = make_rule(condition_kind="imei_changed", condition={}, actions=WEBHOOK)
    old = Device.objects.create(product=roomy_product, device_id="old", imei=imei_of("35332011", "000001"))
    moved, first_seen, same = make_sim(roomy_product), make_sim(roomy_product), make_sim(roomy_product)
    assign_sim(sim=moved, device=old, source="console", at=timezone.now() - timedelta(days=3))
    same_device = Device.objects.create(product=roomy_product, device_id="same", imei=imei_of("35332011", "000002"))
    assign_sim(sim=same, device=same_device, source="console", at=timezone.now() - timedelta(days=3))
    ingest_network_events(
        [event(moved, imei=imei_of("35332011", "000003")), event(first_seen, imei=imei_of("35332011", "000004")), event(same, imei=same_device.imei)]
    )
    assert fired(rule) == {moved.iccid}


def test_state_changed_to(make_rule, roomy_product, make_sim):
    rule = make_rule(condition_kind="state_changed", condition={"state": "suspended"}, actions=WEBHOOK)
    suspended, paused = make_sim(roomy_product), make_sim(roomy_product)
    apply_action(sims=[suspended.pk], action=Action.DEACTIVATE, actor=Actor.system("test"))
    apply_action(sims=[paused.pk], action=Action.PAUSE, actor=Actor.system("test"))
    publish_queued_events()
    assert fired(rule) == {suspended.iccid}


def test_no_data_session_for_hours_on_the_tick(make_rule, roomy_product, make_sim):
    rule = make_rule(condition_kind="no_session", condition={"hours": 24}, actions=WEBHOOK)
    now = timezone.now()
    silent, recent, online = make_sim(roomy_product), make_sim(roomy_product), make_sim(roomy_product)
    rows = [
        (silent, Connectivity.ATTACHED, now - timedelta(hours=30)),
        (recent, Connectivity.ATTACHED, now - timedelta(hours=2)),
        (online, Connectivity.ONLINE, now - timedelta(hours=40)),
    ]
    for sim, status, last in rows:
        SimConnectivity.objects.create(sim=sim, product=roomy_product, status=status, last_session_end_at=last, last_session_start_at=last)
    run_tick_rules(now=now)
    # The next tick, in the same day's window whatever the clock (at 23:58, a quarter of an hour before).
    next_tick = now + timedelta(minutes=15)
    run_tick_rules(now=next_tick if next_tick.date() == now.date() else now - timedelta(minutes=15))
    assert fired(rule) == {silent.iccid}
    assert RuleFiring.objects.filter(rule=rule).count() == 1


def test_yesterdays_spikes_on_the_tick_at_the_rules_factor(make_rule, roomy_product, make_sim):
    rule = make_rule(condition_kind="spike", condition={"factor": 10}, actions=WEBHOOK)
    now = timezone.now()
    yesterday = (now - timedelta(days=1)).date()
    big, small = make_sim(roomy_product), make_sim(roomy_product)
    for sim, factor in ((big, 25.0), (small, 4.0)):
        UsageSpike.objects.create(product=roomy_product, sim=sim, day=yesterday, bytes=50_000_000, baseline_bytes=10, spread_bytes=1, factor=factor)
    run_tick_rules(now=now)
    assert fired(rule) == {big.iccid}
    assert RuleFiring.objects.get(rule=rule).figures["factor"] == 25.0



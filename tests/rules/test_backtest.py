"""The backtest of a rule: over the kept history, each condition kind finds the firings the live passes would
have recorded, in the rule's scope, once per SIM and window, writing nothing; a kind whose history is not kept
says so; and, replayed day by day through the live path, random usage histories fire as often as the backtest says."""

from datetime import UTC, date, datetime, time, timedelta
from itertools import count

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.assignment import assign_sim
from devices.models import Device
from products.models import Product
from rules.backtest import Backtest, backtest, compare, replay_moment
from rules.models import Rule, RuleFiring
from sims.lifecycle import Action, Actor, apply_action
from sims.models import Sim, State, UsageSpike
from sims.network_events import ingest_network_events
from tests.devices.test_assignment import imei_of
from tests.rules.conftest import ingest, usage
from tests.rules.test_other_passes import event

pytestmark = pytest.mark.django_db
MB = 1_000_000


def unsaved(product, **fields) -> Rule:
    values = {"name": "Heavy day", "condition_kind": "usage_day", "condition": {"mb": 50}, "actions": [{"kind": "pause"}]}
    rule = Rule(product=product, **(values | fields))
    rule.full_clean()
    return rule


def today() -> date:
    return timezone.now().date()


def noon(days_ago: int) -> datetime:
    return datetime.combine(today() - timedelta(days=days_ago), time(12), tzinfo=UTC)


def used(sim, mb: float, days_ago: int, *, sms: int = 0) -> None:
    """A day's usage, ingested at that day's end, as the backtest replays it."""
    at = noon(days_ago)
    ingest(usage(sim, mb, at, sms=sms), now=replay_moment(at.date(), timezone.now()))


def one_month_days() -> tuple[int, int]:
    """Two consecutive past days in the same month, as days ago."""
    yesterday = today() - timedelta(days=1)
    return (2, 1) if yesterday.day >= 2 else (3, 2)


def test_a_day_over_the_amount_and_nothing_written(roomy_product, make_sim):
    heavy, light = make_sim(roomy_product), make_sim(roomy_product)
    used(heavy, 60, 3), used(heavy, 20, 2), used(light, 40, 3)
    result = backtest(unsaved(roomy_product), now=timezone.now())

    assert (result.firings, result.sims, result.caveat, result.replayed) == (1, 1, "", True)
    assert len(result.per_day) == 30 and result.per_day[0][0] == today() - timedelta(days=29) and result.per_day[-1][0] == today()
    assert dict(result.per_day)[today() - timedelta(days=3)] == 1 and sum(n for _, n in result.per_day) == 1
    [firing] = result.sample
    assert (firing.iccid, firing.when, firing.figures) == (heavy.iccid, today() - timedelta(days=3), {"bytes": 60 * MB, "day": str(today() - timedelta(days=3))})
    assert not RuleFiring.objects.exists()


def test_history_older_than_the_days_is_left_out(roomy_product, make_sim):
    sim = make_sim(roomy_product)
    used(sim, 60, 31), used(sim, 60, 5)
    assert backtest(unsaved(roomy_product), now=timezone.now()).firings == 1
    assert backtest(unsaved(roomy_product), now=timezone.now(), days=3).firings == 0


def test_sms_in_a_day(roomy_product, make_sim):
    chatty, quiet = make_sim(roomy_product), make_sim(roomy_product)
    used(chatty, 1, 2, sms=12), used(quiet, 1, 2, sms=3)
    result = backtest(unsaved(roomy_product, condition_kind="sms_count", condition={"count": 10}), now=timezone.now())
    assert (result.firings, result.sample[0].iccid, result.sample[0].figures["sms"]) == (1, chatty.iccid, 12)


def test_the_period_adds_its_days(roomy_product, make_sim):
    over, under = make_sim(roomy_product), make_sim(roomy_product)
    first, second = one_month_days()
    used(over, 30, first), used(over, 30, second), used(under, 30, first), used(under, 10, second)
    rule = unsaved(roomy_product, condition_kind="usage_period", condition={"mb": 50})
    result = backtest(rule, now=timezone.now())
    assert (result.firings, result.sims, result.sample[0].iccid, result.sample[0].figures["bytes"]) == (1, 1, over.iccid, 60 * MB)


def test_a_period_window_fires_once_in_the_period(roomy_product, make_sim):
    sim = make_sim(roomy_product)
    first, second = one_month_days()
    used(sim, 60, first), used(sim, 60, second)
    day_window = backtest(unsaved(roomy_product), now=timezone.now())
    period_window = backtest(unsaved(roomy_product, window_kind="period"), now=timezone.now())
    assert (day_window.firings, period_window.firings) == (2, 1)
    assert period_window.sample[0].when == today() - timedelta(days=first)


def test_a_rolling_window_sums_the_days_it_covers(roomy_product, make_sim):
    over, apart = make_sim(roomy_product), make_sim(roomy_product)
    used(over, 30, 3), used(over, 30, 2), used(apart, 30, 6), used(apart, 30, 2)
    rule = unsaved(roomy_product, condition_kind="usage_rolling", condition={"mb": 50, "hours": 48})
    result = backtest(rule, now=timezone.now())
    assert (result.firings, result.sample[0].iccid, result.sample[0].figures["bytes"], result.caveat) == (1, over.iccid, 60 * MB, "")
    odd = backtest(unsaved(roomy_product, condition_kind="usage_rolling", condition={"mb": 50, "hours": 30}), now=timezone.now())
    assert "whole days" in odd.caveat


def test_spikes_at_the_rules_factor(roomy_product, make_sim):
    big, small = make_sim(roomy_product), make_sim(roomy_product)
    for sim, factor in ((big, 5.0), (small, 2.0)):
        UsageSpike.objects.create(product=roomy_product, sim=sim, day=today() - timedelta(days=4), bytes=90 * MB, baseline_bytes=MB, spread_bytes=MB, factor=factor)
    assert backtest(unsaved(roomy_product, condition_kind="spike", condition={}), now=timezone.now()).firings == 2
    result = backtest(unsaved(roomy_product, condition_kind="spike", condition={"factor": 3}), now=timezone.now())
    assert (result.firings, result.sample[0].iccid, result.sample[0].figures["factor"]) == (1, big.iccid, 5.0)


def test_state_changed_to(roomy_product, make_sim):
    suspended, paused = make_sim(roomy_product), make_sim(roomy_product)
    apply_action(sims=[suspended.pk], action=Action.DEACTIVATE, actor=Actor.system("test"))
    apply_action(sims=[paused.pk], action=Action.PAUSE, actor=Actor.system("test"))
    result = backtest(unsaved(roomy_product, condition_kind="state_changed", condition={"state": "suspended"}), now=timezone.now())
    assert (result.firings, result.sample[0].iccid, result.sample[0].figures) == (1, suspended.iccid, {"state": "suspended"})
    assert isinstance(result.sample[0].when, datetime)


def test_attached_in_a_country(roomy_product, make_sim):
    in_france, in_germany = make_sim(roomy_product), make_sim(roomy_product)
    ingest_network_events([event(in_france, country="FR"), event(in_germany, country="DE")])
    result = backtest(unsaved(roomy_product, condition_kind="country", condition={"countries": ["FR", "ES"]}), now=timezone.now())
    assert (result.firings, result.sample[0].iccid, result.sample[0].figures) == (1, in_france.iccid, {"country": "FR"})
    from billing.models import ZoneCountry

    zoned = unsaved(roomy_product, condition_kind="country", condition={"zone": ZoneCountry.objects.get(country="FR").zone.code})
    assert backtest(zoned, now=timezone.now()).firings == 1 + (ZoneCountry.objects.get(country="DE").zone_id == ZoneCountry.objects.get(country="FR").zone_id)


def test_imei_changed(roomy_product, make_sim):
    old = Device.objects.create(product=roomy_product, device_id="old", imei=imei_of("35332011", "000001"))
    moved, first_seen = make_sim(roomy_product), make_sim(roomy_product)
    assign_sim(sim=moved, device=old, source="console", at=timezone.now() - timedelta(days=3))
    ingest_network_events([event(moved, imei=imei_of("35332011", "000003")), event(first_seen, imei=imei_of("35332011", "000004"))])
    result = backtest(unsaved(roomy_product, condition_kind="imei_changed", condition={}), now=timezone.now())
    assert (result.firings, result.sample[0].iccid) == (1, moved.iccid)


def test_no_session_is_not_replayed_and_says_why(roomy_product):
    result = backtest(unsaved(roomy_product, condition_kind="no_session", condition={"hours": 24}), now=timezone.now())
    assert (result.replayed, result.firings, len(result.per_day)) == (False, 0, 30)
    assert "Not replayed" in result.caveat and "connectivity" in result.caveat


@pytest.mark.parametrize(
    "kind, condition, why",
    [("cost_over_budget", {"amount": 100}, "past estimates are not kept"), ("carrier_failures", {"percent": 10}, "kept for a week")],
)
def test_conditions_about_the_product_are_not_replayed_and_say_why(roomy_product, kind, condition, why):
    rule = unsaved(roomy_product, condition_kind=kind, condition=condition, actions=[{"kind": "webhook"}])
    result = backtest(rule, now=timezone.now())
    assert (result.replayed, result.firings) == (False, 0)
    assert why in result.caveat


def test_a_window_of_hours_says_it_is_placed_at_the_days_end(roomy_product, make_sim):
    sim = make_sim(roomy_product)
    used(sim, 60, 2)
    result = backtest(unsaved(roomy_product, window_kind="hours", window_hours=6), now=timezone.now())
    assert result.firings == 1 and "6-hour window" in result.caveat


def test_the_scope_and_the_product_are_honoured(roomy_product, other_product, make_sim):
    fridge = Device.objects.create(product=roomy_product, device_id="f1", tags=["fridge"], imei="353320110000001")
    in_fridge, loose, elsewhere = make_sim(roomy_product, device=fridge), make_sim(roomy_product), make_sim(other_product)
    for sim in (in_fridge, loose, elsewhere):
        used(sim, 90, 2)
    assert backtest(unsaved(roomy_product), now=timezone.now()).sims == 2
    assert [f.iccid for f in backtest(unsaved(roomy_product, scope_kind="tag", scope_value="fridge"), now=timezone.now()).sample] == [in_fridge.iccid]
    assert backtest(unsaved(roomy_product, scope_kind="tac", scope_value="86000000"), now=timezone.now()).firings == 0
    by_filter = backtest(unsaved(roomy_product, scope_kind="filter", scope_value=f"q={loose.iccid}"), now=timezone.now())
    assert [f.iccid for f in by_filter.sample] == [loose.iccid]


def test_the_sample_is_the_newest_twenty(roomy_product, make_sim):
    sims = [make_sim(roomy_product) for _ in range(25)]
    for index, sim in enumerate(sims):
        used(sim, 60, 2 + index % 5)
    result = backtest(unsaved(roomy_product), now=timezone.now())
    assert (result.firings, len(result.sample)) == (25, 20)
    assert [f.when for f in result.sample] == sorted((f.when for f in result.sample), reverse=True)
    assert result.sample[0].when == today() - timedelta(days=2)


def _result(firings: int, sims: int = 1) -> Backtest:
    return Backtest(firings=firings, sims=sims, per_day=[], sample=[])


def test_compare_names_the_main_action(roomy_product):
    rule = unsaved(roomy_product, actions=[{"kind": "email", "roles": ["admin"]}, {"kind": "pause"}])
    assert compare(_result(3), _result(40), rule) == "37 fewer pauses than the current version"
    assert compare(_result(13), _result(1), unsaved(roomy_product, actions=[{"kind": "webhook"}])) == "12 more webhook calls than the current version"
    assert compare(_result(2), _result(1), Rule(product=roomy_product, actions=[])) == "1 more firing than the current version"
    assert compare(_result(5), _result(5), rule) == "The same as the current version"
    assert compare(_result(5, sims=2), _result(5, sims=5), rule) == "The same number of pauses as the current version, on 2 SIMs instead of 5"


# Properties: the live passes, fed the same history day by day, record what the backtest counts.

_products = count()
HISTORY = st.lists(st.lists(st.sampled_from([0, 5, 20, 35, 60]), min_size=5, max_size=5), min_size=1, max_size=3)
RULES = [
    {"condition_kind": "usage_day", "condition": {"mb": 50}},
    {"condition_kind": "usage_day", "condition": {"mb": 30}, "window_kind": "period"},
    {"condition_kind": "usage_period", "condition": {"mb": 70}},
    {"condition_kind": "usage_rolling", "condition": {"mb": 70, "hours": 48}},
    {"condition_kind": "sms_count", "condition": {"count": 2}},
]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=HISTORY)
def test_replayed_live_the_history_fires_as_often_as_the_backtest_says(history, make_sim):
    """`history[sim][day]`: a SIM's MB on each of the five days before today (the last is yesterday)."""
    product = Product.objects.create(name="Replay", slug=f"replay-{next(_products)}", default_data_limit_mb=100_000)
    rules = [Rule.objects.create(product=product, name=f"r{n}", actions=[{"kind": "webhook"}], **fields) for n, fields in enumerate(RULES)]
    sims = [make_sim(product) for _ in history]
    now = timezone.now()
    try:
        for day_index in range(5):
            day = today() - timedelta(days=5 - day_index)
            at = datetime.combine(day, time(12), tzinfo=UTC)
            rows = [usage(sim, mbs[day_index], at, sms=mbs[day_index] // 10) for sim, mbs in zip(sims, history) if mbs[day_index]]
            if rows:
                ingest(*rows, now=replay_moment(day, now))
        for rule in rules:
            live = list(RuleFiring.objects.filter(rule=rule).values_list("sim_id", "window_key"))
            assert len(live) == len(set(live)), "a rule fired twice for one SIM and window"
            result = backtest(rule, now=now)
            assert (result.firings, result.sims) == (len(live), len({sim_id for sim_id, _ in live})), rule.condition_kind
            assert len({(f.sim_id, f.when) for f in result.sample}) == len(result.sample)
    finally:
        Rule.objects.filter(product=product).update(enabled=False)
        Sim.objects.filter(product=product).update(state=State.SUSPENDED)

"""The periodic work: usage fetched from the carrier, a new period's unpausing, the time trigger,
and its scheduling on the task worker (each slot queued once, however many workers)."""

import time
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from sims.carriers.simulator import Profile, SimulatorCarrier
from sims.lifecycle import Action, Actor, apply_action
from sims.models import SimDailyUsage, SimEvent, State, UsageRecord, UsageSpike, UsageTick
from sims.periodic import current_slot, ensure_ticks_queued, queue_tick, run_periodic_work, run_scheduled_tick, run_usage_tick
from tests.conftest import make_iccid

NOW = datetime(2026, 11, 18, 15, 20, tzinfo=UTC)
TICK_TASK = run_usage_tick.module_path


def iccid_that_is(*, silent: bool) -> str:
    while (Profile.of(iccid := make_iccid(), "").daily_bytes == 0) != silent:
        pass
    return iccid


def iccid_with_records(*, home: str = "", since: datetime = NOW - timedelta(hours=13), until: datetime = NOW) -> str:
    """An ICCID the simulator has records for in the window: a talker may be off for the day, so which
    ICCIDs qualify must not hang on how many ICCIDs the tests before this one made."""
    while not any(SimulatorCarrier().usage_records(sims=[(iccid := make_iccid(), home)], since=since, until=until)):
        pass
    return iccid


def queued_slots() -> list[datetime]:
    return sorted(DBTaskResult.objects.filter(task_path=TICK_TASK).values_list("run_after", flat=True))


def test_a_tick_ingests_the_usage_of_sims_on_the_network_and_of_no_other(product, make_sim):
    active = make_sim(product, iccid=iccid_with_records(home="US"), home_country="US")
    provisioned = make_sim(product, state=State.PROVISIONED, iccid=iccid_with_records())
    suspended = make_sim(product, state=State.SUSPENDED, iccid=iccid_that_is(silent=False))
    issued = make_sim(product, state=State.ISSUED, iccid=iccid_that_is(silent=False))
    UsageTick.objects.create(finished_at=NOW, usage_until=NOW - timedelta(hours=12))

    summary = run_periodic_work(now=NOW)

    with_usage = set(UsageRecord.objects.values_list("sim_id", flat=True))
    assert active.pk in with_usage and provisioned.pk in with_usage
    assert not with_usage & {suspended.pk, issued.pk}
    assert "ingested" in summary


def test_a_tick_fetches_from_an_hour_before_the_last_fetch_and_counts_nothing_twice(product, make_sim):
    sims = [make_sim(product, iccid=iccid_that_is(silent=False)) for _ in range(20)]
    run_periodic_work(now=NOW - timedelta(minutes=15))
    first_total = sum(SimDailyUsage.objects.values_list("bytes", flat=True))
    run_periodic_work(now=NOW)

    tick = UsageTick.objects.order_by("-usage_until").first()
    assert tick.usage_since == NOW - timedelta(minutes=15) - timedelta(hours=1) and tick.usage_until == NOW
    records = UsageRecord.objects.filter(sim__in=sims)
    stored = sum(record.bytes_up + record.bytes_down for record in records)
    assert sum(SimDailyUsage.objects.values_list("bytes", flat=True)) == stored >= first_total
    assert records.count() == len(set(records.values_list("record_id", flat=True)))


def test_late_records_of_the_previous_window_arrive_at_the_next_tick(product, make_sim):
    for _ in range(50):
        make_sim(product, iccid=iccid_that_is(silent=False))
    run_periodic_work(now=NOW - timedelta(minutes=15))
    before = UsageRecord.objects.filter(ended_at__lte=NOW.replace(minute=0)).count()
    run_periodic_work(now=NOW)
    # Records that ended before the first tick but reached the carrier after it.
    assert UsageRecord.objects.filter(ended_at__lte=NOW.replace(minute=0)).count() > before


def test_a_tick_in_a_new_billing_period_unpauses_sims_paused_at_their_limit(product, make_sim):
    sim = make_sim(product, iccid=iccid_that_is(silent=True))
    apply_action(sims=sim, action=Action.PAUSE, actor=Actor.system("data limit"))
    type(sim).objects.filter(pk=sim.pk).update(state_changed_at=datetime(2026, 10, 20, tzinfo=UTC))

    run_periodic_work(now=datetime(2026, 11, 1, 0, 10, tzinfo=UTC))

    sim.refresh_from_db()
    assert sim.state == State.ACTIVE
    assert SimEvent.objects.filter(sim=sim, action="unpause", actor_name="new billing period").exists()


def test_a_tick_activates_sims_provisioned_longer_than_the_time_rule(product, make_sim):
    product.trigger_months = 6
    product.save(update_fields=["trigger_months"])
    long_ago = make_sim(product, state=State.PROVISIONED, iccid=iccid_that_is(silent=True), state_changed_at=NOW - timedelta(days=200))
    recent = make_sim(product, state=State.PROVISIONED, iccid=iccid_that_is(silent=True), state_changed_at=NOW - timedelta(days=20))

    run_periodic_work(now=NOW)

    long_ago.refresh_from_db(), recent.refresh_from_db()
    assert (long_ago.state, recent.state) == (State.ACTIVE, State.PROVISIONED)
    assert SimEvent.objects.get(sim=long_ago, action="activate").actor_name == "trigger: time"


def test_a_tick_flags_yesterdays_spikes(product, make_sim):
    sim = make_sim(product)
    for days_ago in range(2, 16):
        SimDailyUsage.objects.create(sim=sim, product=product, day=NOW.date() - timedelta(days=days_ago), bytes=100_000)
    SimDailyUsage.objects.create(sim=sim, product=product, day=NOW.date() - timedelta(days=1), bytes=5_000_000)
    just_after_midnight = datetime(2026, 11, 18, 0, 15, tzinfo=UTC)

    assert "1 spikes yesterday" in run_periodic_work(now=just_after_midnight)
    assert UsageSpike.objects.get().sim == sim
    # Once yesterday's late records are all in, later ticks leave it alone.
    run_periodic_work(now=NOW - timedelta(minutes=15))
    assert "yesterday checked" in run_periodic_work(now=NOW)


def test_a_tick_of_a_large_fleet_costs_a_bounded_number_of_queries(product, make_sim, django_assert_max_num_queries):
    for _ in range(300):
        make_sim(product, iccid=make_iccid())
    with django_assert_max_num_queries(60):
        run_periodic_work(now=NOW)


def test_a_slot_is_queued_once_however_often_it_is_asked(db):
    slot = current_slot(NOW)
    assert queue_tick(slot=slot) is True
    assert queue_tick(slot=slot) is False
    assert queued_slots() == [slot] and UsageTick.objects.filter(slot=slot).count() == 1


def test_ticks_are_due_on_whole_multiples_of_the_interval(settings):
    settings.USAGE_FETCH_MINUTES = 15
    assert current_slot(NOW) == datetime(2026, 11, 18, 15, 15, tzinfo=UTC)
    settings.USAGE_FETCH_MINUTES = 60
    assert current_slot(NOW) == datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


def test_start_up_queues_the_current_tick_and_the_next_and_again_nothing(db):
    assert ensure_ticks_queued(now=NOW) == 2
    assert ensure_ticks_queued(now=NOW + timedelta(minutes=1)) == 0
    assert queued_slots() == [datetime(2026, 11, 18, 15, 15, tzinfo=UTC), datetime(2026, 11, 18, 15, 30, tzinfo=UTC)]


def test_two_ticks_finishing_together_queue_the_next_slot_once(db):
    first, second = UsageTick.objects.create(), UsageTick.objects.create()
    run_scheduled_tick(tick_id=first.pk, now=NOW)
    run_scheduled_tick(tick_id=second.pk, now=NOW + timedelta(seconds=5))
    assert queued_slots() == [datetime(2026, 11, 18, 15, 30, tzinfo=UTC)]


def test_a_failing_tick_still_leaves_the_next_one_queued(db):
    tick = UsageTick.objects.create()
    with mock.patch("sims.periodic.ingest_usage", side_effect=RuntimeError("carrier down")):
        with pytest.raises(RuntimeError):
            run_scheduled_tick(tick_id=tick.pk, now=NOW)
    assert queued_slots() == [datetime(2026, 11, 18, 15, 30, tzinfo=UTC)]
    # Its window was not fetched: the next tick starts from the last finished one.
    assert not UsageTick.objects.filter(finished_at__isnull=False).exists()


def test_usage_tick_runs_one_tick_and_schedule_only_queues(db, capsys):
    call_command("usage_tick")
    assert "records" in capsys.readouterr().out and UsageTick.objects.filter(slot=None, finished_at__isnull=False).exists()
    call_command("usage_tick", schedule=True)
    assert "2 usage tick(s) queued" in capsys.readouterr().out and len(queued_slots()) == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_run_the_due_tick_once_and_queue_the_next_slot_once(product, make_sim, start_worker, settings):
    # Daily slots: no slot boundary passes while the test runs (but at midnight UTC).
    settings.USAGE_FETCH_MINUTES = 1440
    for _ in range(30):
        make_sim(product, iccid=make_iccid())
    ensure_ticks_queued()
    start_worker(USAGE_FETCH_MINUTES="1440"), start_worker(USAGE_FETCH_MINUTES="1440")
    deadline = time.monotonic() + 60
    while not UsageTick.objects.filter(slot__isnull=False, finished_at__isnull=False).exists():
        assert time.monotonic() < deadline, "no tick ran"
        time.sleep(0.2)
    time.sleep(1)  # a second worker, had it run the tick too, would have finished by now
    assert UsageTick.objects.filter(finished_at__isnull=False).count() == 1
    assert DBTaskResult.objects.filter(task_path=TICK_TASK, status="SUCCESSFUL").count() == 1
    assert len(queued_slots()) == len(set(queued_slots())) == 2

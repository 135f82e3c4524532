from datetime import UTC, date, datetime, timedelta

from django.core.management import call_command

from lib.units import MB
from products.models import Product
from sims.iccid import is_valid_iccid
from sims.lifecycle import ALLOWED_STATE_CHANGES
from sims.limits import period_usage
from sims.models import ProductDailyUsage, Sim, SimDailyUsage, SimEvent, State, UsageRecord, UsageSpike, UsageTick
from sims.periodic import run_periodic_work
from tests.conftest import make_iccid

# Mid-month, so that some SIMs have reached their limit this period (on the 1st none has).
AS_OF = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)


def test_seed_demo_makes_a_fleet_in_every_state_with_consistent_history(db, capsys):
    call_command("seed_demo", sims=600, as_of=AS_OF)
    out = capsys.readouterr().out
    assert "Sign in as demo / demo-sim-console" in out
    product = Product.objects.get(slug="acme-trackers")
    assert product.sims.count() == 600
    assert set(product.sims.values_list("state", flat=True)) == set(State.values)
    assert Sim.objects.filter(owner_user__username="demo").exists()
    assert Sim.objects.filter(product=None, owner_user=None).exists()
    assert all(is_valid_iccid(iccid) for iccid in Sim.objects.values_list("iccid", flat=True))
    for sim in product.sims.all()[:200]:
        state = State.ISSUED
        for event in sim.events.order_by("id"):
            assert event.from_state == state and (event.from_state, event.to_state) in ALLOWED_STATE_CHANGES
            state = event.to_state
        assert state == sim.state


def test_seed_demo_twice_adds_nothing(db, capsys):
    call_command("seed_demo", sims=50)
    call_command("seed_demo", sims=50)
    assert "already there" in capsys.readouterr().out
    assert Sim.objects.filter(product__slug="acme-trackers").count() == 50


def test_new_sims_after_seeding_get_fresh_ids(db):
    call_command("seed_demo", sims=30)
    sim = Sim.objects.create(iccid=make_iccid())  # an id from the sequence, past the seeded ones
    assert sim.pk > Sim.objects.exclude(pk=sim.pk).order_by("-pk").first().pk
    assert SimEvent.objects.create(sim=sim, action="x", from_state="issued", to_state="issued", actor_kind="system", actor_name="t").pk


def test_if_empty_leaves_a_database_with_products_alone(db, product, capsys):
    call_command("seed_demo", sims=10, if_empty=True)
    assert "no demo data added" in capsys.readouterr().out
    assert not Product.objects.filter(slug="acme-trackers").exists()


def test_seed_demo_gives_the_fleet_45_days_of_daily_usage_up_to_today(db):
    call_command("seed_demo", sims=300, as_of=AS_OF)
    product = Product.objects.get(slug="acme-trackers")
    days = set(ProductDailyUsage.objects.filter(product=product).values_list("day", flat=True))
    assert len(days) == 45 and max(days) == AS_OF.date() and min(days) == AS_OF.date() - timedelta(days=44)
    a_sim = SimDailyUsage.objects.filter(product=product, day=date(2026, 10, 10)).first().sim_id
    assert SimDailyUsage.objects.filter(sim_id=a_sim).count() >= 30  # a daily chart, not a dot


def test_seeded_sims_at_their_limit_this_month_are_paused_by_the_system_with_the_reason(db):
    call_command("seed_demo", sims=600, as_of=AS_OF)
    paused = list(Sim.objects.filter(product__slug="acme-trackers", state=State.PAUSED).select_related("product"))
    assert paused
    used = period_usage([sim.pk for sim in paused], now=AS_OF)
    for sim in paused:
        assert used[sim.pk] >= sim.effective_data_limit_mb * MB
        event = sim.events.get(action="pause")
        assert event.actor_kind == "system" and f"Data limit of {sim.effective_data_limit_mb} MB reached" in event.reason


def test_seeded_provisioned_sims_stay_provisioned_through_the_first_usage_tick(db):
    call_command("seed_demo", sims=400, as_of=AS_OF)
    provisioned = Sim.objects.filter(state=State.PROVISIONED).count()
    run_periodic_work(now=AS_OF + timedelta(minutes=15))
    assert provisioned and Sim.objects.filter(state=State.PROVISIONED).count() == provisioned


def test_the_first_usage_tick_after_seeding_counts_no_day_twice(db):
    call_command("seed_demo", sims=300, as_of=AS_OF)
    tick_until = UsageTick.objects.get().usage_until
    assert tick_until == AS_OF
    before = dict(SimDailyUsage.objects.filter(day__lt=AS_OF.date()).values_list("id", "bytes"))
    run_periodic_work(now=AS_OF + timedelta(minutes=15))
    after = dict(SimDailyUsage.objects.filter(day__lt=AS_OF.date()).values_list("id", "bytes"))
    assert after == before
    assert UsageRecord.objects.filter(record_id__regex=r"-\d{10}$", started_at__lt=datetime(2026, 11, 20, tzinfo=UTC)).count() == 0


def test_seed_demo_leaves_a_few_spikes_yesterday(db):
    call_command("seed_demo", sims=600, as_of=AS_OF)
    spikes = UsageSpike.objects.filter(product__slug="acme-trackers", day=AS_OF.date() - timedelta(days=1))
    assert 1 <= spikes.count() <= 30 and all(spike.factor >= 3 for spike in spikes)


def test_seed_demo_without_usage_days_ingests_none(db):
    call_command("seed_demo", sims=50, usage_days=0)
    assert not UsageRecord.objects.exists() and not SimDailyUsage.objects.exists()


def test_sims_with_usage_limits_the_history_to_the_first_sims(db):
    call_command("seed_demo", sims=300, sims_with_usage=40, as_of=AS_OF)
    assert 0 < SimDailyUsage.objects.values("sim_id").distinct().count() <= 40


def test_seed_demo_gives_the_fleet_a_mix_of_connectivity(db):
    from sims.models import Connectivity, NetworkEvent, SimConnectivity

    call_command("seed_demo", sims=600, usage_days=0, as_of=AS_OF)

    product = Product.objects.get(slug="acme-trackers")
    states = SimConnectivity.objects.filter(product=product)
    counts = {status: states.filter(status=status).count() for status in Connectivity.values}
    assert counts[Connectivity.ONLINE] > 50 and counts[Connectivity.ATTACHED] > 50 and counts[Connectivity.OFFLINE] > 50
    offline = states.filter(status=Connectivity.OFFLINE)
    assert offline.filter(since__gt=AS_OF - timedelta(days=1)).exists()  # offline for hours
    assert offline.filter(since__lt=AS_OF - timedelta(days=2)).exists()  # and for days
    assert offline.exclude(last_reject_cause="").exists()  # rejected by the network, with its cause
    never_seen = Sim.objects.filter(product=product, connectivity__isnull=True)
    assert never_seen.filter(state=State.ISSUED).exists() and never_seen.exclude(state=State.ISSUED).exists()
    # Each SIM's connectivity follows its events: the newest one is when its status began.
    for state in states.filter(status=Connectivity.ONLINE)[:20]:
        newest = NetworkEvent.objects.filter(sim_id=state.sim_id).order_by("-at").first()
        assert (newest.kind, newest.at) == ("session_start", state.since)

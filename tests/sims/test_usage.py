from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from lib.units import MB
from products.models import Product
from sims.limits import pause_if_over_limit, unpause_for_new_period, unpause_within_limit
from sims.lifecycle import Actor
from sims.models import ProductDailyUsage, SimCountryUsage, SimDailyUsage, SimEvent, State, UsageRecord
from sims.usage import UsageRow, ingest_usage

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
_ids = iter(range(1, 10**9))


def record(sim, *, megabytes: float = 0, sms: int = 0, at: datetime = NOW - timedelta(hours=2), **fields) -> UsageRow:
    total = int(megabytes * MB)
    return UsageRow(
        record_id=fields.pop("record_id", f"r{next(_ids)}"),
        iccid=fields.pop("iccid", sim.iccid if sim else ""),
        started_at=at,
        ended_at=fields.pop("ended_at", at + timedelta(minutes=30)),
        bytes_up=total // 4,
        bytes_down=total - total // 4,
        sms=sms,
        country=fields.pop("country", "DE"),
        **fields,
    )


def state_of(sim) -> str:
    sim.refresh_from_db()
    return sim.state


@pytest.fixture
def active_sim(product, make_sim):
    return make_sim(product, state=State.ACTIVE, data_limit_mb=None)


def test_records_roll_up_per_sim_and_per_product_per_day(product, active_sim):
    report = ingest_usage([record(active_sim, megabytes=1), record(active_sim, megabytes=0.5, sms=2)], now=NOW)

    assert (report.ingested, report.duplicates, report.rejected) == (2, 0, [])
    day = SimDailyUsage.objects.get(sim=active_sim)
    assert (day.day, day.bytes, day.sms, day.product_id) == (date(2026, 11, 20), 1_500_000, 2, product.pk)
    fleet = ProductDailyUsage.objects.get(product=product)
    assert (fleet.bytes, fleet.sms, fleet.records, fleet.country) == (1_500_000, 2, 2, "DE")
    assert fleet.newest_record_at == NOW - timedelta(hours=1, minutes=30)


def test_records_roll_up_per_sim_period_and_visited_country_for_roaming(product, active_sim):
    ingest_usage(
        [record(active_sim, megabytes=1), record(active_sim, megabytes=2, country="FR"), record(active_sim, megabytes=0.5),
         record(active_sim, megabytes=0.25, country="", at=NOW - timedelta(days=1))],
        now=NOW,
    )  # fmt: skip

    rows = SimCountryUsage.objects.filter(product=product, period=date(2026, 11, 1), sim=active_sim)
    assert sorted(rows.values_list("country", "bytes")) == [("", 250_000), ("DE", 1_500_000), ("FR", 2_000_000)]


def test_the_same_records_twice_change_nothing(product, active_sim):
    rows = [record(active_sim, megabytes=1), record(active_sim, megabytes=2)]
    ingest_usage(rows, now=NOW)

    again = ingest_usage(rows + [rows[0]], now=NOW)

    assert (again.ingested, again.duplicates) == (0, 3)
    assert UsageRecord.objects.count() == 2
    assert SimDailyUsage.objects.get(sim=active_sim).bytes == 3 * MB
    assert ProductDailyUsage.objects.get(product=product).records == 2


def test_a_record_id_twice_in_one_delivery_counts_once(active_sim):
    row = record(active_sim, megabytes=1)

    report = ingest_usage([row, row], now=NOW)

    assert (report.ingested, report.duplicates) == (1, 1)
    assert SimDailyUsage.objects.get(sim=active_sim).bytes == MB


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"iccid": "8901260999999999990"}, "No SIM has ICCID 8901260999999999990"),
        ({"bytes_up": -5}, "cannot be negative"),
        ({"bytes_up": 10**13}, "not plausible"),
        ({"sms": 10**7}, "not plausible"),
        ({"ended_at": NOW + timedelta(hours=2)}, "in the future"),
        ({"record_id": ""}, "no record id"),
        ({"country": "XX"}, "not an ISO 3166 country code"),
        ({"ended_at": NOW - timedelta(days=3)}, "ends before it starts"),
    ],
)
def test_a_bad_record_is_rejected_with_its_line_and_the_rest_go_in(active_sim, fields, words):
    good = record(active_sim, megabytes=1, line=1)
    bad_fields = {"line": 2, **fields}
    bytes_up = bad_fields.pop("bytes_up", None)
    bad = record(active_sim, megabytes=1, **bad_fields)
    if bytes_up is not None:
        bad = UsageRow(**{**bad.__dict__, "bytes_up": bytes_up})

    report = ingest_usage([good, bad], now=NOW)

    assert report.ingested == 1
    assert [(r.line, words in r.reason) for r in report.rejected] == [(2, True)]
    assert SimDailyUsage.objects.get(sim=active_sim).bytes == MB


# Data limits: the effective limit is the SIM's own, else the product's default, else 5 MB.


@pytest.mark.parametrize(("megabytes", "paused"), [(4.999999, False), (5, True), (7.5, True)])
def test_a_sim_pauses_at_the_console_default_of_5_mb(active_sim, megabytes, paused):
    report = ingest_usage([record(active_sim, megabytes=megabytes)], now=NOW)

    assert state_of(active_sim) == (State.PAUSED if paused else State.ACTIVE)
    assert report.paused == int(paused)


def test_the_pause_is_an_event_of_the_system_naming_the_limit_and_the_usage(active_sim):
    ingest_usage([record(active_sim, megabytes=5.2)], now=NOW)

    event = SimEvent.objects.get(sim=active_sim)
    assert (event.from_state, event.to_state, event.actor_kind, event.actor_name) == ("active", "paused", "system", "data limit")
    assert event.reason == "Data limit of 5 MB reached: 5.2 MB used since Nov 1."


def test_the_product_default_beats_the_console_default(product, active_sim):
    Product.objects.filter(pk=product.pk).update(default_data_limit_mb=10)

    ingest_usage([record(active_sim, megabytes=9)], now=NOW)
    assert state_of(active_sim) == State.ACTIVE
    ingest_usage([record(active_sim, megabytes=1)], now=NOW)
    assert state_of(active_sim) == State.PAUSED


def test_the_sims_own_limit_beats_the_product_default(product, make_sim):
    Product.objects.filter(pk=product.pk).update(default_data_limit_mb=10)
    small, large = make_sim(product, data_limit_mb=1), make_sim(product, data_limit_mb=50)

    ingest_usage([record(small, megabytes=2), record(large, megabytes=20)], now=NOW)

    assert (state_of(small), state_of(large)) == (State.PAUSED, State.ACTIVE)


def test_usage_accumulates_across_deliveries_and_days_of_the_period(active_sim):
    ingest_usage([record(active_sim, megabytes=3, at=NOW - timedelta(days=5))], now=NOW)
    assert state_of(active_sim) == State.ACTIVE

    ingest_usage([record(active_sim, megabytes=2.5)], now=NOW)

    assert state_of(active_sim) == State.PAUSED


def test_a_late_record_that_crosses_the_limit_pauses_the_sim(active_sim):
    ingest_usage([record(active_sim, megabytes=4.5, at=NOW - timedelta(minutes=40))], now=NOW)
    # An hour late: it happened before the one above, and it tips the SIM over.
    late = record(active_sim, megabytes=1, at=NOW - timedelta(hours=1, minutes=30))

    ingest_usage([late], now=NOW)

    assert state_of(active_sim) == State.PAUSED


def test_last_periods_usage_does_not_count_towards_this_one(active_sim):
    ingest_usage([record(active_sim, megabytes=20, at=datetime(2026, 10, 31, 23, 0, tzinfo=UTC))], now=NOW)

    assert state_of(active_sim) == State.ACTIVE
    assert SimDailyUsage.objects.get(sim=active_sim).day == date(2026, 10, 31)


def test_a_suspended_sims_usage_is_counted_but_it_is_not_paused(product, make_sim):
    suspended = make_sim(product, state=State.SUSPENDED)

    ingest_usage([record(suspended, megabytes=9)], now=NOW)

    assert state_of(suspended) == State.SUSPENDED
    assert SimDailyUsage.objects.get(sim=suspended).bytes == 9 * MB


def test_raising_the_limit_above_the_usage_can_unpause(owner, active_sim):
    ingest_usage([record(active_sim, megabytes=6)], now=NOW)
    active_sim.data_limit_mb = 10
    active_sim.save(update_fields=["data_limit_mb"])

    unpaused = unpause_within_limit(sim_ids=[active_sim.pk], actor=Actor.for_user(owner), now=NOW)

    assert (unpaused, state_of(active_sim)) == (1, State.ACTIVE)
    assert SimEvent.objects.filter(sim=active_sim).last().reason == "Data limit raised to 10 MB, above this period's 6.0 MB."


def test_a_limit_still_under_the_usage_does_not_unpause(owner, active_sim):
    ingest_usage([record(active_sim, megabytes=6)], now=NOW)
    active_sim.data_limit_mb = 6
    active_sim.save(update_fields=["data_limit_mb"])

    assert unpause_within_limit(sim_ids=[active_sim.pk], actor=Actor.for_user(owner), now=NOW) == 0
    assert state_of(active_sim) == State.PAUSED


def test_lowering_the_limit_under_the_usage_pauses_at_once(active_sim):
    ingest_usage([record(active_sim, megabytes=3)], now=NOW)
    active_sim.data_limit_mb = 2
    active_sim.save(update_fields=["data_limit_mb"])

    assert pause_if_over_limit(sim_ids=[active_sim.pk], now=NOW) == 1
    assert state_of(active_sim) == State.PAUSED


def test_a_new_billing_period_unpauses_sims_paused_in_the_last_one(active_sim, make_sim, product):
    # The pause is stamped by the clock, so the clock is moved to each moment, not just told it.
    with time_machine.travel(datetime(2026, 11, 28, 1, tzinfo=UTC), tick=False):
        ingest_usage([record(active_sim, megabytes=6, at=datetime(2026, 11, 28, tzinfo=UTC))])
    assert state_of(active_sim) == State.PAUSED

    with time_machine.travel(datetime(2026, 11, 30, 23, tzinfo=UTC), tick=False):
        assert unpause_for_new_period() == 0
    with time_machine.travel(datetime(2026, 12, 1, 0, 5, tzinfo=UTC), tick=False):
        assert unpause_for_new_period() == 1

    assert state_of(active_sim) == State.ACTIVE
    event = SimEvent.objects.filter(sim=active_sim).last()
    assert (event.actor_name, event.reason) == ("new billing period", "A new billing period began on Dec 1; usage counts from zero again.")


def test_ingestion_reads_a_bounded_number_of_queries_whatever_the_number_of_records(product, make_sim, django_assert_max_num_queries):
    sims = [make_sim(product) for _ in range(30)]
    rows = [record(sim, megabytes=0.1, at=NOW - timedelta(hours=hour + 1)) for sim in sims for hour in range(5)]

    with django_assert_max_num_queries(20):
        report = ingest_usage(rows, now=NOW)

    assert report.ingested == 150


def test_ingested_usage_sorts_the_sims_page_by_this_periods_usage(product, other_product, make_sim):
    """The period total carries the SIM's product, so the list sorts a product's SIMs by its own index;
    a SIM that moved keeps its total and is filed under its new product by its next record."""
    from sims.listing import ListOrder, SortKey, page_of_sims, select_sims
    from sims.models import SimPeriodUsage

    light, heavy, idle = (make_sim(product) for _ in range(3))
    moved = make_sim(other_product)
    ingest_usage([record(light, megabytes=1), record(heavy, megabytes=3), record(moved, megabytes=2)], now=NOW)
    moved.product = product
    moved.save(update_fields=["product"])
    ingest_usage([record(moved, megabytes=0.5, at=NOW - timedelta(hours=1))], now=NOW)

    assert SimPeriodUsage.objects.get(sim=moved).product_id == product.pk
    page = page_of_sims(selection=select_sims(product=product), per_page=10, order=ListOrder(SortKey.USAGE, descending=True), now=NOW)
    assert [sim.iccid for sim in page.sims] == [heavy.iccid, moved.iccid, light.iccid, idle.iccid]
    assert [sim.usage.bytes for sim in page.sims] == [3 * MB, int(2.5 * MB), MB, 0]

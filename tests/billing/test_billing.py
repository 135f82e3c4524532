"""Invoices computed by hand, for each pricing model, from a constructed event log and usage.

November 2026 has 30 days. Zone 1 (DE, US) default prices: per-SIM plan $2.99 with 1 MB, $0.99 per MB
over; pay as you go $0.95 hosting, $0.10 per MB, $0.06 per SMS; pooled $2.50 per SIM with 10 MB
pooled, $0.20 per MB beyond. Zone 2 (PL) pooled out-of-zone: $0.35 per MB.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from billing.billing import Period, price_period
from billing.invoicing import PeriodNotClosable, close_billing_period
from billing.models import Charge, Invoice, RateZone, ZoneCountry, ZonePrice
from products.models import PricingModel
from sims.models import ProductDailyUsage, Sim, SimCountryUsage, SimDailyUsage, SimEvent, State

NOVEMBER = Period(date(2026, 11, 1))
CLOSING = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
MB = 1_000_000


def at(day: int, hour: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def event(sim: Sim, product, when: datetime, action: str, from_state: str, to_state: str) -> None:
    SimEvent.objects.create(
        sim=sim, product=product, action=action, from_state=from_state, to_state=to_state,
        actor_kind="system", actor_name="test", created_at=when,
    )


def imported(make_sim, product, when: datetime, country: str = "DE", state: str = State.ACTIVE) -> Sim:
    """A SIM imported into the product at `when` (its state now: `state`)."""
    sim = make_sim(product, state=state, home_country=country)
    event(sim, product, when, "import", State.ISSUED, State.ACTIVE)
    return sim


def use(sim: Sim, product, day: date, megabytes: float, country: str = "DE", sms: int = 0) -> None:
    used = int(megabytes * MB)
    daily, _ = SimDailyUsage.objects.get_or_create(sim=sim, day=day, defaults={"product": product})
    SimDailyUsage.objects.filter(pk=daily.pk).update(bytes=daily.bytes + used, sms=daily.sms + sms)
    row, _ = ProductDailyUsage.objects.get_or_create(
        product=product, day=day, country=country, defaults={"newest_record_at": at(day.day, 23)}
    )
    ProductDailyUsage.objects.filter(pk=row.pk).update(bytes=row.bytes + used, sms=row.sms + sms)
    visited, _ = SimCountryUsage.objects.get_or_create(product=product, period=day.replace(day=1), sim=sim, country=country)
    SimCountryUsage.objects.filter(pk=visited.pk).update(bytes=visited.bytes + used)


def lines_of(invoice: Invoice) -> list[tuple]:
    return [(line.kind, line.quantity, line.unit_price, line.amount) for line in invoice.lines.order_by("position")]


def close() -> Invoice:
    close_billing_period(period=NOVEMBER, now=CLOSING)
    return Invoice.objects.get(period_start=NOVEMBER.start)


def test_per_sim_plan_bills_each_sim_its_plan_and_overage_and_the_first_month_charged_at_import(product, make_sim):
    product.pricing_model = PricingModel.PER_SIM
    product.save()
    old = [imported(make_sim, product, at(3, month=10)) for _ in range(3)]
    paused = old[2]
    event(paused, product, at(5), "pause", State.ACTIVE, State.PAUSED)  # paused at its limit: still billable
    Sim.objects.filter(pk=paused.pk).update(state=State.PAUSED)
    use(old[0], product, date(2026, 11, 4), 3.5)  # 2.5 MB over its 1 MB
    new = imported(make_sim, product, at(16, 10))
    Charge.objects.create(
        product=product, kind=Charge.Kind.FIRST_MONTH, zone=RateZone.objects.get(code="Z1"),
        description="First month, 15 of 30 days", quantity=1, unit_price=Decimal("1.4950"), amount=Decimal("1.50"),
        period_start=NOVEMBER.start,
    )
    use(new, product, date(2026, 11, 20), 0.5)  # within its plan

    invoice = close()

    assert lines_of(invoice) == [
        ("plan", Decimal("3.0000"), Decimal("2.9900"), Decimal("8.97")),  # the new SIM is not billed twice
        ("overage", Decimal("2.5000"), Decimal("0.9900"), Decimal("2.48")),
        ("first_month", Decimal("1.0000"), Decimal("1.4950"), Decimal("1.50")),
    ]
    assert invoice.total == Decimal("12.95")
    assert invoice.peak_sims == 4
    assert Charge.objects.get().invoice == invoice


def test_per_sim_plan_prices_data_outside_the_home_zone_at_the_visited_zones_rate(product, make_sim):
    """Zone 2 (PL, BR): plan $3.99 with 1 MB, $1.59 per MB; zone 3 (KE): $5.99, 1 MB, $3.99 per MB.
    The included MB cover home-zone usage only; a visited country of the home zone is home."""
    product.pricing_model = PricingModel.PER_SIM
    product.save()
    ZoneCountry.objects.filter(country="AQ").delete()  # a country no zone lists: billed as the plan zone, Z1
    a, b, d = (imported(make_sim, product, at(3, month=10), country="DE") for _ in range(3))
    c = imported(make_sim, product, at(3, month=10), country="PL")
    day = date(2026, 11, 6)
    use(a, product, day, 0.6)
    use(a, product, day, 0.3, country="US")  # zone 1: at home. 0.9 MB at home, within the plan
    use(a, product, day, 2.5, country="PL")
    use(a, product, day, 1.2, country="BR")  # 3.7 MB roaming in zone 2
    use(b, product, day, 3.25)  # 2.25 MB over the plan, zone 1
    use(b, product, day, 0.4, country="KE")  # 0.4 MB roaming in zone 3
    use(c, product, day, 0.5, country="PL")  # within its zone 2 plan
    use(c, product, day, 1.5, country="DE")  # 1.5 MB roaming in zone 1
    use(d, product, day, 1.3, country="AQ")
    use(d, product, day, 0.2, country="")  # no country in the records: at home. 0.5 MB over, zone 1

    invoice = close()

    assert [(line.kind, line.zone.code, line.quantity, line.unit, line.unit_price, line.amount) for line in invoice.lines.order_by("position")] == [
        ("plan", "Z1", Decimal("3.0000"), "SIMs", Decimal("2.9900"), Decimal("8.97")),
        ("plan", "Z2", Decimal("1.0000"), "SIMs", Decimal("3.9900"), Decimal("3.99")),
        ("overage", "Z1", Decimal("2.7500"), "MB", Decimal("0.9900"), Decimal("2.72")),  # 2.7225
        ("roaming", "Z1", Decimal("1.5000"), "MB", Decimal("0.9900"), Decimal("1.49")),  # 1.485
        ("roaming", "Z2", Decimal("3.7000"), "MB", Decimal("1.5900"), Decimal("5.88")),  # 5.883
        ("roaming", "Z3", Decimal("0.4000"), "MB", Decimal("3.9900"), Decimal("1.60")),  # 1.596
    ]
    assert invoice.total == Decimal("24.65")


def two_hundred_sims_never_more_than_one_hundred_at_once(product, make_sim) -> None:
    """The seed's example: the first hundred from Nov 1 to Nov 10, the second from Nov 12 on."""
    first = [imported(make_sim, product, at(1), state=State.SUSPENDED) for _ in range(100)]
    for sim in first:
        event(sim, product, at(10), "deactivate", State.ACTIVE, State.SUSPENDED)
    second = [imported(make_sim, product, at(12)) for _ in range(100)]
    use(first[0], product, date(2026, 11, 2), 600)
    use(second[0], product, date(2026, 11, 20), 600, sms=10)
    use(second[1], product, date(2026, 11, 21), 10, country="PL")


def test_pay_as_you_go_charges_hosting_for_the_peak_of_200_sims_never_more_than_100_at_once(product, make_sim):
    product.pricing_model = PricingModel.PAY_AS_YOU_GO
    product.save()
    two_hundred_sims_never_more_than_one_hundred_at_once(product, make_sim)

    invoice = close()

    assert invoice.peak_sims == 100
    assert lines_of(invoice) == [
        ("hosting", Decimal("100.0000"), Decimal("0.9500"), Decimal("95.00")),
        ("data", Decimal("1200.0000"), Decimal("0.1000"), Decimal("120.00")),
        ("data", Decimal("10.0000"), Decimal("0.2000"), Decimal("2.00")),  # PL is zone 2
        ("sms", Decimal("10.0000"), Decimal("0.0600"), Decimal("0.60")),
    ]
    assert invoice.total == Decimal("217.60")


def test_the_pool_is_the_peaks_volume_shared_by_all_200_sims(product, make_sim):
    product.pricing_model = PricingModel.POOLED
    product.save()
    two_hundred_sims_never_more_than_one_hundred_at_once(product, make_sim)

    invoice = close()

    # 100 SIMs' 10 MB: a pool of 1,000 MB; 1,200 MB used in zone 1, so 200 MB beyond; 10 MB in zone 2.
    assert lines_of(invoice) == [
        ("pool", Decimal("100.0000"), Decimal("2.5000"), Decimal("250.00")),
        ("pool_overage", Decimal("200.0000"), Decimal("0.2000"), Decimal("40.00")),
        ("out_of_zone", Decimal("10.0000"), Decimal("0.3500"), Decimal("3.50")),
    ]


def test_a_suspension_fee_is_charged_once_per_suspension_by_the_price_of_that_day(product, make_sim):
    product.pricing_model = PricingModel.PAY_AS_YOU_GO
    product.save()
    zone = RateZone.objects.get(code="Z1")
    current = ZonePrice.objects.get(zone=zone)
    fields = {f.name: getattr(current, f.name) for f in ZonePrice._meta.fields if f.name not in ("id", "created_at", "effective_from")}
    ZonePrice.objects.create(**{**fields, "effective_from": at(15), "suspension_fee_payg": Decimal("1.50")})
    sims = [imported(make_sim, product, at(2, month=10), state=State.SUSPENDED) for _ in range(3)]
    event(sims[0], product, at(10), "deactivate", State.ACTIVE, State.SUSPENDED)  # before the fee: free
    event(sims[1], product, at(20), "deactivate", State.ACTIVE, State.SUSPENDED)
    event(sims[2], product, at(20), "deactivate", State.ACTIVE, State.SUSPENDED)
    event(sims[2], product, at(21), "reactivate", State.SUSPENDED, State.ACTIVE)
    event(sims[2], product, at(22), "deactivate", State.ACTIVE, State.SUSPENDED)

    invoice = close()

    assert ("suspension", Decimal("3.0000"), Decimal("1.5000"), Decimal("4.50")) in lines_of(invoice)


def test_a_price_edited_mid_period_applies_from_then_on_not_backwards(product, make_sim):
    product.pricing_model = PricingModel.PAY_AS_YOU_GO
    product.save()
    zone = RateZone.objects.get(code="Z1")
    current = ZonePrice.objects.get(zone=zone)
    fields = {f.name: getattr(current, f.name) for f in ZonePrice._meta.fields if f.name not in ("id", "created_at", "effective_from")}
    ZonePrice.objects.create(**{**fields, "effective_from": at(16), "payg_monthly_fee": Decimal("1.95"), "payg_data_per_mb": Decimal("0.30")})
    sims = [imported(make_sim, product, at(2, month=10)) for _ in range(10)]
    use(sims[0], product, date(2026, 11, 10), 100)
    use(sims[0], product, date(2026, 11, 20), 100)

    invoice = close()

    assert lines_of(invoice) == [
        ("hosting", Decimal("5.0000"), Decimal("0.9500"), Decimal("4.75")),  # 10 SIMs for half the month each
        ("hosting", Decimal("5.0000"), Decimal("1.9500"), Decimal("9.75")),
        ("data", Decimal("100.0000"), Decimal("0.1000"), Decimal("10.00")),
        ("data", Decimal("100.0000"), Decimal("0.3000"), Decimal("30.00")),
    ]


def test_a_sim_moved_between_products_is_billed_to_each_for_its_own_days(product, other_product, make_sim):
    for each in (product, other_product):
        each.pricing_model = PricingModel.PER_SIM
        each.save()
    sim = imported(make_sim, product, at(2, month=10))
    use(sim, product, date(2026, 11, 5), 4)  # 3 MB over, in the first product
    event(sim, product, at(15), "remove", State.ACTIVE, State.SUSPENDED)
    event(sim, other_product, at(16), "import", State.SUSPENDED, State.ACTIVE)
    Sim.objects.filter(pk=sim.pk).update(product=other_product)
    use(sim, other_product, date(2026, 11, 20), 1.5)  # 0.5 MB over, in the second

    close_billing_period(period=NOVEMBER, now=CLOSING)

    first = Invoice.objects.get(product=product)
    assert lines_of(first) == [
        ("plan", Decimal("1.0000"), Decimal("2.9900"), Decimal("2.99")),
        ("overage", Decimal("3.0000"), Decimal("0.9900"), Decimal("2.97")),
    ]
    # The second product charged its first month at import (the ledger); its overage is its own.
    assert lines_of(Invoice.objects.get(product=other_product)) == [("overage", Decimal("0.5000"), Decimal("0.9900"), Decimal("0.50"))]


def test_closing_twice_issues_nothing_new_and_an_issued_invoice_never_changes(product, make_sim):
    imported(make_sim, product, at(2, month=10))
    first = close_billing_period(period=NOVEMBER, now=CLOSING)
    assert len(first.issued) == 1
    invoice = first.issued[0]
    # A correction after the close: a credit, billed on the next invoice.
    Charge.objects.create(
        product=product, kind=Charge.Kind.CREDIT, description="Credit: plan billed twice", quantity=1,
        unit_price=Decimal("-2.99"), amount=Decimal("-2.99"), period_start=NOVEMBER.start,
    )
    second = close_billing_period(period=NOVEMBER, now=CLOSING + timedelta(hours=1))
    assert (len(second.issued), second.already) == (0, 1)
    invoice.refresh_from_db()
    assert invoice.total == Decimal("2.99") and invoice.lines.count() == 1

    close_billing_period(period=Period(date(2026, 12, 1)), now=datetime(2027, 1, 2, tzinfo=UTC))
    december = Invoice.objects.get(product=product, period_start=date(2026, 12, 1))
    assert ("credit", Decimal("1.0000"), Decimal("-2.9900"), Decimal("-2.99")) in lines_of(december)


@pytest.mark.parametrize(
    ("now", "message"),
    [
        (datetime(2026, 11, 20, tzinfo=UTC), "is not over yet"),
        (datetime(2026, 12, 1, 0, 30, tzinfo=UTC), "once its last usage records are in"),
        (datetime(2026, 10, 20, tzinfo=UTC), "is in the future"),
    ],
)
def test_a_period_not_over_is_refused_with_a_message(product, now, message):
    with pytest.raises(PeriodNotClosable, match=message):
        close_billing_period(period=NOVEMBER, now=now)
    assert not Invoice.objects.exists()


def a_swap_within_twelve_hours(product, make_sim) -> None:
    """100 SIMs active since October, suspended on Nov 10 at 06:00; 100 others suspended since
    October, reactivated at 09:00. The suspensions cost nothing under emnify's models."""
    leaving = [imported(make_sim, product, at(2, month=10), state=State.SUSPENDED) for _ in range(100)]
    arriving = [imported(make_sim, product, at(2, month=10)) for _ in range(100)]
    for sim in arriving:
        event(sim, product, at(3, month=10), "deactivate", State.ACTIVE, State.SUSPENDED)
    for sim in leaving:
        event(sim, product, at(10, 6), "deactivate", State.ACTIVE, State.SUSPENDED)
    for sim in arriving:
        event(sim, product, at(10, 9), "reactivate", State.SUSPENDED, State.ACTIVE)


def test_a_swap_within_twelve_hours_is_charged_for_the_100_sims_billable_at_the_same_time(product, make_sim):
    product.pricing_model = PricingModel.PAY_AS_YOU_GO
    product.save()
    a_swap_within_twelve_hours(product, make_sim)

    invoice = close()

    assert invoice.peak_sims == 100
    assert lines_of(invoice) == [("hosting", Decimal("100.0000"), Decimal("0.9500"), Decimal("95.00"))]


def test_a_swap_within_twelve_hours_is_one_pool_of_100_sims(product, make_sim):
    a_swap_within_twelve_hours(product, make_sim)

    bill = price_period(product, NOVEMBER, until=NOVEMBER.ends_at, model=PricingModel.POOLED)

    assert [(line.kind, line.quantity, line.amount) for line in bill.lines] == [("pool", Decimal("100.0000"), Decimal("250.00"))]


def test_a_swap_at_one_instant_counts_once_whatever_order_its_events_were_written_in(product, make_sim):
    product.pricing_model = PricingModel.PAY_AS_YOU_GO
    product.save()
    leaving = imported(make_sim, product, at(2, month=10), state=State.SUSPENDED)
    arriving = imported(make_sim, product, at(10, 10))  # written before the other SIM's suspension
    event(leaving, product, at(10, 10), "deactivate", State.ACTIVE, State.SUSPENDED)
    assert price_period(product, NOVEMBER, until=NOVEMBER.ends_at).peak_sims == 1
    # A second before the other leaves, both are billable at once.
    SimEvent.objects.filter(sim=arriving).update(created_at=at(10, 10) - timedelta(seconds=1))
    assert price_period(product, NOVEMBER, until=NOVEMBER.ends_at).peak_sims == 2


def test_the_comparison_prices_the_same_fleet_under_every_model(product, make_sim):
    two_hundred_sims_never_more_than_one_hundred_at_once(product, make_sim)
    totals = {model: price_period(product, NOVEMBER, until=NOVEMBER.ends_at, model=model).total for model in PricingModel}
    assert totals == {
        # 200 SIMs billable at some time, all brought in this month (first months charged at import, none here)
        # so only the overage: 599 + 599 = 1,198 MB over 1 MB each at $0.99 ($1,186.02), and the 10 MB
        # a SIM homed in DE used in PL, roaming in zone 2 at $1.59 ($15.90).
        PricingModel.PER_SIM: Decimal("1201.92"),
        PricingModel.PAY_AS_YOU_GO: Decimal("217.60"),
        PricingModel.POOLED: Decimal("293.50"),
    }


def test_a_model_chosen_mid_period_starts_with_the_next_and_the_close_switches_to_it(product, make_sim):
    from billing.invoicing import choose_pricing_model

    imported(make_sim, product, at(2, month=10))
    z2 = RateZone.objects.get(code="Z2")
    starts = choose_pricing_model(product=product, model=PricingModel.POOLED, zone=z2, now=at(20))
    assert starts == date(2026, 12, 1)
    product.refresh_from_db()
    assert product.pricing_model == PricingModel.PER_SIM

    invoice = close()

    assert invoice.pricing_model == PricingModel.PER_SIM
    product.refresh_from_db()
    assert (product.pricing_model, product.plan_zone, product.pending_pricing_model) == (PricingModel.POOLED, z2, "")


def test_a_developers_own_sims_pay_the_plan_after_their_promotion_and_data_over_it(owner, make_sim):
    promoted = make_sim(None, owner_user=owner, home_country="DE", promotion_ends_on=date(2027, 1, 1))
    SimDailyUsage.objects.create(sim=promoted, product=None, day=date(2026, 11, 3), bytes=3 * MB)  # 2 MB over the free 1 MB
    plain = make_sim(None, owner_user=owner, home_country="DE")
    SimDailyUsage.objects.create(sim=plain, product=None, day=date(2026, 11, 3), bytes=MB // 2)
    make_sim(None, owner_user=owner, home_country="DE", state=State.SUSPENDED)  # suspended all month: free

    invoice = close()

    assert invoice.user == owner
    assert lines_of(invoice) == [
        ("plan", Decimal("1.0000"), Decimal("2.9900"), Decimal("2.99")),
        ("overage", Decimal("2.0000"), Decimal("0.9900"), Decimal("1.98")),
    ]

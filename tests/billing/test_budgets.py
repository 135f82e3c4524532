"""A product's budget against the billing estimate: spent, projected, and the day it is projected
to be passed. The fleet of budget_fleet.py: $10.95 so far at noon on the 15th, growing $0.10 a day."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.billing import Period
from billing.budgets import budget_status, parse_percentages, projected_crossing, save_budget
from tests.billing.budget_fleet import SPENT, priceable_fleet, projected_for

NOVEMBER = Period(date(2026, 11, 1))  # 30 days: no clock is read below, only this arithmetic


def test_the_crossing_is_where_the_straight_line_from_spent_to_projected_meets_the_budget():
    # From $100 on the 10th at midnight to $400 on 1 December: $300 in 20 days, $15 a day.
    # $250 is $150 away: 10 days, on the 20th.
    now = datetime(2026, 11, 10, tzinfo=UTC)
    crossing = projected_crossing(amount=Decimal(250), spent=Decimal(100), projected_total=Decimal(400), now=now, period=NOVEMBER)
    assert crossing == date(2026, 11, 20)


def test_a_budget_the_projection_stays_within_or_already_passed_has_no_crossing():
    now = datetime(2026, 11, 10, tzinfo=UTC)
    within = projected_crossing(amount=Decimal(400), spent=Decimal(100), projected_total=Decimal(400), now=now, period=NOVEMBER)
    passed = projected_crossing(amount=Decimal(90), spent=Decimal(100), projected_total=Decimal(400), now=now, period=NOVEMBER)
    assert within is None and passed is None


def test_a_budget_reached_in_the_last_hour_of_the_month_is_the_last_day():
    # 10:00 on the 30th: 14 hours left, $100 to $114, $1 an hour. $113 is 13 hours on: 23:00 on the 30th.
    now = datetime(2026, 11, 30, 10, tzinfo=UTC)
    crossing = projected_crossing(amount=Decimal(113), spent=Decimal(100), projected_total=Decimal(114), now=now, period=NOVEMBER)
    assert crossing == date(2026, 11, 30)


def test_the_status_reads_the_billing_estimate_and_projects_the_20th(mid_month, product, make_sim):
    priceable_fleet(product, make_sim)
    # $11.45 is $0.50 above the $10.95 spent: 5 days at $0.10 a day, noon on the 20th.
    save_budget(product=product, amount=Decimal("11.45"), alert_percentages=[50, 80, 100], recipients="admins")

    status = budget_status(product, timezone.now())

    assert status is not None
    assert status.spent == SPENT
    assert status.projected_total == projected_for(Period.of(mid_month))
    assert status.percent == 95  # 10.95 / 11.45 = 95.6%, rounded down: 100 only once it is all spent
    assert status.projected_exceed_on == mid_month.date() + timedelta(days=5)
    assert status.currency == "USD" and not status.exceeded


def test_a_budget_already_passed_says_so_and_projects_no_day(mid_month, product, make_sim):
    priceable_fleet(product, make_sim)
    save_budget(product=product, amount=Decimal("10.00"), alert_percentages=[100], recipients="admins")

    status = budget_status(product, timezone.now())

    assert status is not None and status.exceeded and status.percent == 109
    assert status.projected_exceed_on is None


def test_a_product_without_a_budget_has_no_status(mid_month, product):
    assert budget_status(product, timezone.now()) is None


def test_reaching_a_percentage_is_exact_not_the_rounded_percent(mid_month, product, make_sim):
    priceable_fleet(product, make_sim)
    save_budget(product=product, amount=Decimal("10.96"), alert_percentages=[100], recipients="admins")
    status = budget_status(product, timezone.now())
    assert status is not None and status.percent == 99 and not status.reached(100) and status.reached(99)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("50, 80, 100", [50, 80, 100]), ("100,50", [50, 100]), ("80%; 120%", [80, 120]), ("1, 1000", [1, 1000])],
)
def test_percentages_are_read_as_people_type_them(text, expected):
    assert parse_percentages(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [("0", "from 1 to 1000"), ("1001", "from 1 to 1000"), ("50, 50", "twice"), ("fifty", "not a whole percentage"),
     ("12.5", "not a whole percentage"), (", ,", "at least one"), ("-10", "not a whole percentage")],
)  # fmt: skip
def test_bad_percentages_say_what_is_wrong(text, says):
    with pytest.raises(ValueError, match=says):
        parse_percentages(text)

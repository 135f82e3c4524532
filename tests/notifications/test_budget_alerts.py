"""Budget alerts on the periodic tick: one email per alert reached per billing period, to the people
the budget names, with the amount, the budget, the percentage and the projection. The fleet of
tests/billing/budget_fleet.py: $10.95 so far at noon on the 15th, growing $0.10 a day."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from billing.billing import Period
from billing.budgets import save_budget
from billing.models import BudgetAlert
from notifications.budget_alerts import run_budget_alerts, send_budget_alerts
from notifications.models import Kind, Notification
from sims.periodic import _work_of_other_apps
from tests.billing.budget_fleet import priceable_fleet
from tests.notifications.conftest import deliver_queued_emails


@pytest.fixture
def fleet(mid_month, product, owner, teammate, make_sim):
    priceable_fleet(product, make_sim)
    return product


def alerts(product) -> list[tuple]:
    return list(BudgetAlert.objects.filter(product=product).order_by("period_start", "percentage").values_list("period_start", "percentage"))


def test_the_tick_runs_the_budget_alerts():
    assert "notifications.budget_alerts.run_budget_alerts" in _work_of_other_apps


def test_an_alert_reached_is_mailed_to_the_admins_once(fleet, base_url):
    # $10.95 of $20: 54%, past 50, short of 80.
    save_budget(product=fleet, amount=Decimal(20), alert_percentages=[50, 80, 100], recipients="admins")
    now = timezone.now()

    assert run_budget_alerts(now) == "1 budget alert sent"
    assert send_budget_alerts(now=now + timedelta(minutes=15)) == 0
    deliver_queued_emails()

    assert alerts(fleet) == [(Period.of(now).start, 50)]
    assert [m.to for m in mail.outbox] == [["owner@example.com"]]
    email = mail.outbox[0]
    assert email.subject == "[Acme Trackers] 50% of the budget reached: $10.95 of $20.00"
    # The month costs $9.50 + $0.10 a day: within $20 whatever its length.
    projected = Decimal("9.50") + Decimal("0.10") * Period.of(now).days
    assert f"is $10.95 so far: 54% of its monthly budget of $20.00, past the 50% alert." in email.body
    assert f"projected to cost ${projected}, within the budget." in email.body
    assert f"Open Acme Trackers: {base_url}/products/acme/sims/" in email.body
    assert not Notification.objects.filter(user__username="teammate").exists()


def test_the_email_says_the_day_the_budget_is_projected_to_be_exceeded(fleet, mid_month):
    # $10.95 of $11.45: 95%; $0.50 to go at $0.10 a day, the 20th.
    save_budget(product=fleet, amount=Decimal("11.45"), alert_percentages=[90], recipients="admins")
    send_budget_alerts(now=timezone.now())
    deliver_queued_emails()
    assert "95% of its monthly budget of $11.45, past the 90% alert." in mail.outbox[0].body
    assert "and to exceed the budget on the 20th." in mail.outbox[0].body


def test_a_higher_alert_reached_later_is_mailed_too_and_several_at_once_make_one_email(fleet):
    save_budget(product=fleet, amount=Decimal(20), alert_percentages=[50, 80, 100], recipients="admins")
    send_budget_alerts(now=timezone.now())
    # A lower budget: $10.95 of $10.50 is 104%, past 80 and 100 at once.
    save_budget(product=fleet, amount=Decimal("10.50"), alert_percentages=[50, 80, 100], recipients="admins")
    assert send_budget_alerts(now=timezone.now()) == 1
    deliver_queued_emails()

    assert [percentage for _, percentage in alerts(fleet)] == [50, 80, 100]
    assert [m.subject for m in mail.outbox] == [
        "[Acme Trackers] 50% of the budget reached: $10.95 of $20.00",
        "[Acme Trackers] 100% of the budget reached: $10.95 of $10.50",
    ]
    assert "is projected to cost" in mail.outbox[1].body and "exceed" not in mail.outbox[1].body


def test_the_next_period_alerts_again(fleet):
    save_budget(product=fleet, amount=Decimal(15), alert_percentages=[50], recipients="admins")
    now = timezone.now()
    send_budget_alerts(now=now)
    # Next month at noon on the 2nd: no usage yet, the ten SIMs' $9.50 of hosting, 63% of $15.
    next_month = Period.of(now).ends_at + timedelta(days=1, hours=12)
    assert send_budget_alerts(now=next_month) == 1
    assert send_budget_alerts(now=next_month + timedelta(hours=1)) == 0
    assert alerts(fleet) == [(Period.of(now).start, 50), (Period.of(next_month).start, 50)]


def test_a_budget_for_the_team_tells_the_members_too(fleet):
    save_budget(product=fleet, amount=Decimal(20), alert_percentages=[50], recipients="team")
    send_budget_alerts(now=timezone.now())
    deliver_queued_emails()
    assert sorted(m.to[0] for m in mail.outbox) == ["owner@example.com", "teammate@example.com"]
    assert Notification.objects.filter(kind=Kind.BUDGET).count() == 2


def test_nothing_is_sent_below_every_alert_or_without_a_budget(fleet):
    assert send_budget_alerts(now=timezone.now()) == 0
    save_budget(product=fleet, amount=Decimal(100), alert_percentages=[50, 80], recipients="admins")
    assert send_budget_alerts(now=timezone.now()) == 0
    assert not BudgetAlert.objects.exists() and not Notification.objects.exists()

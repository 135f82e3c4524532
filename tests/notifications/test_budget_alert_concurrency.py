"""Ticks at once: each alert of a budget is told once."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from billing.budgets import save_budget
from billing.models import BudgetAlert
from notifications.budget_alerts import send_budget_alerts
from notifications.models import Notification
from tests.billing.budget_fleet import priceable_fleet

pytestmark = pytest.mark.django_db(transaction=True)


def test_ticks_at_once_tell_each_alert_once(mid_month, prices, product, owner, make_sim):
    priceable_fleet(product, make_sim)
    save_budget(product=product, amount=Decimal(20), alert_percentages=[25, 50, 80], recipients="admins")
    now = timezone.now()
    errors: list[Exception] = []
    start = threading.Barrier(4)

    def tick() -> None:
        try:
            start.wait()
            send_budget_alerts(now=now)
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert sorted(BudgetAlert.objects.values_list("percentage", flat=True)) == [25, 50]
    assert Notification.objects.count() == 1

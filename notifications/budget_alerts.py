"""Budget alerts: on every periodic tick (sims.periodic.every_tick), each product with a budget whose
cost so far this billing period (billing.budgets) has reached one of its alert percentages is told,
once per percentage per period, by the people its budget names (its admins, or the whole team).

A threshold is told once: its BudgetAlert row (unique per product, period and percentage) is
written in the transaction that writes the notifications and their email task, so ticks running at
once tell it once (the second waits on the first's row, then finds it taken). Several thresholds
reached at the same tick (a budget set mid-month, a jump in usage) make one email, of the highest;
the lower ones are recorded as told by it. A new period starts with none told.
"""

import logging
from datetime import datetime

from django.db import IntegrityError, transaction

from billing.budgets import BudgetStatus, status_of
from billing.models import Budget, BudgetAlert
from notifications import messages
from notifications.models import Kind
from notifications.notify import notify
from products.models import Membership

log = logging.getLogger(__name__)


def run_budget_alerts(now: datetime) -> str:
    """The periodic tick's part (registered by notifications.apps)."""
    sent = send_budget_alerts(now=now)
    return f"{sent:,} budget alert{'s' if sent != 1 else ''} sent" if sent else ""


def send_budget_alerts(*, now: datetime) -> int:
    """Tell every product whose cost reached an alert not yet told this period. How many alerts were sent."""
    sent = 0
    for budget in Budget.objects.select_related("product").order_by("product_id"):
        try:
            sent += alert_budget(budget, now=now)
        except Exception:
            log.exception("Budget alerts of product %s could not be sent; the next tick tries again.", budget.product.slug)
    return sent


def alert_budget(budget: Budget, *, now: datetime) -> bool:
    """Tell the highest alert reached and not yet told this period, if any. True when one was sent."""
    status = status_of(budget, now=now)
    reached = [p for p in budget.alert_percentages if status.reached(p)]
    if not reached:
        return False
    told = set(
        BudgetAlert.objects.filter(product=budget.product, period_start=status.period.start, percentage__in=reached).values_list(
            "percentage", flat=True
        )
    )
    due = sorted(set(reached) - told)
    if not due:
        return False
    with transaction.atomic():
        claimed = [percentage for percentage in due if _claim(budget, status, percentage, now=now)]
        if not claimed:
            return False  # another tick told them meanwhile
        message = messages.budget_reached(product=budget.product, status=status, percentage=max(claimed))
        notify(product_id=budget.product_id, kind=Kind.BUDGET, message=message, user_ids=_recipients(budget))
    return True


def _claim(budget: Budget, status: BudgetStatus, percentage: int, *, now: datetime) -> bool:
    try:
        with transaction.atomic():
            BudgetAlert.objects.create(
                product=budget.product, period_start=status.period.start, percentage=percentage,
                spent=status.spent, budget=status.amount, sent_at=now,
            )  # fmt: skip
    except IntegrityError:
        return False
    return True


def _recipients(budget: Budget) -> list[int] | None:
    """The admins' ids, or None for the whole team."""
    if budget.recipients == Budget.Recipients.TEAM:
        return None
    admins = Membership.objects.filter(product_id=budget.product_id, role=Membership.Role.ADMIN)
    return list(admins.values_list("user_id", flat=True))

"""Rules about the product, not a SIM (rules.kinds.PRODUCT_KINDS), on the periodic tick and, for the
cost, after usage is ingested (rules/usage_pass.py):
- the product's estimated cost this billing period over an amount or a percentage of its budget: the
  fleet header's estimate (billing.costs.cached_estimate, recomputed at most every few minutes), so a
  pass prices nothing the header has not; a rule that fired in the window already reads nothing;
- more than a percentage of the changes pushed to one of the product's carrier accounts failing in the
  last hours (carriers.health.push_failures, the push's calls). The built-in simulator is left out: its
  calls are shared by every product without an account, so no product's rate can be read from them.

Each fires with no SIM, once per (rule, subject, window) (RuleFiring.subject: "" the product,
"account:12" a carrier account), and tells people: an email, the product's webhooks (rules/acting.py)."""

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.expressions import RawSQL

from billing.costs import cached_estimate
from billing.models import Budget
from carriers.health import push_failures
from carriers.models import CarrierAccount
from rules.acting import act_on_product
from rules.active import any_in_use
from rules.conditions import CarrierFailures, CostOverBudget, condition_of
from rules.engine import enabled_rules, run_each
from rules.kinds import PRODUCT_KINDS, ConditionKind
from rules.models import Rule, RuleFiring
from rules.windows import window_key
from sims.models import Sim

log = logging.getLogger(__name__)

PRODUCT = ""  # the subject of a firing about the whole product


@dataclass(frozen=True)
class Met:
    """A subject of the product that meets the condition, with the figures that say so."""

    subject: str
    figures: dict[str, Any]


def run_product_rules(*, now: datetime, kinds: Collection[str] = PRODUCT_KINDS, product_ids: Iterable[int] | None = None) -> int:
    """The enabled rules of `kinds` (of these products, if given): how many new firings."""
    if not any_in_use(kinds):
        return 0
    return run_each(enabled_rules(kinds, product_ids=product_ids), lambda rule: evaluate(rule, now=now))


def products_touched(rules: list[Rule], among: str) -> set[int]:
    """The products of `rules` with a SIM in `among` (a subquery of SIM ids)."""
    products = {rule.product_id for rule in rules}
    return set(Sim.objects.filter(product_id__in=products, pk__in=RawSQL(among, [])).order_by().values_list("product_id", flat=True).distinct())


def evaluate(rule: Rule, *, now: datetime) -> int:
    window = window_key(kind=rule.window_kind, hours=rule.window_hours, day=now.date(), now=now)
    fired = set(RuleFiring.objects.filter(rule=rule, sim__isnull=True, window_key=window).values_list("subject", flat=True))
    condition = condition_of(rule.condition_kind, rule.condition)
    if rule.condition_kind == ConditionKind.COST_OVER_BUDGET:
        met = [] if PRODUCT in fired else cost_over(rule, condition, now=now)
    else:
        met = failing_accounts(rule, condition, now=now)
    new = [m for m in met if m.subject not in fired]
    if not new:
        return 0
    with transaction.atomic():
        firings = [firing for m in new if (firing := _record(rule, m, window=window, now=now)) is not None]
        act_on_product(rule, firings, now=now)
    return len(firings)


def _record(rule: Rule, met: Met, *, window: str, now: datetime) -> RuleFiring | None:
    """The firing, or None when another pass recorded it in the window meanwhile."""
    try:
        with transaction.atomic():
            return RuleFiring.objects.create(
                rule=rule, rule_version=rule.version, sim=None, subject=met.subject, window_key=window, fired_at=now, figures=met.figures
            )
    except IntegrityError:
        return None


def cost_over(rule: Rule, condition: CostOverBudget, *, now: datetime) -> list[Met]:
    figures: dict[str, Any] = {}
    if condition.percent is not None:
        budget = Budget.objects.filter(product_id=rule.product_id).values_list("amount", flat=True).first()
        if budget is None:
            return []  # the budget was removed since the rule was saved: nothing to compare with
        limit = (budget * condition.percent / 100).quantize(Decimal("0.01"))
        figures |= {"budget": str(budget), "budget_percent": condition.percent}
    else:
        limit = condition.amount  # type: ignore[assignment]
    try:
        estimate = cached_estimate(rule.product, now=now)
    except ValueError as error:
        log.warning("Rule %s: the product's cost cannot be estimated (%s); not evaluated.", rule.pk, error)
        return []
    cost = estimate.projected.total if condition.projected else estimate.so_far.total
    if cost <= limit:
        return []
    figures |= {"cost": str(cost), "over": str(limit), "projected": condition.projected, "period": str(estimate.period)}
    return [Met(PRODUCT, figures)]


def failing_accounts(rule: Rule, condition: CarrierFailures, *, now: datetime) -> list[Met]:
    names = dict(CarrierAccount.objects.filter(product_id=rule.product_id).values_list("pk", "name"))
    if not names:
        return []
    counts = push_failures(account_keys=list(names), since=now - timedelta(hours=condition.hours))
    met = []
    for key, (failed, pushed) in sorted(counts.items()):
        if pushed >= condition.min_changes and failed * 100 > condition.percent * pushed:
            rate = round(100 * failed / pushed, 1)
            figures = {"account": names[key], "failed": failed, "pushed": pushed, "failed_percent": rate, "hours": condition.hours}
            met.append(Met(f"account:{key}", figures))
    return met

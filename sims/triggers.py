"""Automatic triggers (Aeris): a provisioned SIM, under test, becomes active by itself at the
first of its product's rules it reaches: data, SMS, days with traffic, or time since provisioning."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import batched

from django.utils import timezone

from lib.calendar import months_later
from lib.units import KB, human_bytes
from products.models import Product
from sims.builtin_rules import TEST_TRIGGER, Acted, announce
from sims.lifecycle import Action, Actor, apply_action
from sims.limits import pause_if_over_limit
from sims.models import Sim, SimDailyUsage, State

IDS_PER_QUERY = 5_000


@dataclass(frozen=True)
class Rules:
    data_kb: int | None
    sms: int | None
    traffic_days: int | None
    months: int | None

    @classmethod
    def of(cls, product: Product) -> "Rules":
        return cls(product.trigger_data_kb, product.trigger_sms, product.trigger_traffic_days, product.trigger_months)


@dataclass(frozen=True)
class UsageSinceProvisioning:
    bytes: int = 0
    sms: int = 0
    traffic_days: int = 0


@dataclass(frozen=True)
class Reached:
    rule: str
    reason: str
    # What the trigger saw, for its firing's audit (rules app).
    figures: dict = field(default_factory=dict, compare=False)


def rule_reached(rules: Rules, used: UsageSinceProvisioning, provisioned_at: datetime, now: datetime) -> Reached | None:
    """The first rule this SIM has reached, in the seed's order, or None."""
    since = {"since": provisioned_at.date().isoformat()}
    if rules.data_kb is not None and used.bytes >= rules.data_kb * KB:
        return Reached(
            "trigger: data",
            f"{human_bytes(used.bytes)} used since provisioning reached the {rules.data_kb} KB rule.",
            {"trigger": "data", "bytes": used.bytes, "trigger_kb": rules.data_kb, **since},
        )
    if rules.sms is not None and used.sms >= rules.sms:
        return Reached(
            "trigger: SMS",
            f"{used.sms} SMS since provisioning reached the {rules.sms} SMS rule.",
            {"trigger": "sms", "sms": used.sms, "trigger_sms": rules.sms, **since},
        )
    if rules.traffic_days is not None and used.traffic_days >= rules.traffic_days:
        return Reached(
            "trigger: traffic days",
            f"Traffic on {used.traffic_days} days since provisioning reached the {rules.traffic_days}-day rule.",
            {"trigger": "traffic days", "traffic_days": used.traffic_days, "trigger_days": rules.traffic_days, **since},
        )
    if rules.months is not None and now >= _months_after(provisioned_at, rules.months):
        return Reached(
            "trigger: time",
            f"Provisioned on {provisioned_at:%Y-%m-%d}: the {rules.months}-month rule.",
            {"trigger": "time", "trigger_months": rules.months, **since},
        )
    return None


def apply_provisioning_triggers(*, sim_ids: list[int], now: datetime | None = None) -> int:
    """Activate the provisioned SIMs among these that reached one of their product's rules."""
    now = now or timezone.now()
    activated = 0
    for chunk in batched(sim_ids, IDS_PER_QUERY):
        sims = list(
            Sim.objects.filter(pk__in=chunk, state=State.PROVISIONED, product__isnull=False).values_list(
                "pk", "product_id", "state_changed_at"
            )
        )
        usage = _usage_since_provisioning({sim_id: changed_at.date() for sim_id, _, changed_at in sims})
        rules = {product.pk: Rules.of(product) for product in Product.objects.filter(pk__in={s[1] for s in sims})}
        reached = {
            sim_id: rule_reached(rules[product_id], usage.get(sim_id, UsageSinceProvisioning()), changed_at, now)
            for sim_id, product_id, changed_at in sims
        }
        activated += len(_activate(reached, now=now))
    return activated


def activate_long_provisioned(*, now: datetime | None = None) -> int:
    """The time rule needs no traffic: sweep each product's SIMs provisioned longer than its rule.
    A SIM whose test traffic this period is over its data limit is paused at once, as ingestion does."""
    now = now or timezone.now()
    activated: list[int] = []
    for product in Product.objects.filter(trigger_months__isnull=False):
        assert product.trigger_months is not None  # as filtered
        cutoff = datetime.combine(months_later(now.date(), -product.trigger_months), now.time(), tzinfo=UTC)
        sims = Sim.objects.filter(product=product, state=State.PROVISIONED, state_changed_at__lte=cutoff)
        rules = Rules.of(product)
        reached = {
            sim_id: rule_reached(rules, UsageSinceProvisioning(), changed_at, now)
            for sim_id, changed_at in sims.values_list("pk", "state_changed_at")
        }
        activated += _activate(reached, now=now)
    if activated:
        pause_if_over_limit(sim_ids=activated, now=now)
    return len(activated)


def _usage_since_provisioning(provisioned_on: dict[int, date]) -> dict[int, UsageSinceProvisioning]:
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    days = SimDailyUsage.objects.filter(sim_id__in=list(provisioned_on)).values_list("sim_id", "day", "bytes", "sms")
    for sim_id, day, amount, sms in days:
        if day >= provisioned_on[sim_id]:
            total = totals[sim_id]
            total[0] += amount
            total[1] += sms
            total[2] += 1 if (amount or sms) else 0
    return {sim_id: UsageSinceProvisioning(*total) for sim_id, total in totals.items()}


def _activate(reached: dict[int, Reached | None], *, now: datetime) -> list[int]:
    """Activate the SIMs that reached a rule; the ids activated."""
    by_rule: dict[str, dict[int, str]] = defaultdict(dict)
    for sim_id, hit in reached.items():
        if hit is not None:
            by_rule[hit.rule][sim_id] = hit.reason
    activated = []
    for rule, reasons in by_rule.items():
        report = apply_action(sims=list(reasons), action=Action.ACTIVATE, actor=Actor.system(rule), reasons=reasons)
        done = [outcome.sim_id for outcome in report.done]
        announce(TEST_TRIGGER, {sim_id: _acted(reached[sim_id]) for sim_id in done}, now=now)
        activated += done
    return activated


def _acted(hit: Reached | None) -> Acted:
    assert hit is not None  # only SIMs that reached a rule are activated
    return Acted(hit.figures, f"Activated: {hit.reason}")


def _months_after(moment: datetime, months: int) -> datetime:
    return datetime.combine(months_later(moment.date(), months), moment.timetz())

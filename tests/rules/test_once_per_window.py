"""Property: however usage arrives (in any number of passes, late records for earlier days, SIMs in any order),
a rule fires exactly once for each SIM and window in which the SIM's usage went over the amount, never twice."""

from collections import defaultdict
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.models import RuleFiring
from sims.models import ProductDailyUsage, SimCountryUsage, SimDailyUsage, SimPeriodUsage, UsageRecord
from tests.rules.conftest import MB, ingest, usage

pytestmark = pytest.mark.django_db

SIMS = 4
AMOUNT_MB = 50

# A pass: records of (SIM index, day offset 0-2 before the pass's day, MB).
passes = st.lists(
    st.lists(st.tuples(st.integers(0, SIMS - 1), st.integers(0, 2), st.integers(0, 40)), min_size=1, max_size=6),
    min_size=1,
    max_size=6,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(passes=passes)
def test_a_rule_fires_once_per_sim_and_day_it_went_over(make_rule, roomy_product, make_sim, now, passes):
    for model in (RuleFiring, UsageRecord, SimDailyUsage, SimPeriodUsage, ProductDailyUsage, SimCountryUsage):
        model.objects.all().delete()
    rule = roomy_product.rules.first() or make_rule(condition={"mb": AMOUNT_MB}, actions=[{"kind": "webhook"}])
    sims = list(roomy_product.sims.order_by("pk")) or [make_sim(roomy_product) for _ in range(SIMS)]

    used: dict[tuple[int, object], int] = defaultdict(int)
    for records in passes:
        rows = []
        for index, days_before, mb in records:
            at = now - timedelta(days=days_before, hours=1)
            used[(sims[index].pk, at.date())] += mb * MB
            rows.append(usage(sims[index], mb, at))
        ingest(*rows, now=now)

    firings = list(RuleFiring.objects.filter(rule=rule).values_list("sim_id", "window_key"))
    assert len(firings) == len(set(firings))
    assert set(firings) == {(sim_id, f"d{day}") for (sim_id, day), total in used.items() if total > AMOUNT_MB * MB}

"""The home-country advisor, computed by hand. Last month is November 2026 (30 days). Default
per-SIM plan prices: zone 1 (US, DE) $2.99 with 1 MB, $0.99 per MB; zone 2 (BR) $3.99 with 1 MB,
$1.59 per MB; zone 3 (KE) $5.99 with 1 MB, $3.99 per MB."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billing.advisor import advise_home_countries, apply_home_country_advice
from products.models import PricingModel
from sims.lifecycle import Actor
from sims.models import SimCountryUsage, SimEvent, State

NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
NOVEMBER = date(2026, 11, 1)
MB = 1_000_000


def used(sim, country: str, megabytes: float, period: date = NOVEMBER) -> None:
    SimCountryUsage.objects.create(product=sim.product, period=period, sim=sim, country=country, bytes=int(megabytes * MB))


@pytest.fixture
def fleet(product, make_sim):
    product.pricing_model = PricingModel.PER_SIM
    product.save()
    travellers = [make_sim(product, home_country="US") for _ in range(2)]
    for sim in travellers:
        used(sim, "BR", 5)  # homed US: $2.99 + 5 MB roaming at $1.59 = $10.94; homed BR: $3.99 + 4 MB over at $1.59 = $10.35
        used(sim, "BR", 9, period=date(2026, 12, 1))  # this month: not last month's
    at_home = make_sim(product, home_country="US")
    used(at_home, "US", 0.5)  # already cheapest
    visitor = make_sim(product, home_country="DE")
    used(visitor, "KE", 0.5)  # homed DE: $2.99 + $1.995; homed KE: $5.99. Stays.
    make_sim(product, home_country="US")  # no usage: nothing to advise
    return travellers


def test_the_advisor_suggests_the_home_country_that_would_have_cost_least_last_month(product, fleet):
    advice = advise_home_countries(product, now=NOW)

    assert advice.period.start == NOVEMBER
    assert advice.sims_considered == 4
    assert [(g.home_country, g.used_most, g.sims, g.suggested, g.suggested_zone.code, g.current_cost, g.suggested_cost, g.saving)
            for g in advice.groups] == [("US", "BR", 2, "BR", "Z2", Decimal("21.88"), Decimal("20.70"), Decimal("1.18"))]  # fmt: skip
    assert advice.saving == Decimal("1.18")


def test_a_group_is_the_sims_of_one_home_country_used_most_in_one_country(product, make_sim):
    sims = [make_sim(product, home_country="US") for _ in range(3)]
    used(sims[0], "BR", 5)
    used(sims[0], "US", 0.2)
    used(sims[1], "BR", 3)
    used(sims[2], "KE", 4)  # homed US: $2.99 + $15.96; homed KE: $5.99 + 3 MB over at $3.99 = $17.96

    groups = {(g.home_country, g.used_most): g.sims for g in advise_home_countries(product, now=NOW).groups}

    assert groups == {("US", "BR"): 2, ("US", "KE"): 1}


def test_applying_the_advice_sets_each_sims_home_country_with_an_audit_event(product, owner, fleet):
    report = apply_home_country_advice(product=product, actor=Actor.for_user(owner), now=NOW)

    assert report.changed == 2
    for sim in fleet:
        sim.refresh_from_db()
        assert (sim.home_country.code, sim.state) == ("BR", State.ACTIVE)
        event = SimEvent.objects.get(sim=sim)
        assert (event.action, event.from_state, event.to_state, event.actor_name) == ("set_home_country", "active", "active", "owner")
        assert event.reason == "Home country US -> BR (home-country advisor, November 2026 usage)"
    assert SimEvent.objects.count() == 2
    assert advise_home_countries(product, now=NOW).groups == []


def test_applying_twice_changes_nothing_the_second_time(product, owner, fleet):
    apply_home_country_advice(product=product, actor=Actor.for_user(owner), now=NOW)

    again = apply_home_country_advice(product=product, actor=Actor.for_user(owner), now=NOW)

    assert again.changed == 0
    assert SimEvent.objects.count() == 2


def test_a_sim_whose_home_changed_meanwhile_is_left_as_it_is(product, owner, fleet):
    advice = advise_home_countries(product, now=NOW)
    type(fleet[0]).objects.filter(pk=fleet[0].pk).update(home_country="MX")

    report = apply_home_country_advice(product=product, actor=Actor.for_user(owner), now=NOW, advice=advice)

    fleet[0].refresh_from_db()
    assert (report.changed, fleet[0].home_country.code) == (1, "MX")


def test_the_advice_reads_a_fixed_number_of_queries_whatever_the_fleet(product, make_sim, django_assert_max_num_queries):
    for index in range(60):
        sim = make_sim(product, home_country="US")
        used(sim, "BR" if index % 2 else "KE", 5)
        used(sim, "US", 0.1)
    with django_assert_max_num_queries(5):
        advice = advise_home_countries(product, now=NOW)
    assert sum(group.sims for group in advice.groups) == 60

"""The home-country advisor on the Billing tab: members read it, admins apply it in one click.
Default prices: zone 1 (US) plan $2.99 with 1 MB, $0.99 per MB; zone 2 (BR) $3.99 with 1 MB, $1.59 per MB."""

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.billing import Period
from products.models import PricingModel
from sims.models import Sim, SimCountryUsage, SimEvent
from tests.conftest import text_of

HTMX = {"HX-Request": "true"}
MB = 1_000_000


def url(name: str, product) -> str:
    return reverse(name, args=[product.slug])


def last_month() -> Period:
    return Period.of(timezone.now()).previous()


def travellers(product, make_sim, count: int) -> list[Sim]:
    """SIMs homed in the US that used 5 MB in Brazil last month: $10.94 each as they are, $10.35 homed in Brazil."""
    sims = [make_sim(product, home_country="US") for _ in range(count)]
    SimCountryUsage.objects.bulk_create(
        SimCountryUsage(product=product, period=last_month().start, sim=sim, country="BR", bytes=5 * MB) for sim in sims
    )
    return sims


@pytest.fixture
def advised(product, make_sim):
    product.pricing_model = PricingModel.PER_SIM
    product.save()
    return travellers(product, make_sim, 2)


def apply(client, product, **headers):
    return client.post(url("billing_advisor_apply", product), {"period": str(last_month())}, headers=headers)


def test_the_billing_page_loads_the_advisor_in_its_own_request(owner_client, product, advised):
    page = text_of(owner_client.get(url("billing", product)))
    assert "Pricing last month's usage under each home country" in page
    assert reverse("billing_advisor", args=[product.slug]) in owner_client.get(url("billing", product)).content.decode()


def test_the_advisor_lists_each_group_with_its_saving(owner_client, product, advised):
    response = owner_client.get(url("billing_advisor", product), headers=HTMX)
    text = text_of(response)
    assert "2 SIMs homed in United States of America, used most in Brazil" in text
    assert "Brazil (Z2)" in text
    assert "$1.18" in text and "$21.88 → $20.70" in text
    assert "Apply to 2 SIMs" in text
    assert 'hx-confirm="Change the home country of 2 SIMs' in response.content.decode()
    assert "<html" not in response.content.decode()


def test_the_advisor_without_htmx_is_the_whole_billing_page_with_it(owner_client, product, advised):
    text = text_of(owner_client.get(url("billing_advisor", product)))
    assert "Pricing model" in text and "2 SIMs homed in United States" in text


def test_a_member_reads_the_advice_without_the_button(teammate_client, product, advised):
    text = text_of(teammate_client.get(url("billing_advisor", product), headers=HTMX))
    assert "2 SIMs homed in United States" in text
    assert "Apply to" not in text and "Only a product admin can apply the advice" in text


def test_an_admin_applies_the_advice_in_one_click(owner_client, owner, product, advised):
    response = apply(owner_client, product, **HTMX)

    assert response.status_code == 200
    assert "Home country changed for 2 SIMs" in text_of(response)
    assert "Nothing to change" in text_of(response)
    assert set(Sim.objects.values_list("home_country", flat=True)) == {"BR"}
    assert set(SimEvent.objects.values_list("action", "actor_name")) == {("set_home_country", "owner")}


def test_a_second_click_changes_nothing(owner_client, product, advised):
    apply(owner_client, product, **HTMX)

    again = apply(owner_client, product, **HTMX)

    assert "Nothing to change: the SIMs are already homed as advised" in text_of(again)
    assert SimEvent.objects.count() == 2


def test_the_full_page_apply_redirects_to_billing(owner_client, product, advised):
    response = apply(owner_client, product)
    assert response.status_code == 302 and response.url == url("billing", product)
    assert SimEvent.objects.count() == 2


def test_advice_for_another_month_than_shown_is_refused(owner_client, product, advised):
    response = owner_client.post(url("billing_advisor_apply", product), {"period": "2020-01"}, headers=HTMX)
    assert response.status_code == 400
    assert "The advice has changed" in text_of(response)
    assert not SimEvent.objects.exists()


def test_the_advisor_says_it_prices_the_per_sim_plan_only(owner_client, product, advised):
    product.pricing_model = PricingModel.PAY_AS_YOU_GO
    product.save()
    assert "The advisor prices the per-SIM plan" in text_of(owner_client.get(url("billing_advisor", product), headers=HTMX))
    assert apply(owner_client, product, **HTMX).status_code == 400
    assert not SimEvent.objects.exists()


def test_a_fleet_homed_well_is_told_so(owner_client, product, make_sim):
    sim = make_sim(product, home_country="US")
    SimCountryUsage.objects.create(product=product, period=last_month().start, sim=sim, country="US", bytes=MB)
    text = text_of(owner_client.get(url("billing_advisor", product), headers=HTMX))
    assert "is homed in the cheapest of the countries it used" in text


def test_a_members_apply_is_403_and_changes_nothing(teammate_client, product, advised):
    assert apply(teammate_client, product, **HTMX).status_code == 403
    assert not SimEvent.objects.exists()


def test_an_outsider_gets_404_for_the_advisor_and_its_apply(outsider_client, product, advised):
    assert outsider_client.get(url("billing_advisor", product), headers=HTMX).status_code == 404
    assert apply(outsider_client, product, **HTMX).status_code == 404
    assert not SimEvent.objects.exists()


def test_a_signed_out_visitor_is_sent_to_sign_in(client, product):
    assert client.get(url("billing_advisor", product)).status_code == 302
    assert apply(client, product).status_code == 302


def test_the_wrong_method_gets_405(owner_client, product):
    assert owner_client.post(url("billing_advisor", product)).status_code == 405
    assert owner_client.get(url("billing_advisor_apply", product)).status_code == 405


@pytest.mark.parametrize("fleet", [3, 40])
def test_the_advisor_and_its_apply_read_a_bounded_number_of_queries_whatever_the_fleet(
    owner_client, product, make_sim, fleet, django_assert_max_num_queries
):
    product.pricing_model = PricingModel.PER_SIM
    product.save()
    travellers(product, make_sim, fleet)
    # session, user, membership; the price book (3) and last month's usage (1)
    with django_assert_max_num_queries(8):
        owner_client.get(url("billing_advisor", product), headers=HTMX)
    # the advice again and for the SIMs' ids (4 + 4), a lifecycle chunk of up to 1,000 SIMs (lock,
    # update, events, webhooks), the fragment's advice (4)
    with django_assert_max_num_queries(24):
        apply(owner_client, product, **HTMX)
    assert SimEvent.objects.count() == fleet

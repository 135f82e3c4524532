"""The budget in the console: its fragment of the product's Settings (admins set it, members read it)
and its line in the SIMs page's header (the fleet's monthly cost). The fleet of budget_fleet.py:
$10.95 so far at noon on the 15th, growing $0.10 a day."""

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.budgets import save_budget
from billing.models import Budget
from tests.billing.budget_fleet import priceable_fleet
from tests.conftest import text_of

HTMX = {"HX-Request": "true"}


def budget_url(product) -> str:
    return reverse("budget", args=[product.slug])


def form(**changes) -> dict:
    return {"amount": "1000", "alert_percentages": "50, 80, 100", "recipients": "admins", **changes}


# --- Settings -------------------------------------------------------------------------------------


def test_the_settings_page_loads_the_budget_fragment(owner_client, product):
    page = owner_client.get(reverse("product_settings", args=[product.slug])).content.decode()
    assert f'hx-get="{budget_url(product)}"' in page


def test_an_admin_sets_the_budget_with_the_default_alerts(owner_client, product):
    page = text_of(owner_client.get(budget_url(product)))
    assert "Save the budget" in page

    response = owner_client.post(budget_url(product), form(amount="$1,250.50"))

    assert response.status_code == 302 and response["Location"].endswith("/settings/#budget")
    budget = Budget.objects.get(product=product)
    assert (budget.amount, budget.alert_percentages, budget.recipients) == (Decimal("1250.50"), [50, 80, 100], "admins")


def test_an_htmx_save_answers_the_fragment_with_the_message(owner_client, product):
    response = owner_client.post(budget_url(product), form(alert_percentages="90, 75", recipients="team"), headers=HTMX)
    assert response.status_code == 200
    page = text_of(response)
    assert "Budget saved: $1,000.00 a month, alerts at 75%, 90%." in page
    assert 'value="75, 90"' in response.content.decode()
    assert Budget.objects.get(product=product).recipients == "team"


def test_an_admin_removes_the_budget(owner_client, product):
    save_budget(product=product, amount=Decimal(500), alert_percentages=[100], recipients="admins")
    response = owner_client.post(budget_url(product), {"remove": "1"}, headers=HTMX)
    assert response.status_code == 200 and "Budget removed" in text_of(response)
    assert not Budget.objects.filter(product=product).exists()


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"amount": "-5"}, "A budget is more than $0"),
        ({"amount": "0"}, "A budget is more than $0"),
        ({"amount": "a lot"}, "The budget is not a number"),
        ({"amount": "NaN"}, "The budget is not a number"),
        ({"amount": ""}, "Give the monthly budget in US dollars"),
        ({"amount": "10.555"}, "at most two decimals"),
        ({"amount": "99999999999"}, "too large"),
        ({"alert_percentages": "0, 50"}, "0% is out of range: each percentage is from 1 to 1000"),
        ({"alert_percentages": "1001"}, "1001% is out of range"),
        ({"alert_percentages": "50, 80, 50"}, "50% is given twice"),
        ({"alert_percentages": "half"}, "“half” is not a whole percentage"),
        ({"alert_percentages": ""}, "Give at least one percentage"),
        ({"recipients": "everyone"}, "Select a valid choice"),
    ],
)
def test_bad_input_says_what_is_wrong_and_saves_nothing(owner_client, product, changes, says):
    response = owner_client.post(budget_url(product), form(**changes), headers=HTMX)
    assert response.status_code == 400
    assert says in text_of(response)
    assert not Budget.objects.filter(product=product).exists()


def test_a_member_reads_the_budget_but_has_no_form(teammate_client, product):
    save_budget(product=product, amount=Decimal(500), alert_percentages=[80, 100], recipients="admins")
    response = teammate_client.get(budget_url(product))
    page = text_of(response)
    assert response.status_code == 200
    assert "$500.00" in page and "80%, 100% of it" in page and "The product's admins" in page
    assert "<form" not in response.content.decode()


def test_a_member_cannot_set_or_remove_the_budget(teammate_client, product):
    save_budget(product=product, amount=Decimal(500), alert_percentages=[100], recipients="admins")
    assert teammate_client.post(budget_url(product), form(amount="5")).status_code == 403
    assert teammate_client.post(budget_url(product), {"remove": "1"}).status_code == 403
    assert Budget.objects.get(product=product).amount == Decimal(500)


def test_an_outsider_gets_404_and_a_visitor_the_sign_in(client, outsider_client, product):
    assert outsider_client.get(budget_url(product)).status_code == 404
    assert outsider_client.post(budget_url(product), form()).status_code == 404
    outsider_client.logout()
    response = client.get(budget_url(product))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not Budget.objects.exists()


def test_the_budget_answers_get_and_post_only(owner_client, product):
    assert owner_client.put(budget_url(product)).status_code == 405


# --- The fleet header -----------------------------------------------------------------------------


def cost_fragment(client, product) -> str:
    return text_of(client.get(reverse("fleet_monthly_cost", args=[product.slug]), headers=HTMX))


def test_the_header_shows_the_budget_and_the_day_it_is_projected_to_be_exceeded(mid_month, teammate_client, product, make_sim):
    priceable_fleet(product, make_sim)
    # $0.50 to go at $0.10 a day: noon on the 20th.
    save_budget(product=product, amount=Decimal("11.45"), alert_percentages=[100], recipients="admins")
    page = cost_fragment(teammate_client, product)
    assert "Budget $10.95 of $11.45 (95%) projected to exceed on the 20th" in page


def test_the_header_shows_a_budget_passed_and_one_kept(mid_month, owner_client, product, make_sim):
    priceable_fleet(product, make_sim)
    save_budget(product=product, amount=Decimal("10.00"), alert_percentages=[100], recipients="admins")
    assert "Budget $10.95 of $10.00 (109%) over budget" in cost_fragment(owner_client, product)
    save_budget(product=product, amount=Decimal("100.00"), alert_percentages=[100], recipients="admins")
    page = cost_fragment(owner_client, product)
    assert "Budget $10.95 of $100.00 (10%)" in page and "exceed" not in page


def test_the_header_has_no_budget_line_without_a_budget(mid_month, owner_client, product, make_sim):
    priceable_fleet(product, make_sim)
    assert "Budget" not in cost_fragment(owner_client, product)

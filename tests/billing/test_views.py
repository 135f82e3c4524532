"""The billing pages: the fleet header's monthly cost, the Billing tab, invoices (printable and CSV)
and the plan comparison. Zone 1 (US) default prices: per-SIM plan $2.99 with 1 MB, pay as you go
$0.95 hosting and $0.10 per MB, pooled $2.50 per SIM with 10 MB pooled."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from billing.billing import Period
from billing.costs import cached_estimate
from billing.invoicing import close_billing_period
from billing.models import Invoice, InvoiceLine, RateZone
from products.models import PricingModel
from sims.models import ProductDailyUsage, SimCountryUsage, SimDailyUsage
from tests.conftest import text_of

HTMX = {"HX-Request": "true"}
MB = 1_000_000


def url(name: str, product, *args) -> str:
    return reverse(name, args=[product.slug, *args])


def use_today(sim, megabytes: float, country: str = "US", roaming: bool = False) -> None:
    """`roaming`: the SIM's second country today (its daily rollup has the first)."""
    today = timezone.now().date()
    used = int(megabytes * MB)
    if roaming:
        SimDailyUsage.objects.filter(sim=sim, day=today).update(bytes=F("bytes") + used)
    else:
        SimDailyUsage.objects.create(sim=sim, product=sim.product, day=today, bytes=used)
    ProductDailyUsage.objects.create(product=sim.product, day=today, country=country, bytes=used, newest_record_at=timezone.now())
    SimCountryUsage.objects.create(product=sim.product, period=today.replace(day=1), sim=sim, country=country, bytes=used)


def make_invoice(product, period_start: date, *, total: str = "12.95", number: str | None = None) -> Invoice:
    invoice = Invoice.objects.create(
        product=product, number=number or f"{period_start:%Y%m}-P{product.pk:05d}", period_start=period_start,
        pricing_model=PricingModel.PER_SIM, peak_sims=4, total=Decimal(total), issued_at=timezone.now(),
    )  # fmt: skip
    zone = RateZone.objects.get(code="Z1")
    InvoiceLine.objects.bulk_create([
        InvoiceLine(invoice=invoice, position=1, kind="plan", zone=zone, description="Per-SIM plan, Z1", quantity=Decimal("3.0000"),
                    unit="SIMs", unit_price=Decimal("2.9900"), amount=Decimal("8.97")),
        InvoiceLine(invoice=invoice, position=2, kind="overage", zone=zone, description="Data over the per-SIM plan, Z1",
                    quantity=Decimal("2.5000"), unit="MB", unit_price=Decimal("0.9900"), amount=Decimal("2.48")),
        InvoiceLine(invoice=invoice, position=3, kind="credit", zone=None, description="-Goodwill, =SUM(A1)",
                    quantity=Decimal("1.0000"), unit="", unit_price=Decimal("1.5000"), amount=Decimal("1.50")),
    ])  # fmt: skip
    return invoice


def two_months_ago() -> Period:
    return Period.of(timezone.now()).previous().previous()


# The fleet header's monthly cost


def test_the_sims_page_loads_the_monthly_cost_in_its_own_request(owner_client, product, sim):
    html = owner_client.get(url("sim_list", product)).content.decode()
    assert url("fleet_monthly_cost", product) in html
    assert "Monthly cost" in html


def test_the_monthly_cost_is_so_far_and_projected_with_its_basis_on_hover(mid_month, owner_client, product, sim):
    use_today(sim, 3)  # 2 MB over the plan so far, more projected

    response = owner_client.get(url("fleet_monthly_cost", product), headers=HTMX)

    html = response.content.decode()
    assert html.startswith('<div id="fleet-cost"')
    estimate = cached_estimate(product, now=timezone.now())
    assert estimate.so_far.total == Decimal("2.99") + Decimal("1.98")
    assert estimate.projected.total > estimate.so_far.total
    page = text_of(response)
    assert f"${estimate.so_far.total} so far · ${estimate.projected.total:,} projected for" in page
    title = html.split('title="')[1].split('"')[0]
    assert "Per-SIM plan" in title and "Peak SIMs at once so far: 1" in title and "Usage so far: 3.0 MB" in title
    assert "usage continues at its pace so far; the peak stays as it is" in title


def test_the_monthly_cost_is_cached_for_a_few_minutes(owner_client, product, sim, django_assert_max_num_queries):
    owner_client.get(url("fleet_monthly_cost", product))
    with django_assert_max_num_queries(4):  # session, user, membership, the budget (a line if any): no event or usage read
        response = owner_client.get(url("fleet_monthly_cost", product))
    assert "$2.99" in text_of(response)


def test_a_zone_without_a_price_says_the_cost_cannot_be_priced(owner_client, product, sim):
    from billing.models import ZonePrice

    ZonePrice.objects.all().delete()
    response = owner_client.get(url("fleet_monthly_cost", product))
    assert response.status_code == 200
    assert "cannot be priced" in text_of(response)
    assert "has no price" in response.content.decode()


# The Billing tab


def test_the_billing_tab_sits_beside_the_others(owner_client, product):
    html = owner_client.get(url("sim_list", product)).content.decode()
    assert f'href="{url("billing", product)}"' in html


def test_the_billing_page_loads_the_period_lazily(owner_client, product, sim):
    response = owner_client.get(url("billing", product))
    html = response.content.decode()
    assert f'hx-get="{url("billing_period", product)}"' in html
    assert "Pricing this period" in html
    assert "Per-SIM plan, Z1" not in html  # the lines come with the next request


def test_the_period_fragment_has_each_line_so_far_and_projected(owner_client, product, sim):
    use_today(sim, 3)
    response = owner_client.get(url("billing_period", product), headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="billing-period"')
    assert "<html" not in html
    page = text_of(response)
    assert "Per-SIM plan, Z1 $2.99 1 SIMs × $2.99 $2.99 1 SIMs × $2.99" in page
    assert "Data over the per-SIM plan, Z1 $1.98 2 MB × $0.99" in page
    assert "usage continues at its pace so far; the peak stays as it is" in page


def test_the_period_has_a_roaming_line_per_visited_zone_so_far_and_projected(mid_month, owner_client, product, sim):
    use_today(sim, 0.8)
    use_today(sim, 2, country="BR", roaming=True)  # homed in the US: zone 2 at $1.59 a MB

    page = text_of(owner_client.get(url("billing_period", product), headers=HTMX))

    assert "Roaming: data in Z2 outside the SIMs' home zones $3.18 2 MB × $1.59" in page
    assert page.count("MB × $1.59") == 2  # so far, and projected
    # 2.8 MB used, 0.8 MB of it at home: under the plan's 1 MB so far, over it projected (x1.9 or more on the 15th)
    assert "Data over the per-SIM plan, Z1 — $" in page


def test_the_period_without_htmx_is_the_whole_billing_page_with_it(owner_client, product, sim):
    response = owner_client.get(url("billing_period", product))
    html = response.content.decode()
    assert "<html" in html and "Pricing model" in html
    assert "Per-SIM plan, Z1" in html


def test_an_admin_sees_the_model_in_force_and_the_form(owner_client, product):
    page = text_of(owner_client.get(url("billing", product)))
    assert "In force Per-SIM plan" in page
    assert "Choose for next period" in page
    next_period = Period.of(timezone.now()).end
    assert f"A choice applies from the next billing period, {next_period.day} {next_period:%B %Y}" in page


def test_a_member_sees_the_pricing_model_read_only(teammate_client, product):
    response = teammate_client.get(url("billing", product))
    html = response.content.decode()
    assert 'name="pricing_model"' not in html
    assert "Only a product admin can change the pricing model" in text_of(response)


def test_an_admin_chooses_a_model_for_the_next_period_and_it_shows_as_pending(owner_client, product):
    z2 = RateZone.objects.get(code="Z2")
    response = owner_client.post(url("billing_model", product), {"pricing_model": "payg", "plan_zone": z2.pk}, follow=True)

    product.refresh_from_db()
    starts = Period.of(timezone.now()).end
    assert (product.pricing_model, product.pending_pricing_model, product.pending_plan_zone, product.pending_from) == (
        PricingModel.PER_SIM, PricingModel.PAY_AS_YOU_GO, z2, starts,
    )
    page = text_of(response)
    assert f"Pay as you go in zone Z2 will apply from {starts.day} {starts:%B %Y}, the start of the next billing period" in page
    assert f"From {starts.day} {starts:%B %Y}: Pay as you go in zone Z2. Chosen for the next period" in page
    assert "In force Per-SIM plan" in page
    assert 'value="payg" checked' in response.content.decode()


def test_choosing_the_model_in_force_again_cancels_the_pending_choice(owner_client, product):
    owner_client.post(url("billing_model", product), {"pricing_model": "pooled"})
    response = owner_client.post(url("billing_model", product), {"pricing_model": "per_sim"}, follow=True)
    product.refresh_from_db()
    assert product.pending_pricing_model == "" and product.pending_from is None
    assert "stays in force: no change is pending" in text_of(response)


def test_the_htmx_choice_returns_the_pricing_card_with_its_message(owner_client, product):
    response = owner_client.post(url("billing_model", product), {"pricing_model": "pooled"}, headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="pricing"')
    assert "Pooled inclusive volume will apply from" in html
    assert 'hx-swap-oob="true"' in html


def test_a_bad_model_is_refused(owner_client, product):
    response = owner_client.post(url("billing_model", product), {"pricing_model": "free"}, headers=HTMX)
    assert response.status_code == 400
    assert "Select a valid choice" in text_of(response)
    product.refresh_from_db()
    assert product.pending_pricing_model == ""


def test_a_members_choice_is_403_and_changes_nothing(teammate_client, product):
    response = teammate_client.post(url("billing_model", product), {"pricing_model": "payg"})
    assert response.status_code == 403
    product.refresh_from_db()
    assert product.pending_pricing_model == ""


def test_an_outsider_gets_404_for_every_billing_page(outsider_client, product):
    invoice = make_invoice(product, date(2026, 1, 1))
    for name, args in [("billing", ()), ("billing_period", ()), ("billing_compare", ()), ("fleet_monthly_cost", ()),
                       ("invoice_detail", (invoice.number,)), ("invoice_csv", (invoice.number,))]:  # fmt: skip
        assert outsider_client.get(url(name, product, *args)).status_code == 404, name
    assert outsider_client.post(url("billing_model", product), {"pricing_model": "payg"}).status_code == 404
    product.refresh_from_db()
    assert product.pending_pricing_model == ""


def test_a_signed_out_visitor_is_sent_to_sign_in(client, product):
    response = client.get(url("billing", product))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_wrong_method_gets_405(owner_client, product):
    assert owner_client.post(url("billing", product)).status_code == 405
    assert owner_client.get(url("billing_model", product)).status_code == 405


# Invoices


def test_past_invoices_are_listed_newest_first(owner_client, product):
    older, newer = make_invoice(product, date(2026, 1, 1)), make_invoice(product, date(2026, 2, 1), total="1234.50")
    page = text_of(owner_client.get(url("billing", product)))
    assert f"{newer.number} February 2026 Per-SIM plan 4 $1,234.50 View · CSV" in page
    assert page.index(newer.number) < page.index(older.number)


def test_the_invoice_list_reads_a_bounded_number_of_queries(owner_client, product, django_assert_max_num_queries):
    for month in range(1, 13):
        make_invoice(product, date(2025, month, 1))
    # session, user, membership, invoices, the rate zones of the form
    with django_assert_max_num_queries(5):
        response = owner_client.get(url("billing", product))
    assert response.content.decode().count("View</a>") == 12


def test_an_invoice_is_a_printable_page(owner_client, product):
    invoice = make_invoice(product, date(2026, 2, 1))
    response = owner_client.get(url("invoice_detail", product, invoice.number))
    page = text_of(response)
    assert f"Invoice {invoice.number}" in page
    assert "Billed to Acme Trackers" in page and "Period 1–28 February 2026" in page
    assert "Per-SIM plan, Z1 Z1 3 SIMs $2.99 $8.97" in page
    assert "Data over the per-SIM plan, Z1 Z1 2.5 MB $0.99 $2.48" in page
    assert "Total $12.95" in page
    html = response.content.decode()
    assert "data-print" in html and 'class="invoice-toolbar no-print"' in html
    assert 'class="tabs"' not in html  # a document, not a console page


def test_invoice_quantities_read_as_people_count_them(owner_client, product):
    invoice = make_invoice(product, date(2026, 2, 1))
    zone = RateZone.objects.get(code="Z1")
    InvoiceLine.objects.bulk_create([
        InvoiceLine(invoice=invoice, position=4, kind="roaming", zone=zone, description="Roaming data, Z1",
                    quantity=Decimal("4371.2468"), unit="MB", unit_price=Decimal("0.0100"), amount=Decimal("43.71")),
        InvoiceLine(invoice=invoice, position=5, kind="plan", zone=zone, description="Per-SIM plan for part of the month, Z1",
                    quantity=Decimal("2.3226"), unit="SIM-months", unit_price=Decimal("2.9900"), amount=Decimal("6.94")),
        InvoiceLine(invoice=invoice, position=6, kind="overage", zone=zone, description="A trickle over the plan, Z1",
                    quantity=Decimal("0.0040"), unit="MB", unit_price=Decimal("0.9900"), amount=Decimal("0.00")),
    ])  # fmt: skip
    page = text_of(owner_client.get(url("invoice_detail", product, invoice.number)))
    assert "Per-SIM plan, Z1 Z1 3 SIMs $2.99" in page  # whole SIMs: no decimals
    assert "Roaming data, Z1 Z1 4,371.25 MB $0.01" in page
    assert "Per-SIM plan for part of the month, Z1 Z1 2.32 SIM-months" in page
    assert "A trickle over the plan, Z1 Z1 under 0.01 MB" in page
    assert "4,371.2468" not in page and "2.3226" not in page
    assert "the CSV has them in full" in page


def test_the_invoice_page_reads_a_bounded_number_of_queries(owner_client, product, django_assert_max_num_queries):
    invoice = make_invoice(product, date(2026, 2, 1))
    with django_assert_max_num_queries(5):  # session, user, membership, invoice, its lines with zones
        owner_client.get(url("invoice_detail", product, invoice.number))


def test_the_print_stylesheet_leaves_out_the_console_around_the_invoice():
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "static/css/console.css").read_text()
    print_rules = css.split("@media print")[1]
    assert ".topbar" in print_rules and ".no-print" in print_rules and "display: none" in print_rules


def test_the_invoice_csv_has_every_line_and_the_total(owner_client, product):
    invoice = make_invoice(product, date(2026, 2, 1))
    response = owner_client.get(url("invoice_csv", product, invoice.number))
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == f'attachment; filename="invoice-{invoice.number}.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["kind", "zone", "description", "quantity", "unit", "unit_price", "amount"],
        ["plan", "Z1", "Per-SIM plan, Z1", "3.0000", "SIMs", "2.9900", "8.97"],
        ["overage", "Z1", "Data over the per-SIM plan, Z1", "2.5000", "MB", "0.9900", "2.48"],
        ["credit", "", "'-Goodwill, =SUM(A1)", "1.0000", "", "1.5000", "1.50"],  # a formula stays text
        ["total", "", f"Total of invoice {invoice.number}", "", "", "", "12.95"],
    ]


def test_the_invoice_csv_makes_every_text_cell_inert_and_leaves_negative_amounts_numbers(owner_client, product):
    invoice = make_invoice(product, date(2026, 2, 1))
    zone = RateZone.objects.create(code="=1+2", name="A zone named by a formula")
    InvoiceLine.objects.bulk_create([
        InvoiceLine(invoice=invoice, position=4, kind="credit", zone=zone, description="\t=HYPERLINK(\"http://x\")",
                    quantity=Decimal("1.0000"), unit="@SIMs", unit_price=Decimal("-1.5000"), amount=Decimal("-1.50")),
        InvoiceLine(invoice=invoice, position=5, kind="credit", zone=None, description="\r=1+2",
                    quantity=Decimal("-2.0000"), unit="+MB", unit_price=Decimal("0.7500"), amount=Decimal("-1.50")),
    ])  # fmt: skip
    rows = list(csv.reader(io.StringIO(owner_client.get(url("invoice_csv", product, invoice.number)).content.decode(), newline="")))
    assert rows[4] == ["credit", "'=1+2", "'\t=HYPERLINK(\"http://x\")", "1.0000", "'@SIMs", "-1.5000", "-1.50"]
    assert rows[5] == ["credit", "", "'\r=1+2", "-2.0000", "'+MB", "0.7500", "-1.50"]


def test_another_products_invoice_is_404_even_for_a_member(owner_client, product, other_product):
    foreign = make_invoice(other_product, date(2026, 2, 1))
    assert owner_client.get(url("invoice_detail", product, foreign.number)).status_code == 404
    assert owner_client.get(url("invoice_csv", product, foreign.number)).status_code == 404


# Compare plans


def test_the_comparison_page_comes_first_and_the_prices_in_their_own_request(owner_client, product, sim, django_assert_max_num_queries):
    make_invoice(product, two_months_ago().start)
    with django_assert_max_num_queries(4):  # session, user, membership, the last invoice: no pricing
        response = owner_client.get(url("billing_compare", product))
    html = response.content.decode()
    assert "<html" in html and "Compare plans" in html
    assert f'hx-get="{url("billing_compare", product)}?basis=last" hx-trigger="load"' in html
    assert 'class="card plan' not in html


def test_a_history_restore_gets_the_whole_page(owner_client, product, sim):
    response = owner_client.get(url("billing_compare", product), headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in response.content.decode()


def test_the_comparison_marks_the_cheapest_of_the_three(owner_client, product, sim):
    response = owner_client.get(url("billing_compare", product), headers=HTMX)
    html = response.content.decode()
    cards = html.split('<article class="card plan')[1:]
    assert len(cards) == 3
    cheapest = [card for card in cards if card.startswith(" cheapest")]
    assert len(cheapest) == 1 and "Pay as you go" in cheapest[0] and "Cheapest" in cheapest[0]
    page = text_of(response)
    assert "Per-SIM plan In force $2.99" in page
    assert "Pay as you go Cheapest $0.95 $2.04 less than the model in force" in page
    assert "Pooled inclusive volume $2.50 $0.49 less than the model in force" in page
    assert "Based on the fleet's real usage" in page and "event log" in page
    assert "Pay as you go would have cost $2.04 less than the Per-SIM plan for this period so far" in page
    assert "no invoice yet" in page  # nothing closed: this period so far


def test_the_comparison_of_the_last_closed_period_matches_its_invoice(owner_client, product, make_sim):
    sims = [make_sim(product, home_country="US") for _ in range(3)]
    period = two_months_ago()
    day = period.start + timedelta(days=3)
    SimDailyUsage.objects.create(sim=sims[0], product=product, day=day, bytes=40 * MB)
    ProductDailyUsage.objects.create(product=product, day=day, country="US", bytes=40 * MB, newest_record_at=timezone.now())
    close_billing_period(period=period)
    invoice = Invoice.objects.get(product=product)

    response = owner_client.get(url("billing_compare", product), headers=HTMX)

    page = text_of(response)
    assert f"{period.start:%B %Y}, as invoiced (invoice {invoice.number}" in page
    per_sim = f"Per-SIM plan Invoiced {'$' + format(invoice.total, ',')}"
    assert per_sim in page
    # 3 SIMs: per-SIM $8.97 + 39 MB × $0.99; pay as you go $2.85 + 40 MB × $0.10; pooled $7.50, 40 MB beyond 30 MB × $0.20
    assert invoice.total == Decimal("8.97") + Decimal("38.61")
    assert "Pay as you go Cheapest $6.85 $40.73 less than invoiced" in page and "Pooled inclusive volume $9.50" in page
    cheapest = [card for card in response.content.decode().split('<article class="card plan')[1:] if card.startswith(" cheapest")]
    assert len(cheapest) == 1 and "Pay as you go" in cheapest[0]


def test_the_toggle_shows_this_period_so_far_as_a_fragment(owner_client, product, sim):
    make_invoice(product, two_months_ago().start)
    response = owner_client.get(url("billing_compare", product) + "?basis=current", headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="comparison"')
    assert "so far" in text_of(response) and "not projected" in text_of(response)
    assert "?basis=last" in html  # the other side of the toggle


def test_the_comparison_reads_a_bounded_number_of_queries(owner_client, product, make_sim, django_assert_max_num_queries):
    today = timezone.now().date()
    for index in range(40):
        sim = make_sim(product, home_country="US" if index % 2 else "MX")
        SimDailyUsage.objects.create(sim=sim, product=product, day=today, bytes=2 * MB)
    for country in ("US", "PL"):
        ProductDailyUsage.objects.create(product=product, day=today, country=country, bytes=40 * MB, newest_record_at=timezone.now())
    # session, user, membership, the last invoice; then three pricings of 7 queries each whatever the fleet (26 in all)
    with django_assert_max_num_queries(26):
        response = owner_client.get(url("billing_compare", product), headers=HTMX)
    assert response.status_code == 200 and response.content.decode().count('<article class="card plan') == 3


@pytest.mark.parametrize("basis", ["nonsense", "last"])
def test_a_basis_that_cannot_be_shown_falls_back_to_this_period(owner_client, product, sim, basis):
    response = owner_client.get(url("billing_compare", product) + f"?basis={basis}", headers=HTMX)
    assert response.status_code == 200
    assert "so far" in text_of(response)


def test_the_monthly_cost_reads_a_fixed_number_of_queries_whatever_the_fleet(owner_client, product, make_sim, django_assert_max_num_queries):
    for index in range(40):
        make_sim(product, home_country="US" if index % 2 else "MX")
    # session, user, membership; two pricings (so far, projected) of 9 queries each (the 9th: roaming); the usage so far
    with django_assert_max_num_queries(22):
        response = owner_client.get(url("fleet_monthly_cost", product), headers=HTMX)
    assert "so far" in text_of(response)


def test_the_sim_page_loads_its_data_by_visited_country_at_home_and_roaming_from_billing(owner_client, product, sim, django_assert_max_num_queries):
    period = timezone.now().date().replace(day=1)
    for country, used in [("US", 1_500_000), ("CA", 250_000), ("BR", 3_200_000), ("", 50_000)]:
        SimCountryUsage.objects.create(product=product, period=period, sim=sim, country=country, bytes=used)
    SimCountryUsage.objects.create(product=product, period=period.replace(year=period.year - 1), sim=sim, country="KE", bytes=9_000_000)
    fragment = url("sim_usage_by_zone", product, sim.iccid)
    assert f'hx-get="{fragment}"' in owner_client.get(url("sim_detail", product, sim.iccid)).content.decode()

    with django_assert_max_num_queries(7):
        response = owner_client.get(fragment, headers=HTMX)

    text = text_of(response)
    assert "At home (Z1) 1.8 MB" in text and "Roaming 3.2 MB" in text
    assert "Brazil Z2 3.2 MB roaming" in text
    assert "United States of America Z1 1.5 MB home" in text
    assert "Canada Z1 250.0 KB home" in text
    assert "Not stated Z1 50.0 KB home" in text
    assert "Kenya" not in text


def test_a_sim_without_usage_this_period_has_no_where_section(owner_client, product, sim):
    assert "Where, this period" not in text_of(owner_client.get(url("sim_usage_by_zone", product, sim.iccid), headers=HTMX))


def test_another_products_sim_has_no_usage_by_zone_for_an_outsider(outsider_client, product, sim):
    assert outsider_client.get(url("sim_usage_by_zone", product, sim.iccid)).status_code == 404

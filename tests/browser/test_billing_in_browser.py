"""Billing in a real browser: the fleet header's monthly cost, the Billing tab, an invoice on screen
and on paper, and the plan comparison."""

import random
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing.billing import Period
from billing.invoicing import LATE_USAGE, close_billing_period
from billing.models import Charge, Invoice
from lib.units import MB
from products.models import Membership, Product
from sims.models import Sim, State
from sims.usage import UsageRow, ingest_usage
from tests.browser.test_console_in_browser import sign_in
from tests.conftest import make_iccid, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
_ids = count(1)


def row(sim: Sim, at: datetime, megabytes: float, country: str) -> UsageRow:
    total = int(megabytes * MB)
    return UsageRow(
        record_id=f"bill{next(_ids)}", iccid=sim.iccid, started_at=at, ended_at=at + timedelta(minutes=20),
        bytes_up=total // 5, bytes_down=total - total // 5, sms=1, country=country,
    )  # fmt: skip


@pytest.fixture
def billed_fleet(transactional_db, prices):
    """24 SIMs, two months of usage (some of it roaming in zone 2), last month closed and invoiced."""
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers", default_data_limit_mb=500)
    Membership.objects.create(user=make_user("demo"), product=product, role=Membership.Role.ADMIN)
    sims = Sim.objects.bulk_create(
        [Sim(iccid=make_iccid(), product=product, state=State.ACTIVE, home_country="US", data_limit_mb=500) for _ in range(22)]
        + [Sim(iccid=make_iccid(), product=product, state=State.SUSPENDED, home_country="DE") for _ in range(2)]
    )
    now = timezone.now()
    closed = Period.of(now).previous()
    if closed.ends_at + LATE_USAGE > now:  # the first hour of a month: the one before is the last closed
        closed = closed.previous()
    rng = random.Random(7)
    rows = []
    day = closed.starts_at
    while day < now - timedelta(hours=2):
        for index, sim in enumerate(sims[:20]):
            if rng.random() < 0.2:
                continue
            megabytes = rng.uniform(0.2, 1.4) * (4 if index < 3 else 1)
            rows.append(row(sim, day + timedelta(hours=rng.randint(0, 20)), megabytes, "MX" if index % 5 == 0 else "US"))
        day += timedelta(days=1)
    ingest_usage([r for r in rows if r.ended_at < now])
    Charge.objects.create(
        product=product, kind=Charge.Kind.CREDIT, description="Credit: a day of network outage", quantity=1,
        unit_price=Decimal("-4.00"), amount=Decimal("-4.00"), period_start=closed.start,
    )  # fmt: skip
    close_billing_period(period=closed)
    return product, Invoice.objects.get(product=product)


def test_the_fleet_header_shows_the_monthly_cost(page, live_server, billed_fleet, screenshot):
    product, _ = billed_fleet
    sign_in(page, live_server)
    page.get_by_role("link", name="Acme Asset Trackers").click()
    cost = page.locator("#fleet-cost")
    expect(cost).to_contain_text("so far")
    expect(cost).to_contain_text("projected for")
    basis = cost.get_attribute("title")
    assert "Peak SIMs at once so far: 22" in basis and "usage continues at its pace so far; the peak stays as it is" in basis
    box = page.locator(".fleet-header").bounding_box()
    assert box["height"] < 200  # the card fits the header's row, not a column of its own
    page.locator(".fleet-header").screenshot(path=str(screenshot_path("20-fleet-header-monthly-cost")))


def screenshot_path(name: str):
    from tests.browser.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


def test_the_billing_page_and_a_choice_for_next_period(page, live_server, billed_fleet, screenshot):
    product, invoice = billed_fleet
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/products/{product.slug}/sims/")
    page.get_by_role("navigation", name="Product").get_by_role("link", name="Billing").click()
    lines = page.locator("#billing-period .bill-lines tbody tr")
    expect(lines.first).to_contain_text("Per-SIM plan")
    expect(page.locator("#invoices tbody tr")).to_have_count(1)
    expect(page.locator("#invoices")).to_contain_text(invoice.number)
    screenshot("21-billing")

    page.get_by_label("Pay as you go").check()
    page.get_by_role("button", name="Choose for next period").click()
    expect(page.locator("#messages")).to_contain_text("will apply from")
    expect(page.locator(".notice.pending")).to_contain_text("Pay as you go")
    screenshot("22-billing-pending-choice", full_page=False)
    product.refresh_from_db()
    assert product.pending_pricing_model == "payg" and product.pricing_model == "per_sim"


def test_an_invoice_on_screen_and_on_paper(page, live_server, billed_fleet, screenshot):
    product, invoice = billed_fleet
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/products/{product.slug}/billing/")
    page.get_by_role("link", name=invoice.number).click()
    expect(page.get_by_role("heading", name=f"Invoice {invoice.number}")).to_be_visible()
    expect(page.locator(".invoice-lines tfoot")).to_contain_text(f"${invoice.total:,}")
    expect(page.locator(".invoice-lines")).to_contain_text("Credit: a day of network outage")
    screenshot("23-invoice")

    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.locator(".invoice-toolbar")).to_be_hidden()
    screenshot("24-invoice-printed")
    page.pdf(path=str(screenshot_path("24-invoice-printed").with_suffix(".pdf")))

    page.emulate_media(media="screen")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    text = download.value.path().read_text()
    assert text.splitlines()[0] == "kind,zone,description,quantity,unit,unit_price,amount"
    assert text.splitlines()[-1].endswith(f",{invoice.total}")


def test_compare_plans(page, live_server, billed_fleet, screenshot):
    product, invoice = billed_fleet
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/products/{product.slug}/billing/")
    page.get_by_role("link", name="Compare plans").click()
    cards = page.locator(".compare-grid .plan")
    expect(cards).to_have_count(3)
    expect(page.locator(".plan.cheapest")).to_have_count(1)
    expect(page.locator(".plan.cheapest .badge-cheapest")).to_have_text("Cheapest")
    expect(page.locator(".plan.in-force")).to_contain_text(f"${invoice.total:,}")  # the same period, as invoiced
    expect(page.locator(".basis")).to_contain_text("as invoiced")
    screenshot("25-compare-last-period")

    page.get_by_role("link", name="This period so far").click()
    expect(page.locator(".basis")).to_contain_text("so far")
    expect(page).to_have_url(f"{live_server.url}/products/{product.slug}/billing/compare/?basis=current")
    expect(cards).to_have_count(3)
    screenshot("26-compare-this-period")


def test_the_home_country_advisor_on_a_phone_and_a_desk(page, live_server, billed_fleet, screenshot):
    product, _ = billed_fleet
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/products/{product.slug}/billing/")
    advisor = page.locator("#advisor")
    expect(advisor).to_contain_text("homed in United States of America, used most in Mexico")
    expect(advisor.locator(".advisor-groups tbody tr").first).to_contain_text("Mexico (Z2)")
    advisor.scroll_into_view_if_needed()
    screenshot("27-billing-advisor")
    page.locator("#advisor").screenshot(path=str(screenshot_path("27-billing-advisor-card")))

    page.set_viewport_size({"width": 375, "height": 812})
    page.reload()
    expect(page.locator("#advisor .advisor-groups")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scroll
    page.locator("#advisor").screenshot(path=str(screenshot_path("28-billing-advisor-phone")))
    screenshot("28-billing-phone")

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#advisor").get_by_role("button", name="Apply to").click()
    expect(page.locator("#messages")).to_contain_text("Home country changed for")
    expect(page.locator("#advisor")).to_contain_text("Nothing to change")
    moved = Sim.objects.filter(product=product, home_country="MX")
    assert moved.exists() and all(sim.events.filter(action="set_home_country").count() == 1 for sim in moved)

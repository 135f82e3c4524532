"""Usage in a real browser: the fleet header and its sparkline, the spikes card, a SIM's usage bar and chart."""

import random
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from lib.units import MB
from products.models import Membership, Product
from sims.models import Sim, State
from sims.spikes import detect_spikes
from sims.usage import UsageRow, ingest_usage
from tests.browser.test_console_in_browser import sign_in
from tests.conftest import make_iccid, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
_ids = count(1)


def row(sim: Sim, at: datetime, megabytes: float, country: str = "US") -> UsageRow:
    total = int(megabytes * MB)
    return UsageRow(
        record_id=f"b{next(_ids)}", iccid=sim.iccid, started_at=at, ended_at=at + timedelta(minutes=20),
        bytes_up=total // 5, bytes_down=total - total // 5, sms=0, country=country,
    )  # fmt: skip


@pytest.fixture
def fleet(mid_month, transactional_db):
    """20 SIMs with 40 days of a daily rhythm; two of them spike yesterday; one is paused at its limit.
    Mid-month, so that this month has usage before the last half hour."""
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers", default_data_limit_mb=500)
    Membership.objects.create(user=make_user("demo"), product=product, role=Membership.Role.ADMIN)
    sims = Sim.objects.bulk_create(
        [Sim(iccid=make_iccid(), product=product, state=State.ACTIVE, home_country="US", data_limit_mb=500) for _ in range(18)]
        + [Sim(iccid=make_iccid(), product=product, state=State.SUSPENDED, home_country="DE") for _ in range(2)]
    )
    now = timezone.now()
    today = datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC)
    rng = random.Random(3)
    rows = []
    for days_ago in range(40, 0, -1):
        day = today - timedelta(days=days_ago)
        weekend = day.weekday() >= 5
        for index, sim in enumerate(sims[:16]):
            if rng.random() < 0.15:
                continue  # the odd silent day
            megabytes = rng.uniform(0.3, 0.9) * (0.6 if weekend else 1) * (3 if index < 2 else 1)
            rows.append(row(sim, day + timedelta(hours=rng.randint(0, 22)), megabytes, "US" if index % 3 else "MX"))
    yesterday = today - timedelta(days=1)
    rows += [row(sims[5], yesterday + timedelta(hours=3), 34), row(sims[9], yesterday + timedelta(hours=9), 12)]
    rows += [row(sim, now - timedelta(minutes=30), 0.2) for sim in sims[:12]]
    ingest_usage(rows)
    detect_spikes(day=yesterday.date())
    paused = sims[16]
    paused.data_limit_mb = 5
    paused.save(update_fields=["data_limit_mb"])
    ingest_usage([row(paused, now - timedelta(minutes=40), 5.6)])
    return product, sims


def test_the_fleet_header_and_the_spikes_card(page, live_server, fleet, screenshot):
    product, sims = fleet
    sign_in(page, live_server)
    page.get_by_role("link", name="Acme Asset Trackers").click()

    header = page.locator(".fleet-header")
    expect(header).to_contain_text("Data usage")
    expect(header).to_contain_text("as of")
    expect(page.locator("#fleet-active")).to_have_text("18")  # 17 active and 1 paused at its limit
    sparkline = header.locator("svg[role=img]")
    expect(sparkline).to_be_visible()
    assert "Fleet data usage per day this month" in sparkline.get_attribute("aria-label")
    box = sparkline.bounding_box()
    assert box["width"] > 200 and box["height"] > 25

    card = page.locator(".spikes-card")
    expect(card).to_contain_text("Usage spikes on")
    expect(card.locator("tbody tr")).to_have_count(2)
    expect(card.locator("tbody tr").first).to_contain_text(sims[5].iccid)
    screenshot("10-fleet-header-and-spikes")

    card.get_by_role("link", name="Show them in the SIM table").click()
    expect(page.locator("#sim-table tbody tr")).to_have_count(2)
    expect(page.locator("#id_spikes")).to_be_checked()
    page.select_option("select[name=action]", "set_data_limit")
    expect(page.get_by_text("unpause paused SIMs now under it")).to_be_visible()
    screenshot("11-spiking-sims-filter", full_page=False)


def test_the_default_data_limit_form_says_what_it_applies_to(page, live_server, fleet, screenshot):
    product, _ = fleet
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/products/{product.slug}/sims/")
    page.get_by_text("Set data limit", exact=True).first.click()
    form = page.locator(".limit-menu .menu-panel")
    expect(form).to_contain_text("imported from now on")
    screenshot("12-default-data-limit", full_page=False)
    form.locator("input[name=data_limit_mb]").fill("50")
    form.get_by_role("button", name="Save default").click()
    expect(page.locator("#messages")).to_contain_text("set to 50 MB, for SIMs imported from now on")
    product.refresh_from_db()
    assert product.default_data_limit_mb == 50


def test_a_sim_page_with_its_usage_bar_and_daily_chart(page, live_server, fleet, screenshot):
    product, sims = fleet
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/products/{product.slug}/sims/{sims[5].iccid}/")
    usage = page.locator(".sim-usage")
    expect(usage.locator(".usage-figures")).to_contain_text("of 500 MB")
    chart = usage.locator(".daily-chart svg[role=img]")
    expect(chart).to_be_visible()
    expect(chart.locator("g.day")).to_have_count(60)
    assert chart.bounding_box()["height"] > 60
    screenshot("13-sim-usage")

    # The paused one: over its limit, and its menu offers to unpause.
    page.goto(f"{live_server.url}/products/{product.slug}/sims/{sims[16].iccid}/")
    expect(page.locator(".usage-bar.over")).to_contain_text("at or over the limit")
    expect(page.get_by_label("Unpause if the new limit is above this period's")).to_be_checked()
    screenshot("14-sim-paused-at-limit")
    page.locator("input[name=data_limit_mb]").fill("20")
    page.get_by_role("button", name="Set data limit").click()
    expect(page.locator("#messages")).to_contain_text("unpaused")
    expect(page.locator(".sim-head .badge[class*='state-']")).to_have_text("Active")


def test_the_triggers_page(page, live_server, fleet, screenshot):
    product, _ = fleet
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/products/{product.slug}/sims/")
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Automatic triggers")).to_be_visible()
    page.get_by_label("SMS sent").fill("")
    page.get_by_role("button", name="Save triggers").click()
    expect(page.locator("#messages")).to_contain_text("Automatic triggers saved")
    screenshot("15-triggers")
    product.refresh_from_db()
    assert product.trigger_sms is None

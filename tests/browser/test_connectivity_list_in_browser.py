"""The SIMs page's fleet connectivity in a real browser (issue 17, item 7): the counts above the table,
the Connectivity filter, the "Offline for" column sorted longest first, on a desk and on a phone."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from products.models import Membership, Product
from sims.models import Connectivity, Sim, SimConnectivity, State
from tests.browser.conftest import PHONE, SCREENSHOTS
from tests.browser.test_console_in_browser import sign_in
from tests.conftest import make_iccid, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seen_fleet(transactional_db):
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers")
    Membership.objects.create(user=make_user("demo"), product=product, role=Membership.Role.ADMIN)
    now = timezone.now()
    seen = [
        (Connectivity.ONLINE, timedelta(minutes=4)), (Connectivity.ONLINE, timedelta(hours=3)),
        (Connectivity.ATTACHED, timedelta(minutes=40)),
        (Connectivity.OFFLINE, timedelta(hours=5)), (Connectivity.OFFLINE, timedelta(days=3, hours=2)),
        (Connectivity.OFFLINE, timedelta(days=12)), (Connectivity.OFFLINE, timedelta(days=1, hours=1)),
    ]  # fmt: skip
    sims = Sim.objects.bulk_create(Sim(iccid=make_iccid(), product=product, state=State.ACTIVE, home_country="DE") for _ in range(9))
    for sim, (status, ago) in zip(sims, seen, strict=False):
        SimConnectivity.objects.create(sim=sim, product=product, status=status, since=now - ago, last_event_at=now - ago)
    return product, sims


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 860}, PHONE], ids=["desk", "phone"])
def test_the_counts_lead_to_the_sims_offline_for_more_than_a_day_longest_first(browser, live_server, seen_fleet, viewport):
    product, sims = seen_fleet
    page = browser.new_page(viewport=viewport)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/products/{product.slug}/sims/")

    counts = page.locator("#fleet-connectivity")
    expect(counts).to_contain_text("2 online")
    expect(counts).to_contain_text("1 attached")
    expect(counts).to_contain_text("4 offline (3 for more than 24 h)")
    expect(counts).to_contain_text("2 never seen")

    page.select_option("#id_connectivity", "offline-24h")
    expect(page).to_have_url(re.compile(r"connectivity=offline-24h"))
    expect(page.locator("#sim-table tbody tr")).to_have_count(3)
    if viewport == PHONE:  # stacked rows: the column heads are for screen readers, a link sorts
        page.goto(f"{page.url}&sort=-offline")
    else:
        page.get_by_role("link", name="Offline for").click()
        expect(page).to_have_url(re.compile(r"sort=-offline"))
    rows = page.locator("#sim-table tbody tr")
    expect(rows.first.locator("td.mono")).to_have_text(sims[5].iccid)  # 12 days
    expect(rows.first.locator("td.offline-col")).to_have_text("1\xa0week")
    expect(rows.first.locator("td.offline-col")).to_have_attribute("data-label", "Offline for")
    expect(rows.nth(1).locator("td.offline-col")).to_have_text("3\xa0days")
    expect(rows.nth(2).locator("td.offline-col")).to_have_text("1\xa0day")
    expect(page.locator("#sim-count")).to_contain_text("3")
    no_sideways_scroll(page)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"sims-connectivity-{viewport['width']}.png"), full_page=True)

    page.locator("#fleet-connectivity").get_by_role("link", name=re.compile("never seen")).click()
    expect(page.locator("#sim-table tbody tr")).to_have_count(2)
    expect(page.locator("#sim-table tbody td.offline-col").first).to_have_text("never seen")
    page.close()

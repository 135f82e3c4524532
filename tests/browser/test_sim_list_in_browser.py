"""The SIMs page as a working tool, in a real browser: usage against the limit, sorting, export."""

import csv
import io
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from lib.calendar import billing_period_start
from lib.units import MB
from products.models import Membership, Product
from sims.models import Sim, SimPeriodUsage, State
from tests.browser.test_console_in_browser import sign_in
from tests.conftest import make_iccid, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def used_fleet(transactional_db):
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers", default_data_limit_mb=10)
    Membership.objects.create(user=make_user("demo"), product=product, role=Membership.Role.ADMIN)
    states = [State.ACTIVE] * 6 + [State.SUSPENDED] * 2
    sims = Sim.objects.bulk_create(Sim(iccid=make_iccid(), product=product, state=state, home_country="DE") for state in states)
    period = billing_period_start(timezone.now())
    for amount, sim in zip([12 * MB, 4 * MB, 9 * MB, 1 * MB], sims, strict=False):
        SimPeriodUsage.objects.create(sim=sim, product=product, period=period, bytes=amount)
    return product, sims


def test_sorting_by_usage_finds_the_heaviest_user_and_the_export_holds_what_is_shown(page, live_server, used_fleet, screenshot):
    product, sims = used_fleet
    sign_in(page, live_server)
    page.get_by_role("link", name="Acme Asset Trackers").click()
    page.evaluate("window.notReloaded = true")

    page.get_by_role("link", name="Usage this period").click()
    expect(page).to_have_url(re.compile(r"sort=-usage"))
    first = page.locator("#sim-table tbody tr").first
    expect(first.locator("td.mono")).to_have_text(sims[0].iccid)
    expect(first.locator(".usage-bar.over")).to_be_visible()  # 12 MB of 10 MB: red
    expect(first).to_contain_text("12.0 MB over limit")
    expect(page.locator("#sim-table tbody tr").nth(1).locator(".usage-bar.over")).to_have_count(0)
    expect(page.locator("#sim-count")).to_contain_text("SIMs 1–8 of 8")
    screenshot("sims-sorted-by-usage")

    page.select_option("#id_state", "active")  # the filter keeps the sort
    expect(page).to_have_url(re.compile(r"state=active.*sort=-usage|sort=-usage.*state=active"))
    expect(page.locator("#sim-table tbody tr")).to_have_count(6)
    assert page.evaluate("window.notReloaded") is True

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    shown = page.locator("#sim-table tbody td.mono").all_inner_texts()
    assert [row[0] for row in rows[1:]] == shown

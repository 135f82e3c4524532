"""Menus in a real browser: a row's menu and the "Set data limit" menu close on Escape and on a click
elsewhere, as menus do; Escape gives the focus back to the button that opened the menu."""

import pytest
from playwright.sync_api import expect

from products.models import Membership, Product
from sims.models import Sim, State
from tests.conftest import make_iccid, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sims_page(page, live_server, transactional_db):
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers")
    Membership.objects.create(user=make_user("demo"), product=product, role=Membership.Role.ADMIN)
    Sim.objects.bulk_create([Sim(iccid=make_iccid(), product=product, state=State.ACTIVE) for _ in range(2)])
    page.goto(f"{live_server.url}/accounts/login/?next=/products/acme-trackers/sims/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "pw")
    page.click("button:has-text('Sign in')")
    expect(page.locator("#sim-table tbody tr")).to_have_count(2)
    return page


def test_a_row_menu_closes_on_escape_and_gives_back_the_focus(sims_page):
    page = sims_page
    row = page.locator("#sim-table tbody tr").first
    menu = row.locator("details.menu")
    row.locator("summary.button").click()
    expect(row.get_by_role("button", name="Deactivate")).to_be_visible()
    row.locator("summary:has-text('Terminate')").click()
    expect(row.get_by_role("button", name="Terminate permanently")).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu).not_to_have_attribute("open", "")
    expect(row.get_by_role("button", name="Deactivate")).to_be_hidden()
    expect(row.locator("summary.button")).to_be_focused()


def test_a_row_menu_closes_on_a_click_elsewhere(sims_page):
    page = sims_page
    row = page.locator("#sim-table tbody tr").first
    row.locator("summary.button").click()
    expect(row.get_by_role("button", name="Deactivate")).to_be_visible()
    page.get_by_role("heading", name="Acme Asset Trackers").click()
    expect(row.get_by_role("button", name="Deactivate")).to_be_hidden()


def test_the_data_limit_menu_closes_on_escape_from_its_field(sims_page):
    page = sims_page
    page.locator(".limit-menu > summary").click()
    field = page.locator("#id_default_data_limit_mb")
    field.fill("250")
    page.keyboard.press("Escape")
    expect(field).to_be_hidden()

"""The console in a real browser: sign in, open a product, filter, act on a row and in bulk."""

import re

import pytest
from playwright.sync_api import expect

from products.models import Membership, Product
from sims.models import Sim, State
from tests.conftest import make_iccid, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fleet(transactional_db):
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers", default_data_limit_mb=10)
    user = make_user("demo")
    Membership.objects.create(user=user, product=product, role=Membership.Role.ADMIN)
    Membership.objects.create(user=make_user("alice"), product=product, role=Membership.Role.MEMBER)
    states = [State.ACTIVE] * 8 + [State.SUSPENDED] * 3 + [State.ISSUED, State.PAUSED, State.PROVISIONED, State.TERMINATED]
    countries = ["US", "DE", "GB", "FR"]
    Sim.objects.bulk_create(
        [Sim(iccid=make_iccid(), product=product, state=s, home_country=countries[i % 4]) for i, s in enumerate(states)]
    )
    return product


def sign_in(page, live_server) -> None:
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("#id_username", "demo")
    page.fill("#id_password", "pw")
    page.click("button:has-text('Sign in')")
    expect(page.get_by_role("heading", name="Your products")).to_be_visible()


def test_sign_in_shows_a_clear_error_then_lets_me_in(page, live_server, fleet, screenshot):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "wrong")
    page.click("button:has-text('Sign in')")
    expect(page.locator(".form-error")).to_contain_text("correct username and password")
    screenshot("01-sign-in-error")
    sign_in(page, live_server)
    screenshot("02-home")
    expect(page.get_by_role("link", name="Acme Asset Trackers")).to_be_visible()


def test_filter_then_act_on_a_row_without_reloading(page, live_server, fleet, screenshot):
    sign_in(page, live_server)
    page.get_by_role("link", name="Acme Asset Trackers").click()
    expect(page.locator("#sim-table tbody tr")).to_have_count(15)
    screenshot("03-sims")

    page.evaluate("window.notReloaded = true")
    page.select_option("#id_state", "active")
    expect(page).to_have_url(re.compile(r"state=active"))
    expect(page.locator("#sim-table tbody tr")).to_have_count(8)
    expect(page.locator("#sim-table .badge")).to_have_text(["Active"] * 8)

    first_row = page.locator("#sim-table tbody tr").first
    iccid = first_row.locator("td.mono").inner_text()
    first_row.locator("summary.button").click()
    expect(first_row.get_by_role("button", name="Deactivate")).to_be_visible()  # the menu loads on opening
    screenshot("04-row-menu", full_page=False)
    first_row.get_by_role("button", name="Deactivate").click()
    row = page.locator(f"tr:has-text('{iccid}')")
    expect(row.locator(".badge[class*='state-']")).to_have_text("Suspended")
    expect(row.locator(".network-pending")).to_have_text("pending")  # until the worker has the carrier's answer
    expect(page.locator("#messages")).to_contain_text(f"{iccid}: deactivated; the SIM is now suspended.")
    assert page.evaluate("window.notReloaded") is True
    screenshot("05-row-action-done")
    assert Sim.objects.get(iccid=iccid).state == State.SUSPENDED


def test_terminate_asks_for_confirmation_that_it_is_permanent(page, live_server, fleet, screenshot):
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/products/acme-trackers/sims/?state=active")
    row = page.locator("#sim-table tbody tr").first
    iccid = row.locator("td.mono").inner_text()
    row.locator("summary.button").click()
    row.locator("summary:has-text('Terminate')").click()
    expect(row.locator(".danger-zone p")).to_contain_text("permanent")
    screenshot("06-terminate-confirm", full_page=False)
    row.get_by_role("button", name="Terminate permanently").click()
    expect(page.locator(f"tr:has-text('{iccid}') .badge[class*='state-']")).to_have_text("Terminated")


def test_a_bulk_action_on_selected_rows_shows_a_summary(page, live_server, fleet, screenshot):
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/products/acme-trackers/sims/")
    boxes = page.locator('#sim-table input[name="ids"]')
    issued_iccid = Sim.objects.get(state=State.ISSUED).iccid
    chosen = list(Sim.objects.filter(state=State.ACTIVE).order_by("iccid").values_list("iccid", flat=True)[:3])
    for index in range(3):
        boxes.nth(index).check()
    page.locator(f"tr:has-text('{issued_iccid}') input[name='ids']").check()
    expect(page.locator("[data-selected-count]")).to_have_text("4")
    page.select_option('select[name="action"]', "deactivate")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#bulk-result")).to_contain_text("refused")
    expect(page.locator("#bulk-result")).to_contain_text("Cannot deactivate: the SIM is issued")
    expect(page.locator(f"tr:has-text('{issued_iccid}') .badge[class*='state-']")).to_have_text("Issued")
    for iccid in chosen:  # the table reloads itself after the action
        expect(page.locator(f"tr:has-text('{iccid}') .badge[class*='state-']")).to_have_text("Suspended")
    screenshot("07-bulk-result")


def test_bulk_terminate_without_confirming_changes_nothing(page, live_server, fleet):
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/products/acme-trackers/sims/")
    page.locator('#sim-table input[name="ids"]').first.check()
    page.select_option('select[name="action"]', "terminate")
    expect(page.locator(".confirm-terminate")).to_be_visible()
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#bulk-result")).to_contain_text("Terminating is permanent")
    assert Sim.objects.filter(state=State.TERMINATED).count() == 1


def test_sim_page_and_team_page(page, live_server, fleet, screenshot):
    sign_in(page, live_server)
    sim = Sim.objects.filter(state=State.ACTIVE).first()
    page.goto(f"{live_server.url}/products/acme-trackers/sims/{sim.iccid}/")
    page.get_by_role("button", name="Deactivate").click()
    expect(page.locator(".sim-head .badge[class*='state-']")).to_have_text("Suspended")
    expect(page.locator("#timeline")).to_contain_text("Deactivate")  # the change, newest first in its timeline
    screenshot("08-sim-page")
    page.get_by_role("link", name="Team").click()
    page.fill("#id_username_or_email", "nobody-here")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator(".field-error")).to_contain_text("No one has the username or email")
    screenshot("09-team")

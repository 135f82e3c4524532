"""Carriers in a real browser: Settings with two carrier accounts (one down), adding one (the carrier's
fields follow the chosen adapter), and a SIM pending on the network and one refused, retried; at a
phone's width and a desktop's, photographed into screenshots/ (carriers-*)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from carriers import adapters
from carriers.health import record_call
from carriers.models import CarrierAccount
from products.models import Membership, Product
from sims.models import NetworkStatus, Sim, State
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import make_iccid, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1280, "height": 860}}


@pytest.fixture
def fleet(transactional_db, monkeypatch):
    monkeypatch.setitem(adapters.ADAPTERS, "fake", "tests.carriers.test_views.FakeAdapter")
    adapters.adapter_class.cache_clear()
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers")
    Membership.objects.create(user=make_user("demo"), product=product, role=Membership.Role.ADMIN)
    now = timezone.now()
    europe = CarrierAccount.objects.create(product=product, name="emnify Europe", adapter="simulator", iccid_prefixes="8944, 8949")
    us = CarrierAccount.objects.create(product=product, name="Twilio US", adapter="fake", iccid_prefixes="8901260")
    record_call(account_key=europe.pk, what="apply", ok=True, at=now - timedelta(hours=3))
    for minutes in (25, 15, 5):
        record_call(account_key=europe.pk, what="apply", ok=False, error="The carrier did not answer (a timeout).", at=now - timedelta(minutes=minutes))
    record_call(account_key=us.pk, what="apply", ok=True, at=now - timedelta(minutes=2))
    pending = Sim.objects.create(
        iccid="8944" + make_iccid()[4:], product=product, state=State.SUSPENDED, carrier_account=europe,
        network_status=NetworkStatus.PENDING, network_since=now - timedelta(minutes=25), network_attempts=3,
        network_error="Carrier unavailable: The carrier did not answer (a timeout).", network_retry_at=now + timedelta(minutes=4),
    )  # fmt: skip
    refused = Sim.objects.create(
        iccid="8901260" + make_iccid()[7:], product=product, state=State.ACTIVE, carrier_account=us,
        network_status=NetworkStatus.FAILED, network_since=now - timedelta(minutes=8),
        network_error="SIM not registered on this account: register it with its registration code first.",
    )  # fmt: skip
    for _ in range(3):
        Sim.objects.create(iccid=make_iccid(), product=product, state=State.ACTIVE, carrier_account=us)
    yield {"product": product, "pending": pending, "refused": refused}
    adapters.adapter_class.cache_clear()


def sign_in(page, base):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "pw")
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{base}/")


def test_settings_shows_two_accounts_with_their_health_at_both_widths(browser, live_server, fleet):
    SCREENSHOTS.mkdir(exist_ok=True)
    for width, viewport in WIDTHS.items():
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        sign_in(page, live_server.url)
        page.goto(f"{live_server.url}/products/acme-trackers/settings/")
        accounts = page.locator("#carrier-accounts")
        expect(accounts.locator(".carrier-item")).to_have_count(2)
        expect(accounts).to_contain_text("emnify Europe")
        expect(accounts).to_contain_text("Carrier unavailable since")
        expect(accounts).to_contain_text("75% (3 of 4 calls)")
        expect(accounts).to_contain_text("Twilio US")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        accounts.scroll_into_view_if_needed()
        page.screenshot(path=f"{SCREENSHOTS}/carriers-settings-{width}.png", full_page=True)

        page.goto(f"{live_server.url}/products/acme-trackers/sims/")
        expect(page.locator("#carrier-health")).to_contain_text("emnify Europe")
        expect(page.locator("#carrier-health")).to_contain_text("1 refused by the carrier")
        page.screenshot(path=f"{SCREENSHOTS}/carriers-fleet-header-{width}.png")
        context.close()


def test_a_pending_sim_and_a_refused_one_retried_at_both_widths(browser, live_server, fleet):
    for width, viewport in WIDTHS.items():
        Sim.objects.filter(pk=fleet["refused"].pk).update(network_status=NetworkStatus.FAILED, network_error="SIM not registered on this account.")
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        sign_in(page, live_server.url)
        page.goto(f"{live_server.url}/products/acme-trackers/sims/{fleet['pending'].iccid}/")
        expect(page.locator(".network-pending")).to_contain_text("Pending on the network since")
        expect(page.locator(".network-pending")).to_contain_text("carrier unavailable, next try")
        expect(page.locator(".details").first).to_contain_text("emnify Europe")  # the SIM's details, first of the page
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=f"{SCREENSHOTS}/carriers-sim-pending-{width}.png", full_page=True)

        page.goto(f"{live_server.url}/products/acme-trackers/sims/{fleet['refused'].iccid}/")
        expect(page.locator(".network-failed")).to_contain_text("Refused by the carrier: SIM not registered on this account.")
        # Twilio US (the fake) cannot terminate: not offered.
        expect(page.get_by_text("Terminate…")).to_have_count(0)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=f"{SCREENSHOTS}/carriers-sim-refused-{width}.png", full_page=True)
        page.get_by_role("button", name="Retry").dblclick()
        expect(page.locator(".network-pending")).to_contain_text("Pending on the network since")
        expect(page.locator("#messages")).to_contain_text("sent to the carrier again")
        context.close()


def test_the_list_filters_refused_sims_and_retries_them_in_bulk(page, live_server, fleet):
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/products/acme-trackers/sims/")
    page.select_option("#id_network", "refused")
    expect(page.locator("table.sims tbody tr")).to_have_count(1)
    expect(page.locator("table.sims .network-failed")).to_have_text("refused")
    page.locator("label.bulk-scope", has_text="matching").click()
    page.get_by_role("button", name="Retry refused").click()
    expect(page.locator("#bulk-result")).to_contain_text("Retry: 1 refused SIM sent to the carrier again")
    expect(page.locator("table.sims tbody tr")).to_have_count(0)


def test_adding_an_account_the_fields_follow_the_carrier_and_the_secret_is_not_shown_again(page, live_server, fleet):
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/products/acme-trackers/carriers/new/")
    expect(page.locator("#id_failure_rate")).to_be_visible()
    page.fill("#id_name", "Twilio EU")
    page.select_option("#id_adapter", "fake")
    expect(page.locator("#id_credential_api_key")).to_have_attribute("type", "password")
    expect(page.locator("#id_failure_rate")).to_have_count(0)
    expect(page.locator("#id_name")).to_have_value("Twilio EU")
    page.fill("#id_credential_api_key", "sk_live_browser_secret")
    page.fill("#id_credential_account_sid", "AC77")
    page.fill("#id_iccid_prefixes", "8944")
    page.get_by_role("button", name="Add the account").click()
    expect(page.locator(".field-error")).to_contain_text("8944 is already the prefix of “emnify Europe”")
    assert "sk_live_browser_secret" not in page.content()
    page.fill("#id_credential_api_key", "sk_live_browser_secret")  # a refused form never sends the secrets back
    page.fill("#id_credential_account_sid", "AC77")
    page.fill("#id_iccid_prefixes", "894410")
    page.get_by_role("button", name="Add the account").click()
    expect(page.locator("#messages")).to_contain_text("Carrier account “Twilio EU” added")
    expect(page.locator("#carrier-accounts .carrier-item")).to_have_count(3)
    page.locator(".carrier-item", has_text="Twilio EU").get_by_role("link", name="Edit").click()
    expect(page.locator("#id_credential_api_key")).to_have_value("")
    expect(page.get_by_text("Saved; leave empty to keep it.").first).to_be_visible()
    assert "sk_live_browser_secret" not in page.content()


def test_a_carriers_long_unbroken_words_do_not_push_the_phone_page_sideways(browser, live_server, fleet):
    """A carrier's reason or failure may hold a long URL or id with no space in it: the page still fits 375 px."""
    long_word = "https://api.carrier.example/v1/Sims/HS" + "0123456789abcdef" * 6
    Sim.objects.filter(pk=fleet["refused"].pk).update(network_error=f"Refused: {long_word}")
    CarrierAccount.objects.filter(name="emnify Europe").update(last_failure=f"emnify could not be reached at {long_word}")
    CarrierAccount.objects.filter(name="Twilio US").update(name="Twilio-" + "X" * 70)
    context = browser.new_context(viewport=WIDTHS["phone"])
    page = context.new_page()
    sign_in(page, live_server.url)
    for path in (f"sims/{fleet['refused'].iccid}/", "settings/", "sims/"):
        page.goto(f"{live_server.url}/products/acme-trackers/{path}")
        wide = page.evaluate("[...document.querySelectorAll('body *')].filter(e => (e.getBoundingClientRect().right > 376 || e.scrollWidth > 380)).map(e => e.tagName + '.' + e.className).slice(0, 8)")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, (path, wide)
    page.goto(f"{live_server.url}/products/acme-trackers/sims/{fleet['refused'].iccid}/")
    page.screenshot(path=f"{SCREENSHOTS}/carriers-sim-refused-long-reason-phone.png", full_page=True)
    context.close()

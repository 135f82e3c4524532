"""The IMEI lock in a real browser: an admin sets the product's lock on Settings (a wrong TAC is a clear
error, then TACs that suspend), opens the swap window; a SIM seen in another device is suspended and its
page shows its lock and last mismatch; a member reads both. At a phone's width and a desktop's,
photographed into screenshots/ (imei-lock-*)."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from devices.models import ImeiLock, LockMode
from products.models import Membership, Product
from sims.models import NetworkEvent, Sim, State
from sims.network_events import NetworkEventRow, network_events_ingested
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import make_iccid, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1280, "height": 860}}


@pytest.fixture
def fleet(transactional_db):
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers")
    Membership.objects.create(user=make_user("demo"), product=product, role=Membership.Role.ADMIN)
    Membership.objects.create(user=make_user("member"), product=product, role=Membership.Role.MEMBER)
    sim = Sim.objects.create(iccid=make_iccid(), product=product, state=State.ACTIVE)
    return {"product": product, "sim": sim}


def sign_in(page, base, username="demo"):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{base}/")


def _no_errors(errors: list[str]) -> None:
    """Checked before each screenshot (Playwright's screenshot injects a style the CSP blocks). A form
    refused (400) is the answer htmx swaps in, not an error."""
    wrong = [error for error in errors if "status of 400" not in error]
    assert not wrong, "\n".join(wrong)


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_imei_lock_in_the_browser(browser, live_server, fleet):
    product, sim = fleet["product"], fleet["sim"]
    base = live_server.url
    SCREENSHOTS.mkdir(exist_ok=True)
    for width_name, viewport in WIDTHS.items():
        ImeiLock.objects.filter(product=product).delete()
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        sign_in(page, base)
        page.goto(f"{base}/products/{product.slug}/settings/")
        lock = page.locator("#imei-lock")
        expect(lock.get_by_role("button", name="Save the IMEI lock")).to_be_visible()
        lock.get_by_text("Allow only these device models (TACs)").click()
        page.fill("#imei-lock textarea[name=tacs]", "3569380")
        lock.get_by_role("button", name="Save the IMEI lock").click()
        expect(lock.locator(".field-error")).to_contain_text("“3569380” is not a TAC: a TAC is the first 8 digits of an IMEI.")
        page.fill("#imei-lock textarea[name=tacs]", "35693803, 86753001")
        lock.get_by_text("Suspend the SIM on a mismatch").click()
        lock.get_by_role("button", name="Save the IMEI lock").click()
        expect(page.locator(".messages")).to_contain_text("IMEI lock saved")
        saved = ImeiLock.objects.get(product=product)
        assert (saved.mode, saved.tacs, saved.suspend) == (LockMode.TACS, ["35693803", "86753001"], True)
        _no_sideways_scroll(page)
        _no_errors(errors)
        page.screenshot(path=str(SCREENSHOTS / f"imei-lock-settings-{width_name}.png"), full_page=True)
        page.locator("#imei-lock").get_by_role("button", name="Open a 24 h swap window").click()
        expect(page.locator("#imei-lock .notice")).to_contain_text("Swap window open until")
        page.locator("#imei-lock").get_by_role("button", name="Close the swap window now").click()
        expect(page.locator("#imei-lock").get_by_role("button", name="Open a 24 h swap window")).to_be_visible()
        errors.clear()

        # The SIM is seen in a device of another model: suspended by the lock.
        Sim.objects.filter(pk=sim.pk).update(state=State.ACTIVE)
        row = NetworkEventRow(event_id=f"ev-{width_name}", iccid=sim.iccid, kind=NetworkEvent.Kind.ATTACH, at=timezone.now(), imei="490154203237518")
        network_events_ingested.send(sender=NetworkEvent, events=[(sim.pk, product.pk, row)])
        page.goto(f"{base}/products/{product.slug}/sims/{sim.iccid}/")
        sim_lock = page.locator("#imei-lock")
        expect(sim_lock).to_contain_text("Allow only these device models (TACs)")
        expect(sim_lock).to_contain_text("490154203237518 seen, locked to TAC 35693803, 86753001")
        expect(sim_lock).to_contain_text("SIM suspended")
        expect(page.locator(".sim-head .badge[class*='state-']")).to_contain_text("Suspended")
        sim_lock.get_by_text("Change this SIM's lock…").click()
        _no_sideways_scroll(page)
        _no_errors(errors)
        sim_lock.screenshot(path=str(SCREENSHOTS / f"imei-lock-sim-{width_name}.png"))
        page.screenshot(path=str(SCREENSHOTS / f"imei-lock-sim-page-{width_name}.png"), full_page=True)
        context.close()

        # A member reads the lock and changes nothing.
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        sign_in(page, base, "member")
        page.goto(f"{base}/products/{product.slug}/settings/")
        expect(page.locator("#imei-lock")).to_contain_text("Only a product admin can change the IMEI lock")
        _no_sideways_scroll(page)
        page.locator("#imei-lock").screenshot(path=str(SCREENSHOTS / f"imei-lock-settings-member-{width_name}.png"))
        context.close()

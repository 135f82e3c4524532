"""SMS in a real browser: a SIM page's SMS card (sending one, the last messages both ways with their
status, a body too long refused) and the product's Messages list, at a phone's width and a desktop's,
photographed into screenshots/ (sms-*)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from carriers.models import SmsMessage
from products.models import Membership, Product
from sims.models import Sim, State
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import make_iccid, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1280, "height": 860}}


@pytest.fixture
def fleet(transactional_db):
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers")
    user = make_user("demo")
    Membership.objects.create(user=user, product=product, role=Membership.Role.MEMBER)
    sim = Sim.objects.create(iccid=make_iccid(), product=product, state=State.ACTIVE, home_country="DE")
    other = Sim.objects.create(iccid=make_iccid(), product=product, state=State.ACTIVE, home_country="DE")
    now = timezone.now()
    rows = [
        (sim, "mt", "status?", "delivered", "", 50),
        (sim, "mo", "ACK status? battery=87% lat=52.5200 lon=13.4050 fw=2.4.1", "received", "", 49),
        (sim, "mt", "fw-update https://updates.example.com/acme/tracker/2.4.2.bin", "failed", "Handset unreachable: the device was off for 48 hours.", 20),
        (sim, "mt", "reboot", "sent", "", 2),
        (other, "mt", "config v7: report every 15 min", "queued", "Carrier unavailable, tried again shortly: The simulated carrier did not answer (a timeout).", 1),
    ]
    for target, direction, body, status, reason, minutes in rows:
        SmsMessage.objects.create(
            sim=target, product=product, direction=direction, body=body, status=status, reason=reason,
            created_by=user if direction == "mt" else None, created_at=now - timedelta(minutes=minutes),
        )  # fmt: skip
    return {"product": product, "sim": sim}


def sign_in(page, base):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "pw")
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{base}/")


def test_the_sim_pages_sms_card_and_the_messages_list_at_both_widths(browser, live_server, fleet):
    SCREENSHOTS.mkdir(exist_ok=True)
    sim = fleet["sim"]
    for width, viewport in WIDTHS.items():
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        sign_in(page, live_server.url)
        page.goto(f"{live_server.url}/products/acme-trackers/sims/{sim.iccid}/")
        card = page.locator("section#sms")
        expect(card).to_contain_text("ACK status?")
        expect(card.locator(".sms")).to_have_count(4 if width == "phone" else 5)
        page.fill("#id_body", "Ж" * 71)
        card.locator("button:has-text('Send SMS')").click()
        expect(page.locator("section#sms .field-error")).to_contain_text("shorten it by 1")
        page.fill("#id_body", f"locate now ({width})")
        page.locator("section#sms button:has-text('Send SMS')").click()
        expect(page.locator("section#sms .sms").first).to_contain_text(f"locate now ({width})")
        expect(page.locator("section#sms .sms").first).to_contain_text("Queued")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.locator("section#sms").screenshot(path=str(SCREENSHOTS / f"sms-sim-card-{width}.png"))

        page.goto(f"{live_server.url}/products/acme-trackers/messages/")
        expect(page.locator(".sms-table tbody tr")).to_have_count(5 + (2 if width == "desktop" else 1))
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=str(SCREENSHOTS / f"sms-messages-{width}.png"), full_page=True)
        context.close()
    assert SmsMessage.objects.filter(body__startswith="locate now").count() == 2

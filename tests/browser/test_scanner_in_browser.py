"""Scanning for real: Chromium's fake camera plays a card image; the ICCID must reach the queue."""

import numpy as np
import pytest
import zxingcpp
from playwright.sync_api import expect

from products.models import Membership, Product
from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.browser.fake_camera import card_frame, write_y4m
from tests.conftest import make_iccid, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def camera_page(tmp_path, live_server, camera_browser):
    """A browser whose camera films the given frame; signed in to a product."""
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers")
    Membership.objects.create(user=make_user("demo"), product=product, role=Membership.Role.ADMIN)

    def open_with(frame: np.ndarray):
        page = camera_browser(write_y4m(frame, tmp_path / "card.y4m")).new_page(viewport={"width": 1280, "height": 1000})
        sign_in(page, live_server, "demo")
        page.goto(f"{live_server.url}/products/acme-trackers/import/")
        return page

    return open_with


def test_a_scanned_card_puts_its_iccid_in_the_queue_once(camera_page):
    iccid = make_iccid()
    page = camera_page(card_frame(iccid))
    page.get_by_role("button", name="Scan barcodes with the camera").click()
    # The camera's size, from the video itself: the status line saying it is replaced by the first read at once.
    expect(page.locator("[data-scan-video]")).to_have_js_property("videoWidth", 1280)
    item = page.locator(f'#queue li[data-iccid="{iccid}"]')
    expect(item).to_contain_text("Ready to activate", timeout=15_000)
    expect(page.locator("[data-scan-status]")).to_contain_text("already in the queue", timeout=10_000)
    expect(page.locator("[data-scan-advice]")).to_be_hidden()  # a code read: no advice
    assert page.locator("#queue li").count() == 1  # read again and again, queued once
    expect(page.locator("[data-queue-count]")).to_have_text("1")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "14-scanner-read.png"), full_page=True)
    page.get_by_role("button", name="Stop scanning").click()
    expect(page.locator("[data-scan-view]")).to_be_hidden()
    assert page.evaluate("document.querySelector('[data-scan-video]').srcObject") is None  # camera released


def test_a_card_without_a_barcode_gives_no_iccid_and_says_where_to_point(camera_page):
    page = camera_page(card_frame(None))
    page.get_by_role("button", name="Scan barcodes with the camera").click()
    expect(page.locator("[data-scan-status]")).to_contain_text("Looking for a barcode")
    advice = page.locator("[data-scan-advice]")
    expect(advice).to_have_text("Point the camera at the barcode on the card.", timeout=10_000)
    expect(advice).to_be_visible()
    assert page.locator("#queue li").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "15-scanner-empty.png"), full_page=True)


def test_a_product_barcode_is_named_and_the_iccid_asked_for(camera_page):
    page = camera_page(card_frame("5901234123457", zxingcpp.BarcodeFormat.EAN13))
    page.get_by_role("button", name="Scan barcodes with the camera").click()
    expect(page.locator("[data-scan-advice]")).to_have_text(
        "That is a product barcode (EAN-13), not the SIM's ICCID: scan the barcode labelled ICCID.", timeout=10_000
    )
    assert page.locator("#queue li").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "16-scanner-advice.png"), full_page=True)


def test_an_ended_session_stops_scanning_and_says_to_sign_in_keeping_the_iccids(camera_page):
    """The scan of a signed-out browser is redirected to the sign-in page: scanning stops and says so,
    in place of "could not be reached" while frames go on; the queued ICCIDs are listed to paste."""
    iccid = make_iccid()
    page = camera_page(card_frame(iccid))
    page.get_by_role("button", name="Scan barcodes with the camera").click()
    expect(page.locator(f'#queue li[data-iccid="{iccid}"]')).to_contain_text("Ready to activate", timeout=15_000)
    page.context.clear_cookies(name="sessionid")  # the session ends mid-scan; the CSRF cookie stays
    error = page.locator("[data-scan-error]")
    expect(error).to_contain_text("Your session has ended: sign in again to go on scanning.", timeout=10_000)
    expect(error).to_contain_text(f"copy its 1 ICCID to paste after: {iccid}")
    expect(page.locator("[data-scan-view]")).to_be_hidden()  # scanning stopped: no more frames
    assert page.evaluate("document.querySelector('[data-scan-video]').srcObject") is None  # camera released
    expect(page.locator("[data-scan-status]")).not_to_contain_text("could not be reached")
    assert page.locator("#queue li").count() == 1  # the page itself still shows the queue


def test_a_server_error_says_so_in_one_line_and_scanning_goes_on(camera_page):
    page = camera_page(card_frame(make_iccid()))
    error_page = "<!doctype html><html><body><h1>Server Error (500)</h1>" + "<p>trace</p>" * 200 + "</body></html>"
    page.route("**/import/scan/", lambda route: route.fulfill(status=500, content_type="text/html", body=error_page))
    page.get_by_role("button", name="Scan barcodes with the camera").click()
    status = page.locator("[data-scan-status]")
    expect(status).to_have_text("The console had a problem reading that frame; scanning goes on.", timeout=10_000)
    expect(page.locator("[data-scan-view]")).to_be_visible()
    expect(page.locator("[data-scan-error]")).to_be_hidden()

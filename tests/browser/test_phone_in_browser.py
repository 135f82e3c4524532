"""The console on a phone (375 px wide) and by keyboard: the top bar folds into a menu, the import page
opens with the camera, scanning works one-handed, and Escape closes what is open."""

import pytest
from playwright.sync_api import expect

from products.models import Membership, Product
from sims.models import Sim, State
from tests.browser.conftest import PHONE, SCREENSHOTS
from tests.browser.conftest import sign_in as sign_in_as
from tests.browser.fake_camera import card_frame, write_y4m
from tests.conftest import make_iccid, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def product(transactional_db):
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers")
    Membership.objects.create(user=make_user("demo"), product=product, role=Membership.Role.ADMIN)
    Sim.objects.bulk_create([Sim(iccid=make_iccid(), product=product, state=State.ACTIVE, home_country="DE") for _ in range(3)])
    return product


def sign_in(page, live_server) -> None:
    sign_in_as(page, live_server, "demo")
    expect(page.get_by_role("heading", name="Your products")).to_be_visible()


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_on_a_phone_the_top_bar_is_a_menu_that_the_keyboard_opens_and_escape_closes(browser, live_server, product):
    page = browser.new_page(viewport=PHONE)
    sign_in(page, live_server)
    menu = page.get_by_role("button", name="Menu")
    my_sims = page.get_by_role("link", name="My SIMs")
    expect(menu).to_be_visible()
    expect(my_sims).to_be_hidden()

    page.keyboard.press("Tab")  # the brand
    page.keyboard.press("Tab")
    expect(menu).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(my_sims).to_be_visible()
    assert my_sims.bounding_box()["x"] + my_sims.bounding_box()["width"] <= PHONE["width"]
    shoot(page, "phone-menu-open")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Products")).to_be_focused()  # the links follow the button

    page.keyboard.press("Escape")
    expect(my_sims).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    page.close()


def test_on_a_desktop_the_top_bar_shows_its_links_and_no_menu_button(page, live_server, product):
    sign_in(page, live_server)
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.get_by_role("link", name="My SIMs")).to_be_visible()


def test_on_a_phone_the_sims_page_puts_its_buttons_under_the_title(browser, live_server, product):
    page = browser.new_page(viewport=PHONE)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/products/acme-trackers/sims/")
    title = page.get_by_role("heading", name="Acme Asset Trackers").bounding_box()
    for name in ("Set data limit", "Import SIMs"):
        button = page.locator(".header-actions").get_by_text(name, exact=True).bounding_box()
        assert button["y"] >= title["y"] + title["height"], f"{name} overlaps the title"
    webhooks = page.get_by_role("link", name="Webhooks").bounding_box()
    assert webhooks["x"] + webhooks["width"] <= PHONE["width"]  # every tab in sight
    page.close()


def test_escape_closes_a_row_menu_and_gives_the_focus_back_to_its_button(page, live_server, product):
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/products/acme-trackers/sims/")
    row = page.locator("#sim-table tbody tr").first
    opener = row.locator("summary.button")
    opener.focus()
    page.keyboard.press("Enter")
    expect(row.get_by_role("button", name="Deactivate")).to_be_visible()
    page.keyboard.press("Escape")
    expect(row.get_by_role("button", name="Deactivate")).to_be_hidden()
    expect(opener).to_be_focused()


@pytest.fixture
def phone_with_camera(tmp_path, camera_browser):
    video = write_y4m(card_frame(make_iccid()), tmp_path / "card.y4m")
    return camera_browser(video).new_page(viewport=PHONE, has_touch=True)


def test_on_a_phone_the_import_page_opens_with_the_camera_and_scans_one_handed(phone_with_camera, live_server, product):
    page = phone_with_camera
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/products/acme-trackers/import/")
    camera = page.get_by_role("button", name="Scan barcodes with the camera")
    camera_box = camera.bounding_box()
    assert camera_box["y"] + camera_box["height"] <= PHONE["height"], "the camera button is below the first screen"
    assert camera_box["y"] < page.locator("[data-dropzone]").bounding_box()["y"] < page.locator("#type-iccid").bounding_box()["y"]
    assert camera_box["height"] >= 44 and camera_box["width"] >= 0.8 * PHONE["width"]  # a thumb's target
    shoot(page, "phone-import")

    camera.click()
    expect(page.locator("[data-queue-count]")).to_have_text("1", timeout=15_000)
    stop = page.get_by_role("button", name="Stop scanning").bounding_box()
    go_on = page.get_by_role("button", name="Continue").bounding_box()
    assert stop["height"] >= 44 and stop["width"] >= 0.8 * PHONE["width"]
    assert stop["y"] + stop["height"] <= PHONE["height"], "Stop is below the first screen"
    assert PHONE["height"] - 100 <= go_on["y"] and go_on["y"] + go_on["height"] <= PHONE["height"], "Continue is not at the bottom"
    assert go_on["height"] >= 44
    shoot(page, "phone-scanning")

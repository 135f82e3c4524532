"""The devices pages in a real browser (issue 17, "What it must show"), at a phone's width (375 px) and a
desk's (1280 px), DEBUG off and on: the list, a search and its results (by tag, by IMEI), a search that
finds nothing, and a device's page with the SIM in it and the SIMs it held. What a person reads is
asserted; nothing scrolls sideways; the browser shows no error. Pictures: screenshots/devices-*."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from devices.models import Device, DeviceAssignment
from products.models import Membership, Product
from sims.models import Sim, State
from tests.browser.conftest import PHONE, SCREENSHOTS, sign_in
from tests.conftest import make_iccid, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SLUG = "acme-trackers"
DESK = {"width": 1280, "height": 860}
MODELS = ["Particle Boron LTE (BRN404X)", "Quectel BG95-M3", "u-blox SARA-R410M", "Nordic nRF9160 DK"]


@pytest.fixture
def devices(transactional_db):
    """Fourteen devices: most with a SIM, a model and an IMEI, some tagged "pilot"; one without a SIM; and the
    boiler room's device, whose SIM was swapped by hand after the first one attached from it."""
    product = Product.objects.create(name="Acme Asset Trackers", slug=SLUG)
    demo = make_user("demo")
    Membership.objects.create(user=demo, product=product, role=Membership.Role.MEMBER)
    now = timezone.now()
    for n in range(12):
        sim = Sim.objects.create(iccid=make_iccid(), product=product, state=State.ACTIVE, home_country="DE")
        device = Device.objects.create(
            product=product, device_id=f"trk-{n:04d}", name=f"Tracker {n}", imei=f"3569380356{n:05d}", model=MODELS[n % 4],
            tags=["pilot", "fleet-north"] if n % 4 == 0 else ["fleet-south"],
        )  # fmt: skip
        sim.device = device
        sim.save(update_fields=["device"])
        DeviceAssignment.objects.create(sim=sim, device=device, started_at=now - timedelta(days=30 - n), source="network")
    boiler = Device.objects.create(
        product=product, device_id="e00fce681f2d0c1e5b3a4c2d", name="Boiler room, building B", imei="352834100102003",
        model=MODELS[0], tags=["basement", "pilot", "heating"],
    )  # fmt: skip
    old, new = (Sim.objects.create(iccid=make_iccid(), product=product, state=state, home_country="DE") for state in (State.SUSPENDED, State.ACTIVE))
    DeviceAssignment.objects.create(sim=old, device=boiler, started_at=now - timedelta(days=20), ended_at=now - timedelta(days=3), source="network")
    DeviceAssignment.objects.create(sim=new, device=boiler, started_at=now - timedelta(days=3), source="hand", by_user=demo)
    new.device = boiler
    new.save(update_fields=["device"])
    Device.objects.create(product=product, device_id="SN-2026-00417", name="Cold store 4", tags=["spare"])
    return boiler, old, new


def open_page(browser, live_server, viewport):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(20_000)  # the machine may be busy: a slow page is not a wrong one
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, live_server, "demo")
    return context, page, errors


def fits_and_no_errors(page, errors: list[str], what: str) -> None:
    """Before a screenshot (Playwright's screenshot injects a style the CSP refuses, an error of its own)."""
    page.wait_for_load_state("networkidle")
    width, window = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= window, f"{what}: the page is {width} px wide in a {window} px window"
    assert not errors, f"{what}: " + "\n".join(errors)
    errors.clear()


@pytest.mark.parametrize("debug", [pytest.param(False, id="debug-off"), pytest.param(True, id="debug-on")])
@pytest.mark.parametrize("viewport", [pytest.param(PHONE, id="375"), pytest.param(DESK, id="1280")])
def test_the_devices_list_its_search_and_a_devices_page(browser, live_server, devices, settings, viewport, debug):
    settings.DEBUG = debug
    boiler, old, new = devices
    name = f"{viewport['width']}{'-debug' if debug else ''}"
    SCREENSHOTS.mkdir(exist_ok=True)
    context, page, errors = open_page(browser, live_server, viewport)

    page.goto(f"{live_server.url}/products/{SLUG}/devices/")
    expect(page.get_by_role("heading", name="Devices")).to_contain_text("14")
    rows = page.locator("table.devices tbody tr")
    expect(rows).to_have_count(14)
    boiler_row = rows.filter(has_text="Boiler room, building B")
    expect(boiler_row).to_contain_text(new.iccid)
    expect(boiler_row).to_contain_text("Particle Boron LTE (BRN404X)")
    expect(boiler_row.locator(".badge.tag")).to_have_text(["basement", "pilot", "heating"])
    expect(rows.filter(has_text="Cold store 4")).to_contain_text("none")
    fits_and_no_errors(page, errors, "the devices")
    page.screenshot(path=str(SCREENSHOTS / f"devices-list-{name}.png"), full_page=True)

    page.fill("#device-search", "pilot")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(f"{live_server.url}/products/{SLUG}/devices/?q=pilot")
    expect(page.get_by_role("heading", name="Devices")).to_contain_text("4")
    expect(rows).to_have_count(4)
    expect(rows.locator(".device-name")).to_have_text(["Boiler room, building B", "Tracker 0", "Tracker 4", "Tracker 8"])
    expect(page.get_by_role("link", name="Clear")).to_be_visible()
    fits_and_no_errors(page, errors, "the devices tagged pilot")
    page.screenshot(path=str(SCREENSHOTS / f"devices-search-{name}.png"), full_page=True)

    page.fill("#device-search", "356938035600007")
    page.get_by_role("button", name="Search").click()
    expect(rows.locator(".device-name")).to_have_text(["Tracker 7"])

    page.fill("#device-search", "greenhouse")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".empty")).to_contain_text("No device matches “greenhouse”. Show every device.")
    fits_and_no_errors(page, errors, "a search that finds nothing")
    page.screenshot(path=str(SCREENSHOTS / f"devices-search-nothing-{name}.png"), full_page=True)

    page.get_by_role("link", name="Show every device").click()
    page.get_by_role("link", name="Boiler room, building B").click()
    expect(page).to_have_url(f"{live_server.url}/products/{SLUG}/devices/{boiler.pk}/")
    expect(page.get_by_role("heading", name="Boiler room, building B")).to_be_visible()
    expect(page.locator("dl.details")).to_contain_text("e00fce681f2d0c1e5b3a4c2d")
    expect(page.locator("#device-sim")).to_contain_text(f"The SIM {new.iccid} is in this device.")
    history = page.locator("table.device-history tbody tr")
    expect(history).to_have_count(2)
    expect(history.first).to_contain_text(new.iccid)
    expect(history.first).to_contain_text("Set by hand by demo")
    expect(history.first.locator(".badge")).to_have_text("now")
    expect(history.nth(1)).to_contain_text(old.iccid)
    expect(history.nth(1)).to_contain_text("Network attach")
    fits_and_no_errors(page, errors, "the boiler room's device")
    page.screenshot(path=str(SCREENSHOTS / f"devices-detail-{name}.png"), full_page=True)
    context.close()

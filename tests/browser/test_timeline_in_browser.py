"""A SIM's timeline and its "why offline?" in a real browser, at a phone's and a desk's width: one SIM per
reason, screenshots of each, and the timeline's Older button loading the next page by htmx."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from devices.models import Device, DeviceAssignment
from lib.units import MB
from products.models import Membership, Product
from sims.models import Connectivity, NetworkEvent, NetworkStatus, Sim, SimConnectivity, SimDailyUsage, SimEvent, State
from tests.browser.conftest import PHONE, sign_in
from tests.conftest import make_iccid, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SLUG = "acme-trackers"


def stopped(product, state, action, reason=""):
    sim = Sim.objects.create(iccid=make_iccid(), product=product, state=state, home_country="DE")
    SimEvent.objects.create(
        sim=sim, product=product, action=action, from_state="active", to_state=state, actor_kind="user", actor_name="dana",
        reason=reason, created_at=timezone.now() - timedelta(hours=3),
    )  # fmt: skip
    return sim


def seen(product, status, **fields):
    sim = Sim.objects.create(iccid=make_iccid(), product=product, state=State.ACTIVE, home_country="DE", **fields.pop("sim", {}))
    now = timezone.now()
    fields.setdefault("last_event_at", now - timedelta(hours=2))
    SimConnectivity.objects.create(
        sim=sim, product=product, status=status, operator="Telekom.de 262-01", country="DE", rat="LTE-M", imei="356938035643809", **fields
    )
    return sim


@pytest.fixture
def fleet(transactional_db):
    product = Product.objects.create(name="Acme Asset Trackers", slug=SLUG)
    Membership.objects.create(user=make_user("demo"), product=product, role=Membership.Role.MEMBER)
    now = timezone.now()
    device = Device.objects.create(product=product, device_id="trk-0007", name="Tracker 7", imei="356938035643809")
    # A SIM with a month of hourly sessions, its changes, usage and device: the timeline.
    busy = seen(product, Connectivity.ONLINE, since=now - timedelta(minutes=20), last_session_start_at=now - timedelta(minutes=20))
    busy.device = device
    busy.save()
    DeviceAssignment.objects.create(sim=busy, device=device, started_at=now - timedelta(days=30), source="network")
    events = []
    for hour in range(24 * 3):
        at = now - timedelta(hours=hour)
        events.append(NetworkEvent(event_id=f"s{hour}", sim=busy, product=product, kind="session_start", at=at, operator="Telekom.de 262-01", country="DE", rat="LTE-M", received_at=now))
        events.append(NetworkEvent(event_id=f"e{hour}", sim=busy, product=product, kind="session_end", at=at + timedelta(minutes=4), bytes=120_000 + hour * 997, received_at=now))
    events.append(NetworkEvent(event_id="r1", sim=busy, product=product, kind="auth_reject", at=now - timedelta(hours=30, minutes=7), cause="Roaming not allowed in this location area"))
    events.append(NetworkEvent(event_id="a1", sim=busy, product=product, kind="attach", at=now - timedelta(hours=30), operator="Telekom.de 262-01", country="DE", rat="LTE-M", imei="356938035643809"))
    NetworkEvent.objects.bulk_create(events)
    for day in range(4):
        SimDailyUsage.objects.create(sim=busy, product=product, day=date.today() - timedelta(days=day), bytes=(3 + day) * MB, sms=day)
    SimEvent.objects.create(sim=busy, product=product, action="set_data_limit", from_state="active", to_state="active", actor_kind="user", actor_name="dana", created_at=now - timedelta(hours=5, minutes=30))

    other = Device.objects.create(product=product, device_id="trk-0009", name="Tracker 9", imei="490154203237518")
    reasons = {
        "suspended": stopped(product, State.SUSPENDED, "deactivate", "Lost in transit"),
        "paused": stopped(product, State.PAUSED, "pause", "Data limit reached"),
        "terminated": stopped(product, State.TERMINATED, "terminate"),
        "pending": Sim.objects.create(iccid=make_iccid(), product=product, state=State.ACTIVE, network_status=NetworkStatus.PENDING, network_since=now - timedelta(minutes=4), network_error="The simulated carrier did not answer (a timeout)"),
        "refused": Sim.objects.create(iccid=make_iccid(), product=product, state=State.ACTIVE, network_status=NetworkStatus.FAILED, network_error="SIM not in this account's inventory (simulated carrier)."),
        "never-attached": Sim.objects.create(iccid=make_iccid(), product=product, state=State.ACTIVE),
        "rejected": seen(product, Connectivity.OFFLINE, since=now - timedelta(hours=2), last_reject_at=now - timedelta(hours=2), last_reject_cause="IMSI unknown in HLR"),
        "imei-mismatch": seen(product, Connectivity.OFFLINE, since=now - timedelta(hours=6), sim={"device": other}),
        "no-session": seen(product, Connectivity.ATTACHED, since=now - timedelta(days=6), last_attach_at=now - timedelta(days=6), last_session_end_at=now - timedelta(days=5)),
        "detached": seen(product, Connectivity.OFFLINE, since=now - timedelta(hours=9), last_attach_at=now - timedelta(days=2)),
        "reset-requested": seen(product, Connectivity.OFFLINE, since=now - timedelta(hours=9), last_attach_at=now - timedelta(days=2), reset_requested_at=now - timedelta(minutes=3)),
    }
    return busy, reasons


def sim_url(live_server, sim) -> str:
    return f"{live_server.url}/products/{SLUG}/sims/{sim.iccid}/"


def test_a_sims_timeline_pages_older_by_htmx_at_both_widths(page, live_server, fleet, screenshot):
    busy, _ = fleet
    sign_in(page, live_server, "demo")
    page.goto(sim_url(live_server, busy))
    entries = page.locator("#timeline > .timeline-entry")
    expect(entries).to_have_count(50)
    expect(page.locator(".timeline-fresh")).to_contain_text("network events up to")
    expect(page.locator(".sim-connectivity .badge")).to_have_text("Online")
    page.locator(".sim-timeline").screenshot(path=str(screenshot_path("timeline-01-desktop")))
    screenshot("timeline-02-sim-page-desktop")
    page.get_by_role("button", name="Older").click()
    expect(entries).to_have_count(100)
    titles = entries.locator("strong").all_inner_texts()
    assert len(titles) == 100
    page.set_viewport_size(PHONE)
    page.goto(sim_url(live_server, busy))
    expect(entries).to_have_count(50)
    page.locator(".sim-timeline").screenshot(path=str(screenshot_path("timeline-03-phone")))
    screenshot("timeline-04-sim-page-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_why_offline_for_each_reason(page, live_server, fleet, width):
    _, reasons = fleet
    sign_in(page, live_server, "demo")
    if width == "phone":
        page.set_viewport_size(PHONE)
    expected = {
        "suspended": "Deactivated here", "paused": "Paused here", "terminated": "Terminated here",
        "pending": "Pending on the carrier", "refused": "Refused by the carrier", "never-attached": "Never attached",
        "rejected": "Rejected by the network", "imei-mismatch": "IMEI differs from the device's",
        "no-session": "No data session for 5 days", "detached": "Detached since", "reset-requested": "Detached since",
    }  # fmt: skip
    for name, sim in reasons.items():
        page.goto(sim_url(live_server, sim))
        card = page.locator(".sim-connectivity")
        expect(card.locator(".why-offline")).to_contain_text(f"Why offline? {expected[name]}")
        expect(card.locator(".why-todo")).to_contain_text("What to do:")
        if name == "reset-requested":
            expect(card).to_contain_text("waiting for the device to attach again")
        card.screenshot(path=str(screenshot_path(f"why-offline-{name}-{width}")))
        if width == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= 375, name


def test_a_member_resets_connectivity_from_the_page(page, live_server, fleet):
    _, reasons = fleet
    sim = reasons["detached"]
    sign_in(page, live_server, "demo")
    page.goto(sim_url(live_server, sim))
    page.get_by_role("button", name="Reset connectivity").click()
    expect(page.locator(".messages")).to_contain_text("reset requested at")
    expect(page.locator(".sim-connectivity")).to_contain_text("waiting for the device to attach again")


def screenshot_path(name: str):
    from tests.browser.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS / f"{name}.png"

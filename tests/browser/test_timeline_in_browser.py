"""A SIM's timeline and its "why offline?" in a real browser (issue 17, "What it must show"), at a phone's
width (375 px) and a desk's (1280 px), with DEBUG off as in production and on as `./run` has it:

- one SIM per reason why_offline gives (sims/why_offline.py): the card says the reason, what it is about
  (the cause the network gave, the IMEI seen, the days without a session, who stopped the SIM and why)
  and what to do;
- a SIM whose timeline holds every kind of entry (its lifecycle, network events, usage by day, SMS, its
  devices) on its first page and on the next, loaded by the Older button.

Nothing scrolls sideways on a phone and the browser shows no error. The pictures land in screenshots/
(why-offline-*, timeline-*), to be opened and judged."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from carriers.models import SmsMessage
from devices.models import Device, DeviceAssignment
from lib.units import MB
from products.models import Membership, Product
from sims.models import Connectivity, NetworkEvent, NetworkStatus, Sim, SimConnectivity, SimDailyUsage, SimEvent, State, UsageTick
from sims.timeline import PAGE_SIZE, clock
from tests.browser.conftest import PHONE, SCREENSHOTS, sign_in
from tests.conftest import make_iccid, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SLUG = "acme-trackers"
DESK = {"width": 1280, "height": 860}
IMEI_SEEN = "356938035643809"
IMEI_OF_DEVICE = "490154203237518"
DAYS = 16  # of the timeline SIM's history: 78 entries, a first page of 50 and a next one of 28


def stopped(product, state, action, reason="", *, from_state=State.ACTIVE):
    sim = Sim.objects.create(iccid=make_iccid(), product=product, state=state, home_country="DE")
    SimEvent.objects.create(
        sim=sim, product=product, action=action, from_state=from_state, to_state=state, actor_kind="user", actor_name="dana",
        reason=reason, created_at=timezone.now() - timedelta(hours=3),
    )  # fmt: skip
    return sim


def seen(product, status, **fields):
    sim = Sim.objects.create(iccid=make_iccid(), product=product, state=State.ACTIVE, home_country="DE", **fields.pop("sim", {}))
    fields.setdefault("last_event_at", timezone.now() - timedelta(hours=2))
    SimConnectivity.objects.create(
        sim=sim, product=product, status=status, operator="Telekom.de 262-01", country="DE", rat="LTE-M", imei=IMEI_SEEN, **fields
    )
    return sim


def reason_sims(product) -> dict[str, tuple[Sim, list[str]]]:
    """A SIM for each reason, and the words its card must show (the reason, then what it is about)."""
    now = timezone.now()
    other = Device.objects.create(product=product, device_id="trk-0009", name="Tracker 9", imei=IMEI_OF_DEVICE)
    rejected_at = now - timedelta(hours=2)
    return {
        "issued": (Sim.objects.create(iccid=make_iccid(), product=product, state=State.ISSUED), ["Not activated yet", "never put on the network", "Activate it"]),
        "suspended": (stopped(product, State.SUSPENDED, "deactivate", "Lost in transit"), ["Deactivated here", "by dana: Lost in transit", "Reactivate it"]),
        "paused": (stopped(product, State.PAUSED, "pause", "Data limit reached"), ["Paused here", "by dana: Data limit reached: its data is off", "raise its data limit"]),
        "terminated": (stopped(product, State.TERMINATED, "terminate"), ["Terminated here", "by dana", "can never be used again"]),
        "pending": (
            Sim.objects.create(iccid=make_iccid(), product=product, state=State.ACTIVE, network_status=NetworkStatus.PENDING, network_since=now - timedelta(minutes=4), network_error="The simulated carrier did not answer (a timeout)"),
            ["Pending on the carrier", "has not reached the carrier's network yet", "carrier unavailable: The simulated carrier did not answer (a timeout)", "the console keeps trying"],
        ),
        "refused": (
            Sim.objects.create(iccid=make_iccid(), product=product, state=State.ACTIVE, network_status=NetworkStatus.FAILED, network_error="SIM not in this account's inventory (simulated carrier)."),
            ["Refused by the carrier", "SIM not in this account's inventory", "Retry at the carrier"],
        ),
        "never-attached": (Sim.objects.create(iccid=make_iccid(), product=product, state=State.ACTIVE), ["Never attached", "has not reported this SIM at all", "power and antenna"]),
        "rejected": (
            seen(product, Connectivity.OFFLINE, since=rejected_at, last_reject_at=rejected_at, last_reject_cause="IMSI unknown in HLR"),
            ["Rejected by the network", f"Rejected at {clock(rejected_at)}: IMSI unknown in HLR.", "roaming, operator"],
        ),
        "imei-mismatch": (
            seen(product, Connectivity.OFFLINE, since=now - timedelta(hours=6), sim={"device": other}),
            ["IMEI differs from the device's", f"The network saw IMEI {IMEI_SEEN}; its device Tracker 9 has IMEI {IMEI_OF_DEVICE}.", "right device"],
        ),
        "attached-no-session": (
            seen(product, Connectivity.ATTACHED, since=now - timedelta(hours=7), last_attach_at=now - timedelta(hours=7)),
            ["Attached, never a data session", "without any data session", "APN"],
        ),
        "no-session-for-days": (
            seen(product, Connectivity.ATTACHED, since=now - timedelta(days=6), last_attach_at=now - timedelta(days=6), last_session_end_at=now - timedelta(days=5, hours=1)),
            ["No data session for 5 days", "Attached, but the last data session ended", "APN"],
        ),
        "between-sessions": (
            seen(product, Connectivity.ATTACHED, since=now - timedelta(days=2), last_attach_at=now - timedelta(days=2), last_session_end_at=now - timedelta(minutes=35)),
            ["Attached, between data sessions", "Last data session ended", "What to do: Nothing: the device opens a session"],
        ),
        "detached": (
            seen(product, Connectivity.OFFLINE, since=now - timedelta(hours=9), last_attach_at=now - timedelta(days=2)),
            [f"Detached since {clock(now - timedelta(hours=9))}", "left the network (last on Telekom.de 262-01)", "coverage"],
        ),
        "reset-requested": (
            seen(product, Connectivity.OFFLINE, since=now - timedelta(hours=9), last_attach_at=now - timedelta(days=2), reset_requested_at=now - timedelta(minutes=3)),
            ["Detached since", "waiting for the device to attach again"],
        ),
    }  # fmt: skip


def timeline_sim(product, user) -> Sim:
    """A SIM with DAYS days of history, every kind of entry on most days: a data session, the day's usage, an
    SMS; a few lifecycle changes, attaches, rejects, a location update and two devices, in its newest days
    and in its oldest (so the first page and the next both show every kind)."""
    now = timezone.now()
    first = Device.objects.create(product=product, device_id="trk-0007", name="Tracker 7", imei=IMEI_SEEN, model="Quectel BG95-M3")
    second = Device.objects.create(product=product, device_id="e00fce681f2d0c1e5b3a4c2d", name="Boiler room, building B", imei=IMEI_OF_DEVICE)
    sim = Sim.objects.create(iccid=make_iccid(), product=product, state=State.ACTIVE, home_country="DE", device=second)
    SimConnectivity.objects.create(sim=sim, product=product, status=Connectivity.ONLINE, since=now - timedelta(minutes=20), last_event_at=now - timedelta(minutes=20), last_session_start_at=now - timedelta(minutes=20), operator="Telekom.de 262-01", country="DE", rat="LTE-M", imei=IMEI_OF_DEVICE)  # fmt: skip

    def ago(days: int, hours: int = 0) -> datetime:
        return now - timedelta(days=days, hours=hours)

    events, usage, sms = [], [], []
    where = {"operator": "Telekom.de 262-01", "country": "DE", "rat": "LTE-M"}
    for day in range(DAYS):
        start = ago(day, 1)
        events.append(NetworkEvent(event_id=f"s{day}", sim=sim, product=product, kind="session_start", at=start, **where))
        events.append(NetworkEvent(event_id=f"e{day}", sim=sim, product=product, kind="session_end", at=start + timedelta(minutes=7), bytes=(day + 1) * 310_000, **where))
        usage.append(SimDailyUsage(sim=sim, product=product, day=ago(day).astimezone(UTC).date(), bytes=(day + 2) * MB, sms=day % 3))
        mt = day % 2 == 0
        sms.append(SmsMessage(sim=sim, product=product, direction="mt" if mt else "mo", body="status?" if mt else f"OK battery {90 - day}%", status="delivered" if mt else "received", carrier_message_id=f"SM{day:04d}", created_by=user if mt else None, created_at=ago(day, 3)))  # fmt: skip
    for day in (1, DAYS - 2):
        events.append(NetworkEvent(event_id=f"r{day}", sim=sim, product=product, kind="auth_reject", at=ago(day, 6), cause="Roaming not allowed in this location area", operator="Orange F 208-01", country="FR", rat="LTE-M"))  # fmt: skip
        events.append(NetworkEvent(event_id=f"a{day}", sim=sim, product=product, kind="attach", at=ago(day, 5), imei=IMEI_OF_DEVICE if day == 1 else IMEI_SEEN, cell="262-01-4021-77311", **where))  # fmt: skip
        events.append(NetworkEvent(event_id=f"d{day}", sim=sim, product=product, kind="detach", at=ago(day, 8), **where))
        events.append(NetworkEvent(event_id=f"l{day}", sim=sim, product=product, kind="location", at=ago(day, 4), cell="262-01-4021-77312", **where))
    NetworkEvent.objects.bulk_create(events)
    SimDailyUsage.objects.bulk_create(usage)
    UsageTick.objects.create(started_at=ago(0, 1), finished_at=ago(0, 1), usage_since=ago(0, 2), usage_until=ago(0, 1))
    SmsMessage.objects.bulk_create(sms)
    changes = [
        (DAYS - 1, "activate", State.ISSUED, State.ACTIVE, ""), (DAYS - 2, "set_data_limit", State.ACTIVE, State.ACTIVE, ""),
        (3, "deactivate", State.ACTIVE, State.SUSPENDED, "Moved to the boiler room"), (2, "activate", State.SUSPENDED, State.ACTIVE, ""),
    ]  # fmt: skip
    for day, action, before, after, why in changes:
        SimEvent.objects.create(sim=sim, product=product, action=action, from_state=before, to_state=after, actor_kind="user", actor_name="dana", reason=why, created_at=ago(day, 2))  # fmt: skip
    DeviceAssignment.objects.create(sim=sim, device=first, started_at=ago(DAYS - 2, 5), ended_at=ago(2, 5), source="network")
    DeviceAssignment.objects.create(sim=sim, device=second, started_at=ago(2, 5), source="hand", by_user=user)
    return sim


@pytest.fixture
def fleet(transactional_db):
    product = Product.objects.create(name="Acme Asset Trackers", slug=SLUG)
    demo = make_user("demo")
    Membership.objects.create(user=demo, product=product, role=Membership.Role.MEMBER)
    return timeline_sim(product, demo), reason_sims(product)


def sim_url(live_server, sim) -> str:
    return f"{live_server.url}/products/{SLUG}/sims/{sim.iccid}/"


def shot(name: str) -> str:
    SCREENSHOTS.mkdir(exist_ok=True)
    return str(SCREENSHOTS / f"{name}.png")


def open_page(browser, live_server, viewport):
    """A signed-in page that collects the browser's errors."""
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
    width = page.evaluate("document.documentElement.scrollWidth")
    window = page.evaluate("window.innerWidth")
    assert width <= window, f"{what}: the page is {width} px wide in a {window} px window"
    assert not errors, f"{what}: " + "\n".join(errors)


WIDTHS = [pytest.param(PHONE, id="375"), pytest.param(DESK, id="1280")]
DEBUGS = [pytest.param(False, id="debug-off"), pytest.param(True, id="debug-on")]


@pytest.mark.parametrize("debug", DEBUGS)
@pytest.mark.parametrize("viewport", WIDTHS)
def test_why_offline_says_each_reason_what_it_is_about_and_what_to_do(browser, live_server, fleet, settings, viewport, debug):
    settings.DEBUG = debug
    _, reasons = fleet
    context, page, errors = open_page(browser, live_server, viewport)
    for name, (sim, words) in reasons.items():
        errors.clear()
        page.goto(sim_url(live_server, sim))
        card = page.locator(".sim-connectivity")
        why = card.locator(".why-offline")
        expect(why.locator("strong")).to_contain_text(f"Why offline? {words[0]}")
        for said in words[1:]:
            expect(card).to_contain_text(said)
        expect(why.locator(".why-todo")).to_contain_text("What to do: ")
        # A SIM the network never reported has no details to show (no rows of dashes), and says so once.
        never_seen = not SimConnectivity.objects.filter(sim=sim).exists()
        expect(card.locator(".connectivity-details")).to_have_count(0 if never_seen else 1)
        expect(card.get_by_text("The network has not reported this SIM")).to_have_count(1 if never_seen else 0)
        if name == "no-session-for-days":  # the session's end known, its start not: not "never"
            expect(card.locator("dt:text-is('Last session') + dd")).to_have_text(re.compile(r"^ended \d+ \w{3} \d\d:\d\d$"))
        fits_and_no_errors(page, errors, name)
        card.screenshot(path=shot(f"why-offline-{name}-{viewport['width']}{'-debug' if debug else ''}"))
    context.close()


@pytest.mark.parametrize("debug", DEBUGS)
@pytest.mark.parametrize("viewport", WIDTHS)
def test_a_sims_timeline_shows_every_kind_of_entry_on_its_first_page_and_the_next(browser, live_server, fleet, settings, viewport, debug):
    settings.DEBUG = debug
    busy, _ = fleet
    width = f"{viewport['width']}{'-debug' if debug else ''}"
    context, page, errors = open_page(browser, live_server, viewport)
    page.goto(sim_url(live_server, busy))
    timeline = page.locator(".sim-timeline")
    entries = page.locator("#timeline > .timeline-entry")
    expect(entries).to_have_count(PAGE_SIZE)
    expect(timeline.locator(".timeline-fresh")).to_contain_text("network events up to")
    expect(timeline.locator(".timeline-fresh")).to_contain_text("usage records up to")
    first_page = entries
    expect(first_page.filter(has_text="Data session ended").first).to_contain_text("MB · Telekom.de 262-01 · Germany · LTE-M")
    expect(first_page.filter(has_text="Rejected by the network").first).to_contain_text("Roaming not allowed in this location area · Orange F 208-01 · France")
    expect(first_page.filter(has_text="Attached").first).to_contain_text(f"cell 262-01-4021-77311 · IMEI {IMEI_OF_DEVICE}")
    expect(first_page.filter(has_text="Deactivate").first).to_contain_text("Active → Suspended, by dana: Moved to the boiler room")
    expect(first_page.filter(has_text="In device Boiler room, building B").first).to_contain_text(f"(IMEI {IMEI_OF_DEVICE}) Set by hand by demo, still there")
    expect(first_page.filter(has_text="SMS to the device").first).to_contain_text("“status?”: delivered")
    expect(first_page.filter(has_text="SMS from the device").first).to_contain_text("“OK battery 89%”: received")
    today = timezone.now().astimezone(UTC).date()
    usage_today = first_page.filter(has_text=f"Usage on {today.day} {today:%b}")
    expect(usage_today).to_contain_text(f"{2:,.2f} MB")
    expect(usage_today.locator("time")).to_have_text(f"{today.day} {today:%b}")  # the whole day, not its midnight
    for kind in ("lifecycle", "network", "usage", "sms", "device"):
        expect(page.locator(f"#timeline > .timeline-{kind}").first).to_be_visible()
    fits_and_no_errors(page, errors, "the timeline's first page")
    page.screenshot(path=shot(f"timeline-sim-page-{width}"), full_page=True)
    timeline.screenshot(path=shot(f"timeline-first-page-{width}"))

    page.get_by_role("button", name="Older").click()
    expect(entries.nth(PAGE_SIZE)).to_be_visible()
    total = entries.count()
    assert PAGE_SIZE < total < 2 * PAGE_SIZE  # the second page is the last: no Older button
    expect(page.get_by_role("button", name="Older")).to_have_count(0)
    next_page = page.locator(f"#timeline > .timeline-entry:nth-child(n+{PAGE_SIZE + 1})")
    expect(next_page.filter(has_text="In device Tracker 7").first).to_contain_text(f"(IMEI {IMEI_SEEN}) Network attach, until")
    expect(next_page.filter(has_text="Activate").last).to_contain_text("Issued → Active, by dana")
    expect(next_page.filter(has_text="Set data limit").first).to_contain_text("Active, by dana")
    expect(next_page.filter(has_text="Rejected by the network").first).to_contain_text("Roaming not allowed in this location area")
    expect(next_page.filter(has_text="Location update").first).to_contain_text("cell 262-01-4021-77312")
    for kind in ("lifecycle", "network", "usage", "sms", "device"):
        expect(page.locator(f"#timeline > .timeline-{kind}:nth-child(n+{PAGE_SIZE + 1})").first).to_be_visible()
    # Newest first across both pages, none repeated.
    times = entries.locator("time").evaluate_all("(els) => els.map((el) => el.getAttribute('datetime'))")
    assert times == sorted(times, reverse=True) and len(times) == total
    fits_and_no_errors(page, errors, "the timeline's next page")
    # From the last entries of the first page to the end of the next.
    top = entries.nth(PAGE_SIZE - 3).evaluate("(el) => el.getBoundingClientRect().top + window.scrollY")
    card = timeline.evaluate("(el) => { const r = el.getBoundingClientRect(); return {x: r.left, bottom: r.bottom + window.scrollY, width: r.width}; }")
    page.screenshot(path=shot(f"timeline-next-page-{width}"), full_page=True, clip={"x": card["x"], "y": top, "width": card["width"], "height": card["bottom"] - top})
    context.close()


def test_a_member_resets_connectivity_from_the_page(page, live_server, fleet):
    _, reasons = fleet
    sim, _ = reasons["detached"]
    sign_in(page, live_server, "demo")
    page.goto(sim_url(live_server, sim))
    page.get_by_role("button", name="Reset connectivity").click()
    expect(page.locator(".messages")).to_contain_text("reset requested at")
    expect(page.locator(".sim-connectivity")).to_contain_text("waiting for the device to attach again")

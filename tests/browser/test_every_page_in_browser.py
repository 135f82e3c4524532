"""Every page of the console in a real browser, at a phone's width (375 px) and a desktop's (1280 px),
signed in as a product admin and as a plain member (and signed out, for the ways in: sign-in, password reset, an invitation): no page is
wider than the window (a phone must never scroll sideways), every visible control takes the keyboard's
focus, axe-core finds no serious or critical accessibility violation, the console shows no error (a
script's, a resource that failed, a Content Security Policy violation) and the stylesheet is applied.
Each page is photographed at both widths into screenshots/ (every-page-*).
The admin also walks with DEBUG on, as `./run` starts the console (django-htmx's debug script on every
page, static files served from the source folders).
axe-core is evaluated in the page as the devtools would, so the Content Security Policy stays on: the
pages are checked as people get them.

The pages walked are listed in PAGES by URL name; a GET route of the console that is neither walked
nor named in NOT_PAGES (fragments, downloads, machine endpoints) fails test_the_walk_covers_every_page,
so a new page joins the walk."""

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from api.tokens import create_token
from billing.billing import Period
from billing.invoicing import LATE_USAGE, close_billing_period
from billing.models import Invoice
from carriers.health import record_call
from carriers.models import CarrierAccount, SimulatedSim, SmsMessage
from carriers.reconciliation import reconcile
from devices.assignment import assign_sim, on_network_events
from devices.models import Device
from devices.tac import luhn_digit
from imports.importing import count_input, import_iccids, start_import
from notifications.models import Kind, Notification
from products.invitations import invite
from products.models import Product
from sims.models import BulkJob, NetworkStatus, Sim, SimDailyUsage, State
from sims.network_events import NetworkEventRow
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import make_iccid, url_patterns
from tests.console.access_table import API_PREFIXES, METHODS, PUBLIC, TOKEN_ENDPOINTS
from rules.models import Rule, RuleApproval, RuleFiring
from webhooks import addresses, receivers
from webhooks.models import WebhookDelivery

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[1] / "clients" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1280, "height": 860}}
PASSWORD = "demo-sim-console"  # seed_demo's
SLUG = "acme-trackers"

# The pages a person reaches, by URL name, in the order of the walk.
PAGES = [
    "home", "product_home", "sim_list", "sim_detail", "import_start", "import_job", "import_job_progress",
    "my_sims", "team", "product_settings", "billing", "invoice_detail", "billing_compare", "api_tokens",
    "api_docs", "webhooks", "webhook_delivery", "password_change", "password_change_done", "product_new", "bulk_job",
    "notifications", "notification_settings", "carrier_account_new", "carrier_account_edit", "carrier_reconciliation",
    "carrier_import", "device_list", "device_detail", "device_new", "sms_messages", "sims_sms_bulk", "rule_list", "rule_detail",
    "rule_new", "rule_edit", "login", "password_reset", "password_reset_done", "password_reset_confirm", "password_reset_complete", "invitation",
]  # fmt: skip
# Pages of product admins only: the member gets 403 there (tests/console/test_access_walk.py), and does not walk them.
ADMIN_PAGES = {"carrier_account_new", "carrier_account_edit", "rule_new", "rule_edit"}
# Pages walked signed out: a person's way in.
SIGNED_OUT = {"login", "password_reset", "password_reset_done", "password_reset_confirm", "password_reset_complete", "invitation"}
# GET routes that are not pages of their own, and why.
NOT_PAGES = {
    "imei_lock": "a fragment of Settings (walked there)",
    "budget": "a fragment of Settings (walked there)",
    "sim_imei_lock": "a fragment of the SIM page (walked there)",
    "sim_count": "a fragment of the SIMs page",
    "fleet_active_sims": "a fragment of the SIMs page",
    "fleet_connectivity": "a fragment of the SIMs page",
    "fleet_monthly_cost": "a fragment of the SIMs page",
    "sim_menu": "a fragment: a row's menu on the SIMs page",
    "sim_timeline": "a fragment: the older entries of a SIM's timeline, loaded by its Older button",
    "rule_backtest": "a fragment of a rule's page: its last 30 days replayed, loaded after the page (walked there)",
    "import_quote": "a fragment of the import review",
    "billing_period": "a fragment of the billing page (the billing page itself without htmx)",
    "billing_advisor": "a fragment of the billing page (the billing page itself without htmx)",
    "invoice_csv": "a download",
    "import_outcomes_csv": "a download",
    "webhook_delivery_body": "a download",
    "api_schema": "a JSON document",
    "logout": "signs out (POST)",
    "sim_usage_by_zone": "a fragment of the SIM page",
    "sim_export": "a download",
    "notifications_unread": "a fragment of the top bar",
    "invitation_accept": "where the invitation's link leads (walked as invitation, the link from the mail)",
    "carrier_accounts": "a fragment of the Settings page",
    "carrier_health": "a fragment of the SIMs page (the fleet header)",
    "sim_sms": "a fragment of the SIM page (its SMS card)",
}


@dataclass
class Console:
    sim: Sim
    draft_job_id: int
    done_job_id: int
    invoice: Invoice
    delivery: WebhookDelivery
    bulk_job_id: int
    invitation_token: str
    reset_uidb64: str
    reset_token: str
    account_id: int
    device_pk: int
    rule_id: int


@pytest.fixture
def console(transactional_db, prices, monkeypatch) -> Console:
    """seed_demo's console (demo: an admin of Acme Asset Trackers, alice: a member), with a closed and
    invoiced month, an import under review and one finished, a webhook with a delivery, and an API token."""
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["93.184.215.14"])
    call_command("seed_demo", sims=120, usage_days=40, stdout=open("/dev/null", "w"))
    product = Product.objects.get(slug=SLUG)
    demo = product.memberships.get(user__username="demo").user
    now = timezone.now()
    closed = Period.of(now).previous()
    if closed.ends_at + LATE_USAGE > now:
        closed = closed.previous()
    close_billing_period(period=closed)
    draft = start_import(product=product, user=demo, typed_text="\n".join(make_iccid() for _ in range(3)))
    count_input(draft)
    done = import_iccids(product=product, user=demo, data="\n".join(make_iccid() for _ in range(5)), country="DE", source_name="carrier-delivery.txt")
    hook = receivers.add_webhook(product=product, url="https://hooks.acme.example/sims", user=demo)
    delivery_id = uuid.uuid4()
    body = {"id": str(delivery_id), "type": "sim.events", "action": "deactivate", "event_count": 2,
            "changes": [{"from_state": "active", "to_state": "suspended", "iccids": [make_iccid(), make_iccid()]}]}  # fmt: skip
    delivery = WebhookDelivery.objects.create(
        webhook=hook, uuid=delivery_id, kind="sim.events", summary="deactivate: 2 SIMs", event_count=2, body=json.dumps(body),
        status="failed", attempts=8, last_status_code=500, last_error="Internal Server Error", last_attempt_at=now,
    )  # fmt: skip
    create_token(user=demo, name="Fleet dashboard", product=product, scopes=["sims:list"])
    used = SimDailyUsage.objects.filter(product=product, sim__state=State.ACTIVE).values("sim")
    sim = Sim.objects.filter(pk__in=used).order_by("pk").first()
    bulk_job = BulkJob.objects.create(product=product, created_by=demo, submission="walk", action="deactivate", confirmed_count=20_000, described="SIMs matching state Active")
    links: list[str] = []
    invite(product=product, email="dana@example.net", role="member", invited_by=demo, link_for=lambda token: links.append(token) or token)
    for user in product.memberships.values_list("user", flat=True):
        Notification.objects.create(
            user_id=user, product=product, kind=Kind.IMPORT_FINISHED, title="Import #1 finished: 5 SIMs went in",
            url=reverse("import_job", kwargs={"slug": SLUG, "job_id": done.pk}), link_text="Open the import", in_console=True, email=False,
        )  # fmt: skip
    alice = product.memberships.get(user__username="alice").user
    # Two carrier accounts, one of them down, with a SIM waiting and one refused (Settings, the fleet header, the SIM list).
    account = CarrierAccount.objects.create(product=product, name="emnify Europe", adapter="simulator", iccid_prefixes="8944")
    CarrierAccount.objects.create(product=product, name="Lab simulator", adapter="simulator", iccid_prefixes="8901260", settings={"latency_ms": 50})
    record_call(account_key=account.pk, what="apply", ok=True, at=now - timedelta(hours=1))
    record_call(account_key=account.pk, what="apply", ok=False, error="The carrier did not answer (a timeout).", at=now - timedelta(minutes=20))
    waiting = Sim.objects.filter(product=product, state=State.SUSPENDED).order_by("pk")[:2]
    for n, other in enumerate(waiting):
        status = NetworkStatus.PENDING if n == 0 else NetworkStatus.FAILED
        Sim.objects.filter(pk=other.pk).update(
            network_status=status, network_since=now - timedelta(minutes=20), network_error="" if n == 0 else "SIM not in this account's inventory."
        )
    account = carrier_account_with_differences(product)
    device = devices_with_sims(product, demo)
    # SMS both ways on the walked SIM (its card, Messages).
    SmsMessage.objects.create(sim=sim, product=product, direction="mt", body="status?", status="delivered", created_by=demo)
    SmsMessage.objects.create(sim=sim, product=product, direction="mo", body="ACK status?", status="received")
    rule = rule_with_firings(product, sim)
    return Console(
        rule_id=rule.pk, sim=sim, draft_job_id=draft.pk, done_job_id=done.pk, invoice=Invoice.objects.get(product=product), delivery=delivery,
        bulk_job_id=bulk_job.pk, invitation_token=links[0], reset_uidb64=urlsafe_base64_encode(force_bytes(alice.pk)),
        reset_token=default_token_generator.make_token(alice), account_id=account.pk, device_pk=device.pk,
    )  # fmt: skip


def rule_with_firings(product: Product, sim: Sim) -> Rule:
    """A usage rule with two firings on the walked SIM and a pass waiting for approval."""
    rule = Rule.objects.create(
        product=product, name="Heavy users", condition_kind="usage_day", condition={"mb": 50},
        actions=[{"kind": "pause"}, {"kind": "email", "roles": ["admin"]}], approval_threshold=100,
    )  # fmt: skip
    for days in (1, 2):
        day = (timezone.now() - timedelta(days=days)).date()
        RuleFiring.objects.create(
            rule=rule, rule_version=1, sim=sim, window_key=f"d{day.isoformat()}", fired_at=timezone.now() - timedelta(days=days),
            figures={"mb": 61.2, "day": day.isoformat()}, did=["Paused", "Emailed 2 admins"],
        )  # fmt: skip
    RuleApproval.objects.create(rule=rule, pending=140)
    return rule


def devices_with_sims(product: Product, user) -> Device:
    """A dozen devices: most from the network's attach events (named from their IMEI's model), a few typed
    with tags, one without a SIM; and one device whose SIM was swapped, with its history. Answers that one."""
    sims = list(Sim.objects.filter(product=product, state=State.ACTIVE).order_by("pk")[:12])
    tacs = ["35283410", "35228707", "35271311", "35246211", "86695004", "35416806", "35907206", "99000123"]
    rows = []
    for n, sim in enumerate(sims[:8]):
        body = f"{tacs[n]}{n + 100200:06d}"
        rows.append((sim.pk, product.pk, NetworkEventRow(event_id=f"walk-{n}", iccid=sim.iccid, kind="attach", at=timezone.now(), imei=body + luhn_digit(body))))
    on_network_events(sender=None, events=rows)
    boiler = Device.objects.create(product=product, device_id="e00fce681f2d0c1e5b3a4c2d", name="Boiler room, building B", model="Particle Boron LTE (BRN404X)", tags=["basement", "pilot", "heating"])
    assign_sim(sim=sims[8], device=boiler, source="api", at=timezone.now() - timedelta(days=20))
    assign_sim(sim=sims[9], device=boiler, source="hand", by_user=user, at=timezone.now() - timedelta(days=3))
    Device.objects.create(product=product, device_id="SN-2026-00417", name="Cold store 4", tags=["spare"])
    return boiler


def carrier_account_with_differences(product: Product) -> CarrierAccount:
    """A simulated carrier account holding a few of the product's SIMs, two in another state there, and
    three SIMs the console does not have; reconciled."""
    account = CarrierAccount.objects.create(product=product, name="Simulated EU", adapter="simulator")
    sims = list(Sim.objects.filter(product=product, state=State.ACTIVE).order_by("pk")[:6])
    Sim.objects.filter(pk__in=[sim.pk for sim in sims]).update(carrier_account=account)
    for n, sim in enumerate(sims[:5]):
        SimulatedSim.objects.create(account=account, iccid=sim.iccid, status="suspended" if n < 2 else "active")
    for status in ("active", "suspended", "paused"):
        SimulatedSim.objects.create(account=account, iccid=make_iccid(), status=status)
    reconcile(account.pk)
    return account


def url_of(name: str, c: Console) -> str:
    product = {"slug": SLUG}
    return {
        "home": reverse("home"),
        "product_home": reverse("product_home", kwargs=product),
        "sim_list": reverse("sim_list", kwargs=product),
        "sim_detail": reverse("sim_detail", kwargs={**product, "iccid": c.sim.iccid}),
        "import_start": reverse("import_start", kwargs=product),
        "import_job": reverse("import_job", kwargs={**product, "job_id": c.draft_job_id}),
        "import_job_progress": reverse("import_job", kwargs={**product, "job_id": c.done_job_id}),
        "my_sims": reverse("my_sims"),
        "team": reverse("team", kwargs=product),
        "product_settings": reverse("product_settings", kwargs=product),
        "billing": reverse("billing", kwargs=product),
        "invoice_detail": reverse("invoice_detail", kwargs={**product, "number": c.invoice.number}),
        "billing_compare": reverse("billing_compare", kwargs=product),
        "api_tokens": reverse("api_tokens"),
        "api_docs": reverse("api_docs"),
        "webhooks": reverse("webhooks", kwargs=product),
        "webhook_delivery": reverse("webhook_delivery", kwargs={**product, "delivery_id": c.delivery.pk}),
        "password_change": reverse("password_change"),
        "password_change_done": reverse("password_change_done"),
        "login": reverse("login"),
        "product_new": reverse("product_new"),
        "bulk_job": reverse("bulk_job", kwargs={**product, "bulk_job_id": c.bulk_job_id}),
        "notifications": reverse("notifications"),
        "notification_settings": reverse("notification_settings", kwargs=product),
        "password_reset": reverse("password_reset"),
        "password_reset_done": reverse("password_reset_done"),
        "password_reset_confirm": reverse("password_reset_confirm", kwargs={"uidb64": c.reset_uidb64, "token": c.reset_token}),
        "password_reset_complete": reverse("password_reset_complete"),
        "invitation": reverse("invitation", kwargs={"token": c.invitation_token}),
        "carrier_account_new": reverse("carrier_account_new", kwargs=product),
        "carrier_account_edit": reverse("carrier_account_edit", kwargs={**product, "account_id": c.account_id}),
        "carrier_reconciliation": reverse("carrier_reconciliation", kwargs=product),
        "carrier_import": reverse("carrier_import", kwargs={**product, "account_id": c.account_id}),
        "device_list": reverse("device_list", kwargs=product),
        "rule_list": reverse("rule_list", kwargs=product),
        "rule_detail": reverse("rule_detail", kwargs={**product, "rule_id": c.rule_id}),
        "rule_new": reverse("rule_new", kwargs=product),
        "rule_edit": reverse("rule_edit", kwargs={**product, "rule_id": c.rule_id}),
        "device_detail": reverse("device_detail", kwargs={**product, "device_pk": c.device_pk}),
        "device_new": reverse("device_new", kwargs=product),
        "sms_messages": reverse("sms_messages", kwargs=product),
        "sims_sms_bulk": reverse("sims_sms_bulk", kwargs=product) + "?state=active",
    }[name]


# What sticks out of the window: the outermost elements whose right edge is past it, leaving out those
# inside a box that clips or scrolls them (a table scrolling in its card is fine).
OVERFLOW = """() => {
  const limit = window.innerWidth + 0.5;
  const clipped = (el) => {
    // A positioned box is clipped by its containing block's scrollers only, not by the boxes between.
    const position = getComputedStyle(el).position;
    let skipUntil = position === "absolute" || position === "fixed" ? el.offsetParent : null;
    if (position === "fixed") return false;
    for (let box = el.parentElement; box && box !== document.body; box = box.parentElement) {
      if (skipUntil) { if (box !== skipUntil) continue; skipUntil = null; }
      if (getComputedStyle(box).overflowX !== "visible") return true;
    }
    return false;
  };
  const sticksOut = (el) => el.getBoundingClientRect().right > limit;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + [...el.classList].map((c) => "." + c).join("")
    + " (" + Math.round(el.getBoundingClientRect().right) + " px: " + JSON.stringify((el.innerText || "").trim().slice(0, 40)) + ")";
  const offenders = [...document.body.querySelectorAll("*")].filter(
    (el) => sticksOut(el) && !clipped(el)
      && !(el.parentElement !== document.body && sticksOut(el.parentElement) && !clipped(el.parentElement))
  );
  return {width: document.documentElement.scrollWidth, window: window.innerWidth, offenders: offenders.slice(0, 5).map(name)};
}"""

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) =>
    `${v.impact} ${v.id} (${v.help}): ` + v.nodes.slice(0, 4).map((n) => n.target.join(" ")).join(", ")
    + (v.nodes.length > 4 ? ` and ${v.nodes.length - 4} more` : ""));
}"""


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}{reverse('login')}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{base}/")


def walk(browser, base: str, c: Console, username: str, check, debug: bool = False) -> list[str]:
    """Open every page at both widths (the sign-in page signed out) and collect what `check` finds, and
    what the browser's console shows as an error on the way."""
    problems = []
    for width_name, viewport in WIDTHS.items():
        for signed_in in (True, False):
            context = browser.new_context(viewport=viewport)
            page = context.new_page()
            page.set_default_timeout(15_000)
            errors: list[str] = []
            page.on("console", lambda message: message.type == "error" and errors.append(message.text))
            page.on("pageerror", lambda error: errors.append(str(error)))
            if signed_in:
                sign_in(page, base, username)
            for name in PAGES:
                if (name in SIGNED_OUT) == signed_in or (name in ADMIN_PAGES and username != "demo"):
                    continue
                errors.clear()
                response = page.goto(base + url_of(name, c))
                assert response is not None and response.ok, f"{name} answered {response and response.status}"
                page.wait_for_load_state("networkidle")  # the fragments a page loads after itself
                found = check(page) + [f"console error: {error}" for error in errors]
                problems += [f"{name} at {viewport['width']} px as {username}: {problem}" for problem in found]
                SCREENSHOTS.mkdir(exist_ok=True)
                who = (username if signed_in else "signed-out") + ("-debug" if debug else "")
                page.screenshot(path=str(SCREENSHOTS / f"every-page-{width_name}-{who}-{name}.png"), full_page=True)
            context.close()
    return problems


# Every visible control can take the keyboard's focus (nothing made unreachable with tabindex="-1" or a
# disguised element); the focus is given back afterwards, so that the screenshot shows no focus ring.
UNREACHABLE = """() => {
  const controls = [...document.querySelectorAll("a[href], button, input, select, textarea, summary, [tabindex]")].filter(
    // checkVisibility leaves out what a closed <details> or display: none hides: its summary is the way in.
    (el) => !el.disabled && el.checkVisibility({visibilityProperty: true, contentVisibilityAuto: true})
  );
  const unreachable = controls.filter((el) => { el.focus({preventScroll: true}); return document.activeElement !== el || el.tabIndex < 0; });
  document.activeElement && document.activeElement.blur();
  return unreachable.slice(0, 5).map((el) => el.outerHTML.slice(0, 80));
}"""


def reachable_by_keyboard(page) -> list[str]:
    return [f"not reachable by keyboard: {html}" for html in page.evaluate(UNREACHABLE)]


def fits_the_window(page) -> list[str]:
    found = page.evaluate(OVERFLOW)
    if found["width"] <= found["window"]:
        return []
    return [f"the page is {found['width']} px wide in a {found['window']} px window; sticking out: {'; '.join(found['offenders'])}"]


# The stylesheet came and applies: the top bar is dark (an unstyled page has a transparent one).
TOPBAR_BACKGROUND = """() => {
  const topbar = document.querySelector(".topbar");
  return topbar ? getComputedStyle(topbar).backgroundColor : "no .topbar";
}"""


def styled(page) -> list[str]:
    background = page.evaluate(TOPBAR_BACKGROUND)
    if page.locator(".topbar").count() == 0 or background not in ("rgba(0, 0, 0, 0)", "transparent"):
        return []
    return [f"the stylesheet is not applied: the top bar's background is {background}"]


def debug_script_as(debug: bool):
    """The walk is under the DEBUG it says: django-htmx's debug script is on a page with DEBUG only."""

    def check(page) -> list[str]:
        count = page.locator('script[src$="django-htmx.js"][data-debug="True"]').count()
        return [] if count == (1 if debug else 0) else [f"django-htmx's debug script is on the page {count} times with DEBUG={int(debug)}"]

    return check


def no_serious_accessibility_violation(page) -> list[str]:
    page.evaluate(AXE.read_text())  # as the devtools would: the Content Security Policy does not apply
    return page.evaluate(AXE_RUN)


@pytest.mark.parametrize(
    ("username", "debug"), [("demo", False), ("alice", False), ("demo", True)], ids=["admin", "member", "admin-DEBUG=1"]
)
def test_every_page_fits_a_phone_and_a_desktop_and_has_no_serious_accessibility_violation(browser, live_server, console, settings, username, debug):
    """One walk for every check (each page load is the slow part): the width, the keyboard, the stylesheet,
    then axe-core when installed. With DEBUG on as `./run` has it: only the admin walks (the member's pages
    are the admin's, fewer), to keep the time down."""
    settings.DEBUG = debug
    checks = [fits_the_window, reachable_by_keyboard, styled, debug_script_as(debug)] + ([no_serious_accessibility_violation] if AXE.exists() else [])
    problems = walk(browser, live_server.url, console, username, lambda page: [found for check in checks for found in check(page)], debug)
    assert not problems, "\n".join(problems)
    if not AXE.exists():
        pytest.skip("every page fits, but axe-core is not installed (./test installs it: npm ci in tests/clients/axe)")


def test_the_walk_covers_every_page():
    get_routes = {name for name, methods in METHODS.items() if methods.startswith("GET")} | (PUBLIC - {"logout"})
    routes = {p.name for p in url_patterns()[0] if p.name and not p.name.startswith(API_PREFIXES)} - set(TOKEN_ENDPOINTS)
    assert get_routes <= routes
    unwalked = sorted(get_routes - set(PAGES) - set(NOT_PAGES))
    assert not unwalked, f"pages no browser test opens: add them to PAGES (or NOT_PAGES, saying why): {unwalked}"

"""The Content Security Policy in a real browser: every main page, its htmx fragments, the row menus,
the file drop and the scanner, the admin, with no violation reported.

Violations are caught two ways: the `securitypolicyviolation` event (installed before any page script
runs) and Chromium's console messages ("Refused to ..."), so a blocked inline handler, inline style,
<style> injected by a script or eval() all fail the test.
"""

import re
import uuid

import pytest
from playwright.sync_api import expect

from products.models import Membership, Product
from sims.models import Sim, State
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import make_iccid, make_user
from webhooks import addresses, receivers
from webhooks.models import WebhookDelivery

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber} (${event.sample})`);
});
"""


@pytest.fixture
def fleet(transactional_db, prices, monkeypatch):
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["93.184.215.14"])
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers")
    user = make_user("demo")
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    Membership.objects.create(user=user, product=product, role=Membership.Role.ADMIN)
    states = [State.ACTIVE] * 5 + [State.SUSPENDED, State.ISSUED, State.PAUSED]
    Sim.objects.bulk_create([Sim(iccid=make_iccid(), product=product, state=s, home_country="DE") for s in states])
    hook = receivers.add_webhook(product=product, url="https://hooks.acme.example/sims", user=user)
    WebhookDelivery.objects.create(
        webhook=hook, uuid=uuid.uuid4(), kind="sim.events", summary="deactivate: 1 SIM", event_count=1,
        body='{"type": "sim.events"}', status="failed", attempts=8, last_status_code=500, last_error="Internal Server Error",
    )  # fmt: skip
    return product


class Watch:
    """A page whose CSP violations are gathered in `violations`, read before each navigation."""

    def __init__(self, page) -> None:
        self.page = page
        self.violations: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.violations.append(f"page error: {error}"))

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or message.text.startswith("Refused to"):
            self.violations.append(f"console: {message.text}")

    def collect(self) -> None:
        if self.page.url.startswith("http"):
            self.violations.extend(self.page.evaluate("window.__cspViolations.splice(0)"))

    def visit(self, url: str) -> None:
        self.collect()
        self.page.goto(url)
        self.page.wait_for_load_state("networkidle")
        self.collect()


@pytest.fixture
def watch(playwright, live_server):
    """A browser with a fake camera whose pages report every CSP violation."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"],
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(WATCH)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield Watch(page)
    context.close()
    browser.close()


def test_the_main_pages_run_under_the_policy_without_a_violation(watch, live_server, fleet):
    page, violations, visit = watch.page, watch.violations, watch.visit
    base = f"{live_server.url}"
    slug = fleet.slug

    visit(f"{base}/accounts/login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "pw")
    page.click("button:has-text('Sign in')")
    expect(page.get_by_role("heading", name="Your products")).to_be_visible()

    # The SIMs page: its htmx fragments (active SIMs, cost, count), a filter, a row menu and a row action.
    visit(f"{base}/products/{slug}/sims/")
    expect(page.locator("#sim-count")).not_to_contain_text("Counting")
    page.select_option("#id_state", "active")
    expect(page).to_have_url(re.compile(r"state=active"))
    row = page.locator("#sim-table tbody tr").first
    row.locator("summary.button").click()
    expect(row.get_by_role("button", name="Deactivate")).to_be_visible()
    row.get_by_role("button", name="Deactivate").click()
    expect(page.locator("#messages")).to_contain_text("deactivated")
    page.locator('#sim-table input[name="ids"]').first.check()
    expect(page.locator("[data-selected-count]")).to_have_text("1")
    watch.collect()

    iccid = Sim.objects.filter(state=State.ACTIVE).values_list("iccid", flat=True).first()
    visit(f"{base}/products/{slug}/sims/{iccid}/")

    # The import page: type an ICCID, drop a file on the zone, start and stop the scanner.
    visit(f"{base}/products/{slug}/import/")
    page.fill("#type-iccid", make_iccid())
    page.keyboard.press("Enter")
    expect(page.locator("[data-queue-count]")).to_have_text("1")
    transfer = page.evaluate_handle(
        """(text) => {
            const data = new DataTransfer();
            data.items.add(new File([text], "delivery.txt", {type: "text/plain"}));
            return data;
        }""",
        "\n".join(make_iccid() for _ in range(3)),
    )
    page.dispatch_event("[data-dropzone]", "drop", {"dataTransfer": transfer})
    expect(page.locator("#file-summary")).to_contain_text("3 valid ICCIDs")
    page.get_by_role("button", name="Scan barcodes with the camera").click()
    expect(page.locator("[data-scan-status]")).to_contain_text("Camera on")
    page.wait_for_timeout(800)  # a few frames go to the server
    page.get_by_role("button", name="Stop scanning").click()
    watch.collect()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name=re.compile("Review"))).to_be_visible()
    page.wait_for_load_state("networkidle")
    watch.collect()

    for path in (
        f"/products/{slug}/billing/",
        f"/products/{slug}/billing/compare/",
        f"/products/{slug}/team/",
        f"/products/{slug}/settings/",
        f"/products/{slug}/webhooks/",
        f"/products/{slug}/webhooks/deliveries/{WebhookDelivery.objects.order_by("pk").first().pk}/",
        "/tokens/",
        "/api/docs/",
        "/sims/",
        "/accounts/password/",
        "/admin/",
        "/admin/sims/sim/",
        f"/admin/sims/sim/{Sim.objects.first().pk}/change/",
        "/admin/auth/user/add/",
    ):
        visit(f"{base}{path}")
        assert page.locator("body").inner_text(), path

    # A token made on the Tokens page (its secret shown once) and the admin's dark-mode toggle.
    visit(f"{base}/tokens/")
    page.fill("input[name='name']", "ci")
    page.locator("form.stack-form button").click()
    page.wait_for_load_state("networkidle")
    visit(f"{base}/admin/")
    toggle = page.locator("button.theme-toggle")
    if toggle.count():
        toggle.first.click()
    watch.collect()

    assert violations == []


def test_the_watch_catches_what_the_policy_blocks(watch, live_server, fleet):
    """The check above would see a violation: an inline handler and an inline style are both reported."""
    page, violations, visit = watch.page, watch.violations, watch.visit
    visit(f"{live_server.url}/accounts/login/")
    page.evaluate(
        """() => {
            const holder = document.createElement("div");
            holder.innerHTML = '<button id="bad" onclick="document.title = 1">x</button><p style="color: red">y</p>';
            document.body.appendChild(holder);
        }"""
    )
    page.click("#bad")
    page.wait_for_timeout(200)
    watch.collect()
    joined = "\n".join(violations)
    assert "script-src" in joined and "style-src" in joined

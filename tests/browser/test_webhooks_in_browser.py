"""The webhooks page in a real browser: a refused URL, adding one, the delivery log and a payload."""

import json
import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from products.models import Membership, Product
from tests.conftest import make_iccid, make_user
from webhooks import addresses, receivers
from webhooks.models import Webhook, WebhookDelivery

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def product_with_log(transactional_db, monkeypatch):
    monkeypatch.setattr(
        addresses, "resolve", lambda host, port: [host] if host.replace(".", "").isdigit() else ["93.184.215.14"]
    )
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers")
    user = make_user("demo")
    Membership.objects.create(user=user, product=product, role=Membership.Role.ADMIN)
    hook = receivers.add_webhook(product=product, url="https://hooks.acme.example/sims", user=user)
    now = timezone.now()
    rows = [
        ("delivered", 1, 200, "", None, "deactivate: 1,000 SIMs", 1000),
        ("delivered", 3, 204, "", None, "import: 50,000 SIMs (import #7, batch 1)", 50000),
        ("pending", 2, 503, "Service Unavailable: try later", now + timedelta(minutes=1), "terminate: 12 SIMs", 12),
        ("failed", 8, 500, "Internal Server Error", None, "set_data_limit: 40 SIMs", 40),
    ]
    for status, attempts, code, error, next_at, summary, count in rows:
        delivery_id = uuid.uuid4()
        body = {
            "id": str(delivery_id), "type": "sim.events", "created_at": now.isoformat(),
            "product": {"slug": product.slug, "name": product.name}, "action": summary.split(":")[0],
            "actor": {"kind": "user", "name": "demo"}, "occurred_at": now.isoformat(), "event_count": count,
            "changes": [{"from_state": "active", "to_state": "suspended", "reason": "", "iccids": [make_iccid() for _ in range(3)]}],
        }  # fmt: skip
        WebhookDelivery.objects.create(
            webhook=hook, uuid=delivery_id, kind="sim.events", summary=summary, event_count=count, body=json.dumps(body),
            status=status, attempts=attempts, last_status_code=code, last_error=error, next_attempt_at=next_at,
            last_attempt_at=now, delivered_at=now if status == "delivered" else None,
        )  # fmt: skip
    return product


def test_an_admin_adds_a_webhook_and_reads_the_delivery_log(page, live_server, product_with_log, screenshot):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "pw")
    page.click("button:has-text('Sign in')")
    page.goto(f"{live_server.url}/products/acme-trackers/webhooks/")
    expect(page.get_by_role("link", name="Webhooks")).to_have_attribute("aria-current", "page")
    expect(page.locator("#deliveries tbody tr")).to_have_count(4)

    page.fill("#id_url", "http://169.254.169.254/latest/meta-data/")
    page.click("button:has-text('Add webhook')")
    expect(page.locator(".field-error")).to_contain_text("169.254.169.254 is a link-local address")
    screenshot("webhooks-refused")

    page.fill("#id_url", "https://receiver.example.net/console-events")
    page.click("button:has-text('Add webhook')")
    expect(page.locator("#webhooks tbody tr")).to_have_count(2)
    expect(page.locator("#messages")).to_contain_text("Webhook added")
    page.locator("#webhooks details").last.locator("summary").click()
    expect(page.locator(".webhook-secret").last).to_have_text(re.compile(r"^whsec_"))
    screenshot("webhooks")

    page.get_by_role("link", name=re.compile(r"\d+ \w+ \d\d:\d\d:\d\d")).nth(1).click()
    expect(page.locator("pre")).to_contain_text('"event_count": 12')
    screenshot("webhooks-delivery")
    assert Webhook.objects.count() == 2

"""The webhooks page: admins add, disable and delete; members read the list and the log;
outsiders get 404; htmx requests get fragments."""

import json
import uuid

import pytest
from django.urls import reverse

from tests.conftest import text_of
from webhooks import addresses, receivers
from webhooks.models import Webhook, WebhookDelivery

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def public_dns(monkeypatch):
    """Names resolve to a public address without asking DNS; addresses stay what they are."""
    real = addresses.resolve

    def resolve(host: str, port: int) -> list[str]:
        return real(host, port) if host.replace(".", "").isdigit() or ":" in host else ["93.184.215.14"]

    monkeypatch.setattr(addresses, "resolve", resolve)


@pytest.fixture
def webhook(product, owner):
    return receivers.add_webhook(product=product, url="https://hooks.example.com/sims", user=owner)


@pytest.fixture
def delivery(webhook):
    body = json.dumps({"id": "x", "type": "sim.events", "changes": [{"iccids": ["8901260000000000017"]}]})
    return WebhookDelivery.objects.create(
        webhook=webhook, uuid=uuid.uuid4(), kind="sim.events", summary="deactivate: 1 SIM", event_count=1, body=body,
        attempts=2, last_status_code=500, last_error="receiver says no", status="pending",
    )  # fmt: skip


def test_an_admin_sees_webhooks_secrets_and_the_delivery_log(owner_client, product, webhook, delivery):
    response = owner_client.get(reverse("webhooks", args=[product.slug]))
    assert response.status_code == 200
    text = text_of(response)
    assert "https://hooks.example.com/sims" in text and webhook.secret in text
    assert "deactivate: 1 SIM" in text and "receiver says no" in text and "Pending" in text
    assert "Add a webhook" in text
    assert 'aria-current="page">Webhooks' in response.content.decode()


def test_a_member_sees_the_list_and_the_log_but_not_the_secret(teammate_client, product, webhook, delivery):
    response = teammate_client.get(reverse("webhooks", args=[product.slug]))
    text = text_of(response)
    assert "https://hooks.example.com/sims" in text and "receiver says no" in text
    assert webhook.secret not in response.content.decode()
    assert "Add a webhook" not in text and "Only product admins" in text


@pytest.mark.parametrize("name", ["webhook_add", "webhook_active", "webhook_delete"])
def test_a_member_may_not_change_webhooks(teammate_client, product, webhook, name):
    args = [product.slug] if name == "webhook_add" else [product.slug, webhook.pk]
    response = teammate_client.post(reverse(name, args=args), {"url": "https://x.example.com/"})
    assert response.status_code == 403
    webhook.refresh_from_db()
    assert webhook.is_active and Webhook.objects.count() == 1


def test_an_outsider_gets_404_everywhere(outsider_client, product, webhook, delivery):
    for name, args in [
        ("webhooks", [product.slug]),
        ("webhook_delivery", [product.slug, delivery.pk]),
        ("webhook_delivery_body", [product.slug, delivery.pk]),
    ]:
        assert outsider_client.get(reverse(name, args=args)).status_code == 404
    for name, args in [("webhook_add", [product.slug]), ("webhook_active", [product.slug, webhook.pk]), ("webhook_delete", [product.slug, webhook.pk])]:
        assert outsider_client.post(reverse(name, args=args), {"url": "https://x.example.com/"}).status_code == 404
    assert Webhook.objects.filter(is_active=True).count() == 1


def test_a_webhook_or_delivery_of_another_product_is_404_even_for_an_admin(owner_client, product, other_product, owner):
    theirs = receivers.add_webhook(product=other_product, url="https://theirs.example.com/", user=owner)
    their_delivery = WebhookDelivery.objects.create(webhook=theirs, uuid=uuid.uuid4(), kind="sim.events", summary="x", body="{}")
    assert owner_client.post(reverse("webhook_delete", args=[product.slug, theirs.pk])).status_code == 404
    assert owner_client.get(reverse("webhook_delivery", args=[product.slug, their_delivery.pk])).status_code == 404
    assert owner_client.get(reverse("webhook_delivery_body", args=[product.slug, their_delivery.pk])).status_code == 404
    assert Webhook.objects.filter(pk=theirs.pk).exists()


def test_an_admin_adds_a_webhook_and_gets_a_generated_secret(owner_client, product, owner):
    response = owner_client.post(reverse("webhook_add", args=[product.slug]), {"url": "https://hooks.example.com/new"})
    assert response.status_code == 302 and response["Location"] == reverse("webhooks", args=[product.slug])
    webhook = Webhook.objects.get()
    assert (webhook.product, webhook.created_by, webhook.is_active) == (product, owner, True)
    assert webhook.secret.startswith("whsec_")
    page = owner_client.get(response["Location"])
    assert "Webhook added" in text_of(page) and webhook.secret in text_of(page)


def test_adding_with_htmx_answers_the_webhooks_fragment(owner_client, product):
    response = owner_client.post(reverse("webhook_add", args=[product.slug]), {"url": "https://hooks.example.com/new"}, headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="webhooks"') and "<html" not in body
    assert "https://hooks.example.com/new" in body and "Webhook added" in body  # the message, out of band


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8000/hook", "loopback address"),
        ("http://10.0.0.8/hook", "private address"),
        ("http://169.254.169.254/latest/meta-data/", "link-local address"),
        ("http://[::1]/hook", "loopback address"),
        ("https://testserver/hooks", "this console's own address"),
        ("ftp://hooks.example.com/", "must start with https://"),
        ("", "This field is required"),
    ],
)
def test_a_refused_url_is_a_clear_form_error(owner_client, product, url, reason):
    response = owner_client.post(reverse("webhook_add", args=[product.slug]), {"url": url})
    assert response.status_code == 400
    assert reason in text_of(response)
    assert not Webhook.objects.exists()


def test_a_refused_url_with_htmx_answers_the_fragment_with_the_error(owner_client, product):
    response = owner_client.post(reverse("webhook_add", args=[product.slug]), {"url": "http://10.0.0.8/"}, headers=HTMX)
    assert response.status_code == 400
    assert response.content.decode().lstrip().startswith('<section id="webhooks"')
    assert "private address" in text_of(response)


def test_an_admin_disables_enables_and_deletes(owner_client, product, webhook, delivery):
    url = reverse("webhook_active", args=[product.slug, webhook.pk])
    assert owner_client.post(url, {}).status_code == 302
    webhook.refresh_from_db()
    delivery.refresh_from_db()
    assert not webhook.is_active and delivery.status == "cancelled"
    response = owner_client.post(url, {"active": "on"}, headers=HTMX)
    assert response.status_code == 200 and "Disable" in text_of(response)
    webhook.refresh_from_db()
    assert webhook.is_active
    response = owner_client.post(reverse("webhook_delete", args=[product.slug, webhook.pk]), headers=HTMX)
    assert response.status_code == 200 and "No webhook yet" in text_of(response)
    assert not Webhook.objects.exists() and not WebhookDelivery.objects.exists()


def test_the_log_alone_comes_back_to_an_htmx_poll(teammate_client, product, delivery):
    response = teammate_client.get(reverse("webhooks", args=[product.slug]), headers=HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="deliveries"') and "<html" not in body
    assert 'hx-trigger="every 10s"' in body  # a delivery is pending: it polls
    full = teammate_client.get(reverse("webhooks", args=[product.slug]))
    assert "<html" in full.content.decode()


def test_a_member_reads_a_deliverys_payload_and_its_exact_body(teammate_client, product, delivery):
    response = teammate_client.get(reverse("webhook_delivery", args=[product.slug, delivery.pk]))
    assert response.status_code == 200
    text = text_of(response)
    assert str(delivery.uuid) in text and "receiver says no" in text and '"8901260000000000017"' in text
    raw = teammate_client.get(reverse("webhook_delivery_body", args=[product.slug, delivery.pk]))
    assert raw["Content-Type"] == "application/json" and raw.content == delivery.body.encode()

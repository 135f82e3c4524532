"""Every console URL, walked as a signed-out visitor, an outsider, a teammate and with the wrong method;
the endpoints for machines, which take a token instead of a session, likewise."""

import uuid

import cv2
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, reverse

from api.tokens import TokenError, create_token
from billing.models import Invoice
from carriers.models import CarrierAccount
from devices.models import Device
from imports.models import ImportJob
from notifications.models import Kind, Notification
from products.models import Invitation, Membership, MembershipQuerySet
from rules.models import Rule, RuleApproval
from sims.models import BulkJob, SimEvent
from tests.console.access_table import (
    ADMIN_ONLY,
    API_PREFIXES,
    DEVELOPER_PAGES,
    METHODS,
    NOT_PRODUCT_PAGES,
    POST_DATA,
    PUBLIC,
    PUBLIC_DOCS,
    TOKEN_ENDPOINTS,
)
from tests.conftest import url_patterns
from webhooks.models import Webhook, WebhookDelivery

BLANK_PNG = cv2.imencode(".png", np.full((48, 64), 200, dtype=np.uint8))[1].tobytes()
PUSH_TOKEN = "access-test-token-0123456789abcdefghijklmnop"


def _named_patterns() -> list[URLPattern]:
    return [
        p for p in url_patterns()[0] if p.name and not p.name.startswith(API_PREFIXES)
    ]


def _console_patterns() -> list[URLPattern]:
    return [p for p in _named_patterns() if p.name not in PUBLIC and p.name not in TOKEN_ENDPOINTS]


def _url(name: str, product, sim, membership, job, own_sim, invoice, token, delivery, invitation, notification, bulk_job, account, device, approval) -> str:
    kwargs = {
        "rule_id": approval.rule_id,
        "approval_id": approval.pk,
        "device_pk": device.pk,
        "account_id": account.pk,
        "invitation_id": invitation.pk,
        "number": invoice.number,
        "webhook_id": delivery.webhook_id,
        "delivery_id": delivery.pk,
        "slug": product.slug,
        "iccid": own_sim.iccid if name in DEVELOPER_PAGES else sim.iccid,
        "action": "deactivate",
        "member_id": membership.pk,
        "job_id": job.pk,
        "bulk_job_id": bulk_job.pk,
        "token_id": token.pk,
        "notification_id": notification.pk,
    }
    pattern = next(p for p in _console_patterns() if p.name == name)
    return reverse(name, kwargs={k: v for k, v in kwargs.items() if k in pattern.pattern.converters})


def _request(client, method: str, url: str, name: str = "", **headers):
    method = method.split(",")[0]
    if method == "GET":
        return client.get(url, **headers)
    if method == "DELETE":
        return client.delete(url, **headers)
    if name in TOKEN_ENDPOINTS:
        return client.post(url, POST_DATA[name], content_type="application/json", **headers)
    data = dict(POST_DATA.get(name, {}))
    if name == "import_file":
        data["file"] = SimpleUploadedFile("sims.txt", b"8901260000000000017\n")
    if name == "import_scan":
        data["frame"] = SimpleUploadedFile("frame.png", BLANK_PNG)
    return client.post(url, data)


def test_every_console_url_is_covered_here():
    assert {p.name for p in _console_patterns()} == set(METHODS)
    assert set(TOKEN_ENDPOINTS) <= {p.name for p in _named_patterns()}


@pytest.fixture
def push_token(settings):
    settings.CARRIER_PUSH_TOKEN = PUSH_TOKEN


@pytest.mark.parametrize("name", TOKEN_ENDPOINTS)
def test_a_token_endpoint_answers_401_not_a_sign_in_page_to_a_visitor(client, push_token, db, name):
    response = _request(client, TOKEN_ENDPOINTS[name], reverse(name), name)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("name", TOKEN_ENDPOINTS)
def test_a_signed_in_session_is_no_substitute_for_the_token(teammate_client, push_token, sim, name):
    response = _request(teammate_client, TOKEN_ENDPOINTS[name], reverse(name), name)
    assert response.status_code == 401
    sim.refresh_from_db()
    assert sim.state == "active"
    assert not SimEvent.objects.exists()


@pytest.mark.parametrize("name", TOKEN_ENDPOINTS)
def test_a_token_endpoint_with_the_token_and_the_wrong_method_gets_405(client, push_token, db, name):
    wrong = {"GET": "POST", "POST": "GET"}[TOKEN_ENDPOINTS[name]]
    response = _request(client, wrong, reverse(name), name, HTTP_AUTHORIZATION=f"Bearer {PUSH_TOKEN}")
    assert response.status_code == 405


@pytest.fixture
def urls(product, sim, owner, teammate, make_sim, monkeypatch):
    membership = Membership.objects.get(user=teammate)
    job = ImportJob.objects.create(product=product, created_by=owner, typed_text="8901260000000000017", valid=1)
    bulk_job = BulkJob.objects.create(product=product, created_by=owner, submission="access", action="deactivate", confirmed_count=20_000)
    own_sim = make_sim(None, owner_user=teammate)
    invoice = Invoice.objects.create(
        product=product, number="202601-P00001", period_start="2026-01-01", pricing_model="per_sim", peak_sims=1,
        total="2.99", issued_at="2026-02-01T02:00:00Z",
    )  # fmt: skip
    token, _ = create_token(user=teammate, name="ci", product=product, scopes=["sims:list"])
    webhook = Webhook.objects.create(product=product, url="https://hooks.example.com/sims", secret="whsec_test")
    delivery = WebhookDelivery.objects.create(webhook=webhook, uuid=uuid.uuid4(), kind="sim.events", summary="test", body="{}")
    invitation = Invitation.objects.create(product=product, email="dana@example.net", invited_by=owner, token_hash="0" * 64)
    notification = Notification.objects.create(
        user=teammate, product=product, kind=Kind.IMPORT_FINISHED, title="Import done", url="/", link_text="Open", in_console=True, email=False
    )
    account = CarrierAccount.objects.create(product=product, name="Lab", adapter="simulator")
    device = Device.objects.create(product=product, device_id="walk-device-1", name="Walk device")
    monkeypatch.setitem(POST_DATA, "device_assign", {"iccid": sim.iccid})
    rule = Rule.objects.create(product=product, name="Walk rule", condition_kind="usage_day", condition={"mb": 50}, actions=[{"kind": "pause"}])
    approval = RuleApproval.objects.create(rule=rule, pending=0)
    return {
        name: _url(name, product, sim, membership, job, own_sim, invoice, token, delivery, invitation, notification, bulk_job, account, device, approval)
        for name in METHODS
    }


@pytest.mark.parametrize("name", METHODS)
def test_signed_out_visitors_are_sent_to_sign_in(client, urls, name):
    response = _request(client, METHODS[name], urls[name], name)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("name", sorted(set(METHODS) - NOT_PRODUCT_PAGES))
def test_an_outsider_gets_404_and_changes_nothing(outsider_client, urls, sim, name):
    response = _request(outsider_client, METHODS[name], urls[name], name)
    assert response.status_code == 404
    sim.refresh_from_db()
    assert sim.state == "active"
    assert not SimEvent.objects.exists()


@pytest.mark.parametrize("name", sorted(set(METHODS) - NOT_PRODUCT_PAGES - DEVELOPER_PAGES))
def test_an_outsider_gets_the_same_404_for_a_product_that_does_not_exist(outsider_client, urls, product, name):
    response = _request(outsider_client, METHODS[name], urls[name].replace(product.slug, "no-such-product"), name)
    assert response.status_code == 404


@pytest.mark.parametrize("name", METHODS)
def test_a_teammate_may_use_every_page_and_sim_action(teammate_client, urls, name):
    response = _request(teammate_client, METHODS[name], urls[name], name)
    if name in ADMIN_ONLY:
        assert response.status_code == 403
    else:
        assert response.status_code in (200, 204, 302)  # 204: a scanned frame without a barcode


@pytest.mark.parametrize("name", METHODS)
def test_the_wrong_http_method_gets_405(teammate_client, urls, name):
    wrong = {"GET": "POST", "POST": "GET"}.get(METHODS[name], "DELETE")
    response = _request(teammate_client, wrong, urls[name], name)
    assert response.status_code == 405


@pytest.mark.parametrize("name", PUBLIC_DOCS)
def test_the_api_documentation_answers_signed_out(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(PUBLIC_DOCS[name])


@pytest.mark.parametrize("name", PUBLIC_DOCS)
def test_the_api_documentation_is_read_only(client, db, name):
    assert client.post(reverse(name)).status_code == 405


def test_a_sim_of_another_product_is_404_even_for_a_member(owner_client, product, other_product, make_sim):
    foreign = make_sim(other_product)
    assert owner_client.get(reverse("sim_detail", args=[product.slug, foreign.iccid])).status_code == 404
    response = owner_client.post(reverse("sim_action", args=[product.slug, foreign.iccid, "terminate"]))
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.state == "active"


def test_a_token_of_someone_else_cannot_be_revoked(outsider_client, teammate, product):
    token, _ = create_token(user=teammate, name="ci", product=product, scopes=["sims:list"])
    assert outsider_client.post(reverse("api_token_revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_every_my_products_list_and_membership_check_asks_products_of(owner_client, owner, product, make_sim, monkeypatch):
    """`Membership.objects.products_of` is the one rule for "my products": hidden from it, a product is
    gone from every page, form and API check, so none of them asks the database its own way."""
    mine = make_sim(None, owner_user=owner)
    _, own_secret = create_token(user=owner, name="own", product=None, scopes=["sims:list"])
    _, product_secret = create_token(user=owner, name="acme", product=product, scopes=["sims:list"])
    real = MembershipQuerySet.products_of
    monkeypatch.setattr(MembershipQuerySet, "products_of", lambda self, user: real(self, user).exclude(product=product))

    assert product.name not in owner_client.get(reverse("home")).content.decode()
    assert product.slug not in owner_client.get(reverse("my_sims")).content.decode()
    assert f'value="{product.slug}"' not in owner_client.get(reverse("api_tokens")).content.decode()
    assert owner_client.get(reverse("sim_list", args=[product.slug])).status_code == 404
    assert owner_client.post(reverse("my_sim_to_product", args=[mine.iccid]), {"product": product.slug}).status_code == 404
    asked = owner_client.get("/v1/products/acme/sims", HTTP_AUTHORIZATION=f"Bearer {own_secret}")
    assert asked.status_code == 404  # a member's token for another product would be 403
    assert owner_client.get("/v1/products/acme/sims", HTTP_AUTHORIZATION=f"Bearer {product_secret}").status_code == 401
    with pytest.raises(TokenError):
        create_token(user=owner, name="again", product=product, scopes=["sims:list"])
    assert not ImportJob.objects.exists()

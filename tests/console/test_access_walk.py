"""The access walk: every URL of the console, of both API dialects and of the Django admin, taken
from the URL resolver (a URL added without a line in the tables below fails here), asked by
everyone who might ask, each answer checked.

One product, "Quokka Orbital Fleet", leaves a distinctive trace everywhere: its name, its slug, its
SIMs' ICCIDs, IMSI and MSISDN, an invoice number, a webhook's URL and secret, an import's file name,
its people's names, its API token. A teammate also owns a developer SIM of their own. Whoever may
not see a thing gets a refusal, and no answer to them carries any of those traces (body or header);
a 404 reads the same as for a product or SIM that does not exist. The outsider and the foreign
tokens also ask in their own product for this one's objects by id (a SIM, an import, an invoice, a
webhook, a delivery, a member), and search there for its SIMs: 404, and nothing found. A request
refused changes nothing (the product, its people, SIMs, events, imports, webhooks and tokens are
compared before and after). The people and tokens:

    visitor        signed out (and with the product's API token: no substitute for a session)
    outsider       signed in, admin of another product
    teammate       a member of the product (not an admin); owns the developer SIM
    admin          an admin of the product
    session        API only: the teammate's browser session, without a token
    foreign        API: a token of another product, by a creator outside this one
    co_member      API: a token of another product, by a creator who is also in this one
    developer      API: an outsider's token for their own SIMs
    product_token  API: the teammate's token of this product (the positive control)
    owner_token    API: the teammate's token for their own SIMs (the developer SIM's control)
"""

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import cv2
import numpy as np
import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, reverse

from api.emnify import issue_auth_token
from api.models import ApiToken, BlacklistedOperator, Scope
from api.tokens import create_token, hash_secret
from billing.models import Budget, Invoice
from carriers.models import CarrierAccount, NetworkDifference, SmsMessage
from devices.assignment import assign_sim
from devices.models import Device, DeviceAssignment
from imports.models import ImportJob
from notifications.models import Kind, Notification, Preference
from products.models import Invitation, Membership, Product
from sims.iccid import luhn_check_digit
from rules.models import Rule, RuleApproval
from sims.models import BulkJob, NetworkStatus, Sim, SimEvent, State
from tests.console.access_table import (
    ADMIN_ONLY,
    ADMIN_ONLY_POST,
    API_PREFIXES,
    DEVELOPER_PAGES,
    INVITATION_LINK,
    METHODS,
    NOT_PRODUCT_PAGES,
    PASSWORD_RESET,
    OWN_NOTIFICATION_PAGES,
    POST_DATA,
    PUBLIC_DOCS,
    TOKEN_ENDPOINTS,
)
from tests.conftest import make_iccid, make_user, url_patterns
from webhooks import addresses
from webhooks.models import Webhook, WebhookDelivery

# The product's traces: unique strings, so finding one in an answer means it leaked.
NAME = "Quokka Orbital Fleet"
SLUG = "quokka-orbital"
INVOICE_NUMBER = "202601-Q31337"
WEBHOOK_URL = "https://quokka-hooks.example.net/zq-31337"
WEBHOOK_SECRET = "whsec_quokka_9f8e7d6c5b4a3921"
IMPORT_FILENAME = "quokka-batch-31337.txt"
INVITEE = "quokka-invitee@example.net"  # a pending invitation of the product
BULK_DESCRIBED = "SIMs matching ICCID containing 31337271"
IMSI, MSISDN = "001019876543210", "4917031337000"
SEARCH = "3141592"  # in every ICCID of the product, and no other
NOTIFICATION_TITLE = "Import #31337 done: 3 quokka SIMs went in"
RULE_NAME = "Quokka rule 31337"  # a rule of the product, with a pass waiting for approval
CARRIER_ACCOUNT = "Quokka Carrier 31337"  # a carrier account of the product, with a SIM refused by its carrier


def _iccid(body: str) -> str:
    return body + luhn_check_digit(body)


PRODUCT_ICCIDS = [_iccid(f"898824{SEARCH}0000{n}") for n in range(1, 4)]
DEVELOPER_ICCID = _iccid("8988242718281800001")  # the teammate's own SIM, in no product
UNKNOWN_ICCID = _iccid("8988240000000099999")  # in nobody's hands: the "does not exist" twin
NEW_ICCID = _iccid("8988241111111100001")  # what an import sends
# An ICCID the caller sent may come back to them ("The SIM ... is not in this product", a queue item):
# that tells them nothing, when the answer is the one an ICCID of nobody's gets (the twin check).
# The product's name, slug and everything else never come back, asked for or not.
ECHOABLE = {*PRODUCT_ICCIDS, DEVELOPER_ICCID}
DEVICE_NAME, DEVICE_IMEI = "quokka-pump-7", "352834100000013"
PUSH_TOKEN = "walk-push-token-0123456789abcdefghijklmnopq"
BLANK_PNG = cv2.imencode(".png", np.full((48, 64), 200, dtype=np.uint8))[1].tobytes()

# What stands in for each URL argument in the "does not exist" twin of a URL.
MISSING = {
    "slug": "no-such-product", "product": "no-such-product", "iccid": UNKNOWN_ICCID, "bic": UNKNOWN_ICCID, "id": "999999999", "member_id": 999999,
    "job_id": 999999, "bulk_job_id": 999999, "number": "209912-X99999", "webhook_id": 999999, "delivery_id": 999999, "token_id": 999999,
    "invitation_id": 999999, "token": "no-such-invitation-token", "uidb64": "OTk5OTk5", "notification_id": 999999, "account_id": 999999,
    "endpoint_id": "999999999", "operator_id": "26299", "sms_id": "999999999",
    "device_pk": 999999, "rule_id": 999999, "approval_id": 999999,
}  # fmt: skip

# -- The console ---------------------------------------------------------------------------------

CONSOLE_CALLERS = ("visitor", "outsider", "teammate", "admin")
CONSOLE_PUBLIC = {
    "login": "GET", "logout": "POST", "password_change": "GET", "password_change_done": "GET", **dict.fromkeys(PUBLIC_DOCS, "GET"),
    **PASSWORD_RESET, **INVITATION_LINK,
}  # fmt: skip
CONSOLE_METHODS = {**METHODS, **CONSOLE_PUBLIC, **TOKEN_ENDPOINTS}
# The teammate's own things: their developer SIM's pages, their token, a notification. Nobody else's business.
TEAMMATES_OWN = DEVELOPER_PAGES | {"api_token_revoke"} | OWN_NOTIFICATION_PAGES
# Every signed-in person has their own of these (an outsider sees theirs, not ours).
PERSONAL = (NOT_PRODUCT_PAGES - TEAMMATES_OWN) | {"password_change", "password_change_done"}
# A query that searches or picks, sent with the GETs: the outsider asks for the product's SIMs by a part of their ICCIDs.
QUERY = {
    "sim_list": f"q={SEARCH}",
    "sim_count": f"q={SEARCH}",
    "import_quote": "country=DE",
    "billing_compare": "basis=last",
    "particle_product_sims": f"iccid={SEARCH}",
    "emnify_sims": f"q=iccid:{SEARCH}",
}
# The draft import, to confirm; the other import pages show the finished one's progress.
DRAFT_JOB_PAGES = {"import_confirm"}
# What an allowed caller must find in the answer: proof the leak checks look where the data is.
SHOWS = {
    "sim_list": PRODUCT_ICCIDS[0],
    "sim_detail": IMSI,
    "team": "quokka-admin",
    "invoice_detail": INVOICE_NUMBER,
    "invoice_csv": INVOICE_NUMBER,
    "webhooks": WEBHOOK_URL,
    "webhook_delivery": PRODUCT_ICCIDS[0],
    "webhook_delivery_body": PRODUCT_ICCIDS[0],
    "import_job": IMPORT_FILENAME,
    "bulk_job": BULK_DESCRIBED,
    "device_list": DEVICE_NAME,
    "device_detail": DEVICE_IMEI,
    "import_outcomes_csv": PRODUCT_ICCIDS[1],
    "home": NAME,
    "my_sims": DEVELOPER_ICCID,
    "notifications": NOTIFICATION_TITLE,
    "particle_product_sims": PRODUCT_ICCIDS[0],
    "particle_product_sim": PRODUCT_ICCIDS[0],
    "particle_own_sims": DEVELOPER_ICCID,
    "emnify_sims": NAME,
    "emnify_sim": MSISDN,
    "emnify_endpoints": DEVICE_NAME,
    "emnify_endpoint": DEVICE_NAME,
    "carrier_accounts": CARRIER_ACCOUNT,
    "carrier_account_edit": CARRIER_ACCOUNT,
    "rule_list": RULE_NAME,
    "rule_detail": RULE_NAME,
    "particle_product_rules": RULE_NAME,
    "particle_product_rule": RULE_NAME,
    "rule_edit": RULE_NAME,
}

SIGN_IN, SIGNED_OUT, ALLOWED, HOME = "sign-in", "signed out", "allowed", "home"


def console_expected(name: str, method: str, caller: str) -> int | str:
    """The answer each caller must get: a status, or SIGN_IN (302 to the sign-in page with ?next=
    the URL), SIGNED_OUT (to the sign-in page), ALLOWED (200, 204 or a 302 within the console), HOME
    (302 to the home page). An htmx request is redirected by HX-Redirect instead (console.middleware)."""
    if name in PUBLIC_DOCS:
        return 200
    if name == "login":
        return 200 if caller == "visitor" else HOME  # a signed-in person has nothing to sign in to
    if name == "logout":
        return SIGNED_OUT
    if name in TOKEN_ENDPOINTS:
        return 401  # a machine's token, which no session replaces
    if name in PASSWORD_RESET:
        return ALLOWED  # anyone may ask; the answer is the same whatever the address
    if name in INVITATION_LINK:
        return 404  # the walk holds no invitation's link: a token nobody was sent reads as none, and
        # the token-less page, opened without a link first, says to open the link
    if caller == "visitor":
        return SIGN_IN
    if name in TEAMMATES_OWN:
        return ALLOWED if caller == "teammate" else 404
    if name in PERSONAL:
        return ALLOWED
    if caller == "outsider":
        return 404
    if caller == "teammate" and (name in ADMIN_ONLY or (name in ADMIN_ONLY_POST and method == "POST")):
        return 403
    return ALLOWED


# -- The API -------------------------------------------------------------------------------------

API_CALLERS = ("visitor", "session", "foreign", "co_member", "developer", "product_token", "owner_token")
API_METHODS = {
    "particle_product_sims": "GET,POST",
    "particle_fleet_data_usage": "GET",
    "particle_product_sim": "GET,PUT,DELETE",
    "particle_product_sim_data_usage": "GET",
    "particle_product_rules": "GET,POST",
    "particle_product_rule": "GET,PUT,DELETE",
    "particle_product_rule_firings": "GET",
    "particle_product_rule_approval": "POST",
    "particle_own_sims": "GET",
    "particle_own_sim": "HEAD,GET,PUT,DELETE",
    "particle_own_sim_data_usage": "GET",
    "emnify_authenticate": "POST",
    "emnify_sims": "GET",
    "emnify_sim": "GET,PATCH,DELETE",
    "emnify_sim_batch": "PATCH",
    "emnify_endpoints": "GET,POST",
    "emnify_endpoint": "GET,PATCH,DELETE",
    "emnify_endpoint_connectivity": "GET,PATCH",
    "emnify_endpoint_events": "GET",
    "emnify_endpoint_blacklist": "GET",
    "emnify_endpoint_blacklisted_operator": "PUT,DELETE",
    "emnify_endpoint_sms": "GET,POST",
    "emnify_endpoint_one_sms": "GET,DELETE",
    "emnify_operators": "GET",
}
API_BODIES = {
    ("particle_product_sims", "POST"): {"sims": [NEW_ICCID], "country": "US"},
    ("particle_product_sim", "PUT"): {"mb_limit": 7},
    ("particle_own_sim", "PUT"): {"mb_limit": 7},
    ("particle_product_rules", "POST"): {"name": "walk-made", "condition": {"kind": "usage_day", "mb": 9}, "actions": [{"kind": "pause"}]},
    ("particle_product_rule", "PUT"): {"enabled": False},
    ("particle_product_rule_approval", "POST"): {"decision": "refuse"},
    ("emnify_sim", "PATCH"): {"status": {"id": 2}},
    ("emnify_sim_batch", "PATCH"): {"status": {"id": 1}},
    ("emnify_endpoints", "POST"): {"name": "walk-made"},
    ("emnify_endpoint", "PATCH"): {"name": "walk-renamed"},
    ("emnify_endpoint_connectivity", "PATCH"): {"location": None},
    ("emnify_endpoint_sms", "POST"): {"payload": "walk"},
}
# The Particle URLs that name a SIM of the teammate's own, not one of the product.
DEVELOPER_ROUTES = DEVELOPER_PAGES | {"particle_own_sim", "particle_own_sim_data_usage"}
OK = "ok"  # 200 or 204
KIND = {
    "particle_product_sims": "product",
    "particle_fleet_data_usage": "product",
    "particle_product_sim": "product",
    "particle_product_sim_data_usage": "product",
    "particle_product_rules": "product",
    "particle_product_rule": "product",
    "particle_product_rule_firings": "product",
    "particle_product_rule_approval": "product",
    "particle_own_sims": "own list",
    "particle_own_sim": "own",
    "particle_own_sim_data_usage": "own",
    "emnify_authenticate": "authenticate",
    "emnify_sims": "list",
    "emnify_sim": "sim",
    "emnify_sim_batch": "register",
    # emnify's endpoints (devices) of the token's product: another's reads as one that does not exist.
    "emnify_endpoints": "list",
    "emnify_endpoint": "sim",
    "emnify_endpoint_connectivity": "sim",
    "emnify_endpoint_events": "sim",
    "emnify_endpoint_blacklist": "sim",
    "emnify_endpoint_blacklisted_operator": "sim",
    "emnify_endpoint_sms": "sim",
    "emnify_endpoint_one_sms": "sim",
    "emnify_operators": "list",
}
# A product named in the URL: 403 when the token's creator is in it ("use a token of this
# product"), 404 when not. emnify names no product, only a SIM: one the token cannot reach is 404.
# A list answers the token's own SIMs: none of the product's. Own-SIM URLs refuse product tokens.
API_EXPECTED = {
    "product": {"foreign": 404, "co_member": 403, "developer": 404, "product_token": OK, "owner_token": 403},
    "sim": {"foreign": 404, "co_member": 404, "developer": 404, "product_token": OK, "owner_token": 404},
    "list": {"foreign": OK, "co_member": OK, "developer": OK, "product_token": OK, "owner_token": OK},
    "authenticate": {"foreign": OK, "co_member": OK, "developer": OK, "product_token": OK, "owner_token": OK},
    "own list": {"foreign": 403, "co_member": 403, "developer": OK, "product_token": 403, "owner_token": OK},
    "own": {"foreign": 403, "co_member": 403, "developer": 404, "product_token": 403, "owner_token": OK},
    # emnify's registration of the product's SIM by its BIC (its ICCID): refused as for an ICCID no
    # carrier holds (the twin) to every other token; the product's own token gets it again.
    "register": {"foreign": 404, "co_member": 404, "developer": 404, "product_token": OK, "owner_token": 404},
}
# Who sees each kind's data: the SHOWS control is checked in their answers.
CONTROL = {"product": "product_token", "sim": "product_token", "list": "product_token", "own list": "owner_token", "own": "owner_token", "authenticate": None}
# HEAD /v1/sims/<iccid> is Particle's "could this token import the SIM?", asked of any SIM: 403 when
# it belongs to another product or person (the same answer as for a SIM no carrier holds), 204 for the teammate's product
# (it would transfer), 409 for its own owner (already theirs).
HEAD_CHECK = {"foreign": 403, "co_member": 403, "developer": 403, "product_token": OK, "owner_token": 409}
# Changes to a product's rules are for tokens of its admins: the product token's creator (the teammate)
# is a member, refused with 403 after the product check; a new rule answers 201.
RULE_CHANGES = {
    ("particle_product_rules", "POST"), ("particle_product_rule", "PUT"), ("particle_product_rule", "DELETE"),
    ("particle_product_rule_approval", "POST"),
}  # fmt: skip
# The token's creator in their own product: the outsider is an admin there, the dual member is not.
CREATOR_IS_ADMIN = {"foreign": True, "co_member": False}


def api_expected(name: str, method: str, caller: str) -> int | str:
    if caller in ("visitor", "session"):
        return 401  # no token (a browser session is none), in the dialect's JSON
    if name == "particle_own_sim" and method == "HEAD":
        return HEAD_CHECK[caller]
    if name == "emnify_endpoints" and method == "POST":
        # A product's token creates an endpoint in its own product (201); a token for own SIMs has none.
        return 403 if caller in ("developer", "owner_token") else 201
    if name == "emnify_endpoint_sms" and method == "POST" and caller == "product_token":
        return 201  # queued for the SIM's carrier
    if (name, method) in RULE_CHANGES and caller == "product_token":
        return 403
    return API_EXPECTED[KIND[name]][caller]


def own_product_expected(name: str, method: str, caller: str) -> int | str:
    """A foreign or co-member token in its own product: the product's objects by id are not there (404),
    a list or search finds none of them; a rule change needs the token's creator to be an admin there."""
    if (name, method) in RULE_CHANGES and not CREATOR_IS_ADMIN[caller]:
        return 403
    if _arguments(name) & {"iccid", "rule_id"}:
        return 404
    return 201 if (name, method) == ("particle_product_rules", "POST") else OK


# -- The world -----------------------------------------------------------------------------------


@dataclass
class World:
    product: Product
    other: Product
    admin: object
    teammate: object
    outsider: object
    dual: object
    newcomer: object
    sim: Sim
    dev_sim: Sim
    membership: Membership
    draft_job: ImportJob
    done_job: ImportJob
    bulk_job: BulkJob
    invoice: Invoice
    webhook: Webhook
    delivery: WebhookDelivery
    token: ApiToken
    invitation: Invitation
    notification: Notification
    account: CarrierAccount
    device: Device
    approval: RuleApproval
    sms: SmsMessage
    secrets: dict[str, str]  # API caller -> its token's secret
    traces: dict[str, set[str]]  # "product", "developer" -> the strings that must not leak


@pytest.fixture
def world(db, settings, monkeypatch) -> World:
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["93.184.215.14"])  # a public address, without DNS
    settings.CARRIER_PUSH_TOKEN = PUSH_TOKEN
    # Nobody's: no carrier holds it either, so a claim of it is refused as one of someone else's SIMs is.
    settings.CARRIER_SIMULATOR_REFUSE_SUFFIXES = [UNKNOWN_ICCID]
    product = Product.objects.create(name=NAME, slug=SLUG)
    other = Product.objects.create(name="Wombat Relay", slug="wombat-relay")
    admin_user, teammate, outsider = make_user("quokka-admin"), make_user("quokka-mate"), make_user("wombat-admin")
    dual, newcomer = make_user("dual-member"), make_user("newcomer")
    Membership.objects.create(user=admin_user, product=product, role=Membership.Role.ADMIN)
    membership = Membership.objects.create(user=teammate, product=product, role=Membership.Role.MEMBER)
    Membership.objects.create(user=outsider, product=other, role=Membership.Role.ADMIN)
    Membership.objects.create(user=dual, product=product, role=Membership.Role.MEMBER)
    Membership.objects.create(user=dual, product=other, role=Membership.Role.MEMBER)
    sims = [Sim.objects.create(iccid=iccid, product=product, state=State.ACTIVE, home_country="US") for iccid in PRODUCT_ICCIDS]
    Sim.objects.filter(pk=sims[0].pk).update(imsi=IMSI, msisdn=MSISDN)
    sims[0].refresh_from_db()
    for _ in range(2):
        Sim.objects.create(iccid=make_iccid(), product=other, state=State.ACTIVE)  # the outsider's fleet
    dev_sim = Sim.objects.create(iccid=DEVELOPER_ICCID, owner_user=teammate, state=State.ACTIVE, home_country="DE")
    draft_job = ImportJob.objects.create(product=product, created_by=admin_user, typed_text=PRODUCT_ICCIDS[2], valid=1, lines=1)
    done_job = ImportJob.objects.create(
        product=product, created_by=admin_user, typed_text="\n".join(PRODUCT_ICCIDS), input_filename=IMPORT_FILENAME,
        status=ImportJob.Status.DONE, valid=3, lines=3, processed=3, country="US",
    )  # fmt: skip
    bulk_job = BulkJob.objects.create(
        product=product, created_by=admin_user, submission="walk", action="terminate", confirmed_count=20_000,
        described=BULK_DESCRIBED, status=BulkJob.Status.DONE, total=20_000, processed=20_000, changed=20_000,
    )  # fmt: skip
    invoice = Invoice.objects.create(
        product=product, number=INVOICE_NUMBER, period_start="2026-01-01", pricing_model="per_sim", peak_sims=3,
        total="8.97", issued_at="2026-02-01T02:00:00Z",
    )  # fmt: skip
    webhook = Webhook.objects.create(product=product, url=WEBHOOK_URL, secret=WEBHOOK_SECRET, created_by=admin_user)
    delivery = WebhookDelivery.objects.create(
        webhook=webhook, uuid=uuid.uuid4(), kind="sim.events", summary="quokka: 1 event",
        body=json.dumps({"events": [{"iccid": PRODUCT_ICCIDS[0], "product": SLUG}]}),
    )  # fmt: skip
    invitation = Invitation.objects.create(product=product, email=INVITEE, invited_by=admin_user, token_hash="f" * 64)
    account = CarrierAccount.objects.create(product=product, name=CARRIER_ACCOUNT, adapter="simulator", iccid_prefixes="898824")
    Sim.objects.filter(pk=sims[2].pk).update(carrier_account=account, network_status=NetworkStatus.FAILED, network_error="Refused (walk).")
    # A device (an emnify endpoint) with the product's first SIM in it.
    device = Device.objects.create(product=product, device_id="walk-device-1", name=DEVICE_NAME, imei=DEVICE_IMEI)
    assign_sim(sim=sims[0], device=device, source="hand")
    # An SMS to it still waiting for the carrier (emnify's endpoint SMS: read, or canceled).
    sms = SmsMessage.objects.create(sim=sims[0], product=product, direction="mt", body="walk", status=SmsMessage.Status.QUEUED)
    notification = Notification.objects.create(
        user=teammate, product=product, kind=Kind.IMPORT_FINISHED, title=NOTIFICATION_TITLE, url=f"/products/{SLUG}/sims/",
        link_text="Open the import", in_console=True, email=False,
    )  # fmt: skip
    NetworkDifference.objects.create(
        account_key=account.pk, product=product, kind="state", sim=sims[1], iccid=sims[1].iccid, ours="active", theirs="suspended"
    )
    everything = list(Scope.values)
    token, product_secret = create_token(user=teammate, name="quokka line", product=product, scopes=everything)
    rule = Rule.objects.create(
        product=product, name=RULE_NAME, condition_kind="usage_day", condition={"mb": 50}, actions=[{"kind": "pause"}], approval_threshold=10
    )
    approval = RuleApproval.objects.create(rule=rule, pending=0)
    secrets = {
        "product_token": product_secret,
        "owner_token": create_token(user=teammate, name="bench", product=None, scopes=everything)[1],
        "foreign": create_token(user=outsider, name="wombat line", product=other, scopes=everything)[1],
        "co_member": create_token(user=dual, name="dual line", product=other, scopes=everything)[1],
        "developer": create_token(user=outsider, name="wombat bench", product=None, scopes=everything)[1],
    }
    traces = {
        "product": {
            NAME, SLUG, *PRODUCT_ICCIDS, IMSI, MSISDN, INVOICE_NUMBER, WEBHOOK_URL, WEBHOOK_SECRET, IMPORT_FILENAME, BULK_DESCRIBED,
            str(delivery.uuid), "quokka-admin", "quokka-mate", "quokka line", product_secret, token.hint, INVITEE,
            NOTIFICATION_TITLE, CARRIER_ACCOUNT, DEVICE_NAME, DEVICE_IMEI, RULE_NAME,
        },
        "developer": {DEVELOPER_ICCID},
    }  # fmt: skip
    return World(
        product=product, other=other, admin=admin_user, teammate=teammate, outsider=outsider, dual=dual,
        newcomer=newcomer, sim=sims[0], dev_sim=dev_sim, membership=membership, draft_job=draft_job, done_job=done_job, bulk_job=bulk_job,
        invoice=invoice, webhook=webhook, delivery=delivery, token=token, invitation=invitation, notification=notification,
        secrets=secrets, traces=traces, account=account, device=device, approval=approval, sms=sms,
    )  # fmt: skip


def fingerprint(w: World) -> tuple:
    """What a refused request must not change: the product, its people, SIMs, imports, webhooks and tokens."""
    ours = Sim.objects.filter(iccid__in=[*PRODUCT_ICCIDS, DEVELOPER_ICCID])
    return (
        list(Product.objects.filter(pk=w.product.pk).values()),
        list(Membership.objects.filter(product=w.product).order_by("pk").values_list("user_id", "role")),
        list(ours.order_by("iccid").values_list("iccid", "product_id", "owner_user_id", "state", "data_limit_mb")),
        SimEvent.objects.filter(sim__in=ours).count(),
        list(ImportJob.objects.filter(product=w.product).order_by("pk").values_list("status", "typed_text")),
        list(Webhook.objects.filter(product=w.product).order_by("pk").values_list("url", "is_active")),
        list(ApiToken.objects.filter(user__in=[w.teammate, w.admin]).order_by("pk").values_list("pk", "revoked_at")),
        list(Invitation.objects.filter(product=w.product).order_by("pk").values_list("email", "accepted_at", "revoked_at")),
        list(Notification.objects.filter(product=w.product).order_by("pk").values_list("pk", "read_at")),
        list(Preference.objects.filter(product=w.product).order_by("pk").values_list("user_id", "kind", "email", "in_console")),
        list(CarrierAccount.objects.filter(product=w.product).order_by("pk").values_list("name", "iccid_prefixes", "credentials", "last_success_at")),
        list(ours.order_by("iccid").values_list("network_status", "network_error", "device_id")),
        list(Device.objects.filter(product=w.product).order_by("pk").values_list("device_id", "name", "imei", "model", "tags")),
        list(DeviceAssignment.objects.filter(device__product=w.product).order_by("pk").values_list("sim_id", "device_id", "ended_at")),
        list(BlacklistedOperator.objects.filter(device__product=w.product).values_list("device_id", "operator_id")),
        list(Budget.objects.filter(product=w.product).values_list("amount", "alert_percentages", "recipients")),
        list(Rule.objects.filter(product=w.product).order_by("pk").values_list("name", "enabled", "version")),
        list(RuleApproval.objects.filter(rule__product=w.product).order_by("pk").values_list("decision", "decided_by")),
    )


# -- Asking --------------------------------------------------------------------------------------


def named_patterns() -> tuple[list[URLPattern], list[URLResolver]]:
    return url_patterns()


def console_names() -> list[str]:
    return sorted(p.name for p in named_patterns()[0] if not p.name.startswith(API_PREFIXES))


def api_names() -> list[str]:
    return sorted(p.name for p in named_patterns()[0] if p.name.startswith(API_PREFIXES))


def url_for(name: str, w: World, *, method: str = "GET", slug: str = SLUG, missing: tuple[str, ...] = ()) -> str:
    """The URL of a route for the walk's sample objects, with its query for a GET: in the product (or
    in another, by its slug), the arguments named in `missing` replaced by ones that name nothing."""
    pattern = next(p for p in named_patterns()[0] if p.name == name)
    sample = {
        "slug": slug,
        "product": slug,
        "iccid": w.dev_sim.iccid if name in DEVELOPER_ROUTES else w.sim.iccid,
        "bic": w.sim.iccid,
        "id": str(w.sim.pk),
        "action": "deactivate",
        "member_id": w.membership.pk,
        "job_id": (w.draft_job if name in DRAFT_JOB_PAGES else w.done_job).pk,
        "bulk_job_id": w.bulk_job.pk,
        "number": w.invoice.number,
        "webhook_id": w.webhook.pk,
        "delivery_id": w.delivery.pk,
        "token_id": w.token.pk,
        "invitation_id": w.invitation.pk,
        "token": "walk-holds-no-invitation-link",
        "uidb64": "MQ",
        "notification_id": w.notification.pk,
        "account_id": w.account.pk,
        "endpoint_id": str(w.device.pk),
        "operator_id": "26201",
        "sms_id": str(w.sms.pk),
        "device_pk": w.device.pk,
        "rule_id": w.approval.rule_id,
        "approval_id": w.approval.pk,
    }
    kwargs = {key: MISSING[key] if key in missing else sample[key] for key in pattern.pattern.converters}
    query = QUERY.get(name, "") if method in ("GET", "HEAD") else ""
    return reverse(name, kwargs=kwargs) + (f"?{query}" if query else "")


def form_for(name: str, w: World) -> dict:
    data = dict(POST_DATA.get(name, {}))
    if name == "team_add":
        data["username_or_email"] = w.newcomer.username  # a real person, so an admin's request succeeds
    if name == "my_sim_to_product":
        data["product"] = SLUG
    if name == "sims_bulk":
        data = {"action": "deactivate", "scope": "selected", "ids": [w.sim.pk]}  # picked by id: whose are they?
    if name == "import_check":
        # Importing it elsewhere says "Ready to activate", as for an ICCID nobody holds (both refused at import,
        # in the same words): who holds it, never.
        data["text"] = PRODUCT_ICCIDS[0]
    if name == "device_assign":
        data["iccid"] = w.sim.iccid
    if name == "import_file":
        data["file"] = SimpleUploadedFile("sims.txt", f"{NEW_ICCID}\n".encode())
    if name == "import_scan":
        data["frame"] = SimpleUploadedFile("frame.png", BLANK_PNG)
    return data


def ask(client, name: str, method: str, url: str, w: World, **headers):
    if method in ("GET", "HEAD"):
        return getattr(client, method.lower())(url, **headers)
    if name in API_METHODS or name in TOKEN_ENDPOINTS:
        body = API_BODIES.get((name, method), POST_DATA.get(name))
        return client.generic(method, url, json.dumps(body) if body is not None else "", content_type="application/json", **headers)
    if method == "POST":
        return client.post(url, form_for(name, w), **headers)
    return client.generic(method, url, **headers)


def body_of(response) -> str:
    if not hasattr(response, "walk_body"):  # a streamed body (a CSV export) can be read once
        content = b"".join(response.streaming_content) if response.streaming else response.content
        response.walk_body = content.decode(errors="replace")
    return response.walk_body


def leaks(response, traces: set[str], *, skip_headers: tuple[str, ...] = ()) -> list[str]:
    """The traces found in the answer's body or headers."""
    text = body_of(response) + "\n" + "\n".join(f"{k}: {v}" for k, v in response.items() if k not in skip_headers)
    return sorted(trace for trace in traces if trace in text)


def status_matches(response, expected: int | str, url: str) -> bool:
    status, location = response.status_code, response.get("Location", "")
    # An htmx request is sent on by HX-Redirect (console.middleware): the whole page, not a fragment.
    target = location if status == 302 else response.get("HX-Redirect") if status == 204 else None
    if expected == SIGN_IN:
        return target == f"{reverse('login')}?next={quote(url)}"
    if expected == SIGNED_OUT:
        return target == reverse("login")
    if expected == HOME:
        return status == 302 and location == reverse("home")
    if expected == ALLOWED:
        return status in (200, 204) or (status == 302 and not location.startswith(reverse("login")))
    if expected == OK:
        return status in (200, 204)
    return status == expected


CSRF_TOKEN = re.compile(r'(?<="X-CSRFToken": ")[^"]+|(?<=name="csrfmiddlewaretoken" value=")[^"]+')


def same_as_missing(response, twin, url: str, twin_url: str) -> bool:
    """A refusal reads the same as for a thing that does not exist (an identifier it echoes aside, and
    the CSRF token a page carries, masked afresh in every answer)."""
    body, twin_body = (CSRF_TOKEN.sub("csrf", body_of(answer)) for answer in (response, twin))
    for real, fake in zip(url.split("/"), twin_url.split("/"), strict=True):
        if real != fake:
            twin_body = twin_body.replace(fake, real)
    return response.status_code == twin.status_code and body == twin_body


# -- The walk ------------------------------------------------------------------------------------


def test_every_url_has_a_line_here():
    """A new URL, of the console or of the API, fails here until the walk knows how to ask it."""
    assert console_names() == sorted(CONSOLE_METHODS)
    assert api_names() == sorted(API_METHODS) == sorted(KIND)
    patterns, includes = named_patterns()
    assert all(p.name for p in patterns), "every URL has a name, so the walk can reverse it"
    assert [include.namespace for include in includes] == ["admin"], "walked by test_the_admin_is_for_staff_only"


HTMX = {"HX-Request": "true", "HX-Target": "sim-table"}
# Answers that let a request change things; after any other, the product is as it was.
MAY_CHANGE = {ALLOWED, OK, HOME, SIGNED_OUT}


def _variants(caller: str, w: World) -> Iterator[tuple[str, dict]]:
    """The ways a caller asks: as a page, as an htmx fragment, and for a visitor with the product's API token."""
    yield "page", {}
    if caller in ("visitor", "outsider"):
        yield "htmx", {"headers": HTMX}
    if caller == "visitor":
        yield "token", {"HTTP_AUTHORIZATION": f"Bearer {w.secrets['product_token']}"}


def _arguments(name: str) -> set[str]:
    return set(next(p for p in named_patterns()[0] if p.name == name).pattern.converters)


def _sign_in(client, caller: str, w: World) -> None:
    people = {"outsider": w.outsider, "teammate": w.teammate, "admin": w.admin, "session": w.teammate}
    if caller in people:
        client.force_login(people[caller])


def _must_not_see(caller: str, w: World) -> set[str]:
    """Members see the product; the teammate also their own SIM. Nobody else sees either."""
    sees = {"teammate": {"product", "developer"}, "admin": {"product"}, "product_token": {"product"}, "owner_token": {"developer"}}
    return {trace for kind, traces in w.traces.items() if kind not in sees.get(caller, set()) for trace in traces}


def check(client, w: World, wrong: list[str], name: str, method: str, caller: str, expected, *, slug: str = SLUG, variant: str = "", **headers) -> None:
    """Ask once; note in `wrong` a wrong answer, a trace of what the caller must not see, a missing
    control, or a refusal that reads otherwise than for a thing that does not exist."""
    url = url_for(name, w, method=method, slug=slug)
    if name == "emnify_authenticate":
        secret = w.secrets.get(caller, "simc_not-a-token-of-this-console")
        response = client.post(url, {"application_token": secret}, content_type="application/json")
    else:
        response = ask(client, name, method, url, w, **headers)
    where = f"{method} {url}{f' ({variant})' if variant else ''} as {caller}"
    if not status_matches(response, expected, url):
        wrong.append(f"{where}: {response.status_code} {response.get('Location', '')}{body_of(response)[:160]!r}, expected {expected}")
    if name in API_METHODS and response.status_code >= 400 and not response["Content-Type"].startswith("application/json"):
        wrong.append(f"{where}: a {response.status_code} in {response['Content-Type']}, not JSON")
    # A sign-in redirect names the URL asked in ?next=, and nothing else.
    sent = url + repr(form_for(name, w) if method == "POST" and name in METHODS else API_BODIES.get((name, method)))
    echoed = {iccid for iccid in ECHOABLE if iccid in sent}
    found = leaks(response, _must_not_see(caller, w) - echoed, skip_headers=("Location", "HX-Redirect") if expected == SIGN_IN else ())
    if found:
        wrong.append(f"{where}: leaks {found}")
    control = SHOWS.get(name) if method == "GET" and slug == SLUG else None
    if control and caller == CONTROL.get(KIND.get(name), "teammate") and expected in (ALLOWED, OK) and control not in body_of(response):
        wrong.append(f"{where}: the control {control!r} is missing, so the leak check sees nothing here")
    if expected == 404:
        # The twin: in a product that does not exist, or (in the caller's own product) objects that do not.
        keep = {"action"} | ({"slug", "product"} if slug != SLUG else set())
        twin_url = url_for(name, w, method=method, slug=slug, missing=tuple(_arguments(name) - keep))
        twin = ask(client, name, method, twin_url, w, **headers)
        if not same_as_missing(response, twin, url, twin_url):
            wrong.append(f"{where}: {response.status_code} {body_of(response)[:120]!r}, not as for {twin_url}: {twin.status_code} {body_of(twin)[:120]!r}")


@pytest.mark.parametrize("caller", CONSOLE_CALLERS)
@pytest.mark.parametrize("name", console_names())
def test_the_console_answers_each_caller(client, world, name, caller):
    w, wrong, answers = world, [], set()
    _sign_in(client, caller, w)
    before = fingerprint(w)
    for method in CONSOLE_METHODS[name].split(","):
        expected = console_expected(name, method, caller)
        answers.add(expected)
        for variant, headers in _variants(caller, w):
            check(client, w, wrong, name, method, caller, expected, variant=variant, **headers)
        if caller == "outsider" and "slug" in _arguments(name):
            # In their own product, where they are an admin: this product's objects by id are not
            # there (404), and a search or a count finds none of its SIMs.
            picks = _arguments(name) - {"slug", "action"}
            check(client, w, wrong, name, method, caller, 404 if picks else ALLOWED, slug=w.other.slug, variant="own product")
    if not answers & MAY_CHANGE or caller == "outsider":
        assert fingerprint(w) == before, f"{name} as {caller} changed the product"
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("caller", API_CALLERS)
@pytest.mark.parametrize("name", api_names())
def test_the_api_answers_each_caller(client, world, name, caller):
    w, wrong, answers = world, [], set()
    _sign_in(client, caller, w)
    headers = _api_headers(name, caller, w)
    before = fingerprint(w)
    for method in API_METHODS[name].split(","):
        expected = api_expected(name, method, caller)
        answers.add(expected)
        check(client, w, wrong, name, method, caller, expected, **headers)
        if caller in ("foreign", "co_member") and KIND[name] == "product":
            # In the token's own product: this product's SIMs are not there, and a search finds none.
            check(client, w, wrong, name, method, caller, own_product_expected(name, method, caller), slug=w.other.slug, variant="own product", **headers)
    if not answers & MAY_CHANGE:
        assert fingerprint(w) == before, f"{name} as {caller} changed the product"
    assert not wrong, "\n".join(wrong)


def _api_headers(name: str, caller: str, w: World) -> dict:
    """The caller's token as each dialect takes it: Particle's as is, emnify's as an auth token made from it."""
    secret = w.secrets.get(caller)
    if secret is None:
        return {}
    if name.startswith("emnify_"):
        return {"HTTP_AUTHORIZATION": f"Bearer {issue_auth_token(ApiToken.objects.get(secret_hash=hash_secret(secret)))}"}
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_counts_elsewhere_hold_none_of_the_products_sims(client, world):
    """A count carries no trace to look for, so it is checked by number: searched for by a part of
    their ICCIDs, the product's three SIMs count 3 for its members and 0 anywhere else."""
    w, count = world, "<strong>{}</strong> SIM"
    client.force_login(w.teammate)
    assert count.format(3) in client.get(url_for("sim_count", w)).content.decode()
    client.force_login(w.outsider)
    assert count.format(0) in client.get(url_for("sim_count", w, slug=w.other.slug)).content.decode()
    emnify = {caller: _api_headers("emnify_sims", caller, w) for caller in ("product_token", "foreign", "co_member")}
    for query in (f"q=iccid:{SEARCH}", f"q=customer_org:{w.product.pk}"):
        assert client.get(f"{reverse('emnify_sims')}?{query}", **emnify["product_token"])["X-Total-Count"] == "3"
        for caller in ("foreign", "co_member"):
            assert client.get(f"{reverse('emnify_sims')}?{query}", **emnify[caller])["X-Total-Count"] == "0"
    found = client.get(url_for("particle_product_sims", w, slug=w.other.slug), HTTP_AUTHORIZATION=f"Bearer {w.secrets['foreign']}")
    assert found.json() == {"sims": [], "meta": {"total_pages": 0}}


# -- The Django admin ----------------------------------------------------------------------------


def admin_urls(w: World) -> list[str]:
    """Every URL of the admin, from its patterns: its index, each app, each model's list, add,
    change, history and delete pages (of this product's own rows where it has them)."""
    ours = {Product: w.product.pk, Sim: w.sim.pk, Invoice: w.invoice.pk, Webhook: w.webhook.pk, ApiToken: w.token.pk,
            ImportJob: w.done_job.pk, Membership: w.membership.pk, WebhookDelivery: w.delivery.pk}  # fmt: skip
    urls = []

    def walk(entries, model=None):
        for entry in entries:
            if isinstance(entry, URLResolver):
                # A model admin's include: its patterns' names start with app_model_.
                walk(entry.url_patterns, model)
                continue
            name = entry.name
            if name is None:
                continue
            owner = next((m for m in admin.site._registry if name.startswith(f"{m._meta.app_label}_{m._meta.model_name}_")), None)
            sample = {
                "object_id": str(ours.get(owner, 1)),
                "id": str(w.admin.pk),  # a user's password page
                "app_label": "products",
                "content_type_id": str(ContentType.objects.get_for_model(Product).pk),
                "url": "no/such/page/",
            }
            if name == "view_on_site":
                sample["object_id"] = str(w.product.pk)
            names = getattr(entry.pattern, "converters", {}) or entry.pattern.regex.groupindex
            urls.append(reverse(f"admin:{name}", kwargs={key: sample[key] for key in names}))

    include = next(i for i in named_patterns()[1] if i.namespace == "admin")
    walk(include.url_patterns)
    return sorted(set(urls))


# The admin's own sign-in page answers anyone (saying a non-staff person may not go further); its
# sign-out sends a non-staff person to the admin's index, which sends them to its sign-in.
ADMIN_ELSEWHERE = {"login": (200, ""), "logout": (302, "/admin/")}


@pytest.mark.parametrize("caller", ["outsider", "admin"])
def test_the_admin_is_for_staff_only(client, world, caller):
    """Signed in but not staff (even a product's admin): every admin URL sends to the admin's sign-in."""
    w, wrong = world, []
    _sign_in(client, caller, w)
    hidden = _must_not_see(caller, w)
    elsewhere = {reverse(f"admin:{name}"): answer for name, answer in ADMIN_ELSEWHERE.items()}
    urls = admin_urls(w)
    assert len(urls) > 100, "the walk reaches every model admin"
    for url in urls:
        response = client.get(url)
        sign_in = (302, f"{reverse('admin:login')}?next={quote(url)}")
        ok = (response.status_code, response.get("Location", "")) == elsewhere.get(url, sign_in)
        if not ok:
            wrong.append(f"GET {url} as {caller}: {response.status_code} {response.get('Location', '')}")
        found = leaks(response, hidden, skip_headers=("Location",))
        if found:
            wrong.append(f"GET {url} as {caller}: leaks {found}")
    assert not wrong, "\n".join(wrong)

"""Webhook deliveries: a product's lifecycle events, finished imports and IMEI mismatches, POSTed to its receivers, signed.

Scale: a bulk action or an import may change a million SIMs. The domain writes one event per
lifecycle chunk (1000 SIMs) or import batch to its outbox, in the change's transaction
(sims/events.py); the worker publishes it to `deliver_event`, which writes one delivery per active
webhook of the product, each with its task, in the transaction that takes the event out of the
outbox (django-tasks-db keeps tasks in the same database: the deliveries, their tasks and the
event's removal commit together or not at all). So there is a delivery exactly for what was
committed, once. A product without an active webhook costs the worker one indexed query per event.

Safety: a receiver URL must be http(s) and resolve only to public addresses, none of them the
console's own host, unless WEBHOOKS_ALLOW_PRIVATE_ADDRESSES is on (webhooks/addresses.py). It is
checked when saved and again at every attempt (DNS can change), and the request goes to the very
address checked.
An attempt ends within WEBHOOKS_DEADLINE_SECONDS whatever the receiver does, and reads at most
ANSWER_READ_LIMIT bytes of its answer: a receiver cannot hold a worker.
"""

import hashlib
import hmac
import http.client
import io
import json
import logging
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import SplitResult

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from imports.events import IMPORT_COUNTS
from sims.models import DomainEvent
from webhooks.addresses import UnsafeUrl, check_url, default_port
from webhooks.models import Webhook, WebhookDelivery

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-SimConsole-Signature"
TIMESTAMP_HEADER = "X-SimConsole-Timestamp"
DELIVERY_HEADER = "X-SimConsole-Delivery"
EVENT_HEADER = "X-SimConsole-Event"
USER_AGENT = "SimConsole-Webhooks/1"
# What is kept of a receiver's answer for the log: enough to read an error message.
ANSWER_KEPT = 300
# The most of an answer that is read: its status line, headers and the start of its body.
ANSWER_READ_LIMIT = 64 * 1024


# --- Writing deliveries (the domain's events, as the worker publishes them) -------------------------


def deliver_event(sender: type[DomainEvent], *, event: DomainEvent, **kwargs: Any) -> None:
    """One delivery per active webhook of the event's product (connected to sims.events.event_published
    by webhooks.apps): written in the transaction that takes the event out of the outbox, with its tasks."""
    hooks = _active_webhooks(event.product_id)
    if not hooks:
        return
    if event.kind == DomainEvent.Kind.IMPORT_FINISHED:
        _write_deliveries(hooks, kind=WebhookDelivery.Kind.IMPORT_FINISHED, event_count=0, **_import_finished(event.data))
    elif event.kind == DomainEvent.Kind.IMEI_MISMATCH:
        _write_deliveries(hooks, kind=WebhookDelivery.Kind.IMEI_MISMATCH, event_count=event.data["event_count"], **_imei_mismatch(event.data))
    elif event.kind == WebhookDelivery.Kind.SMS_RECEIVED:
        _write_deliveries(hooks, kind=WebhookDelivery.Kind.SMS_RECEIVED, event_count=event.data["event_count"], **_sms_received(event.data))
    elif event.kind == DomainEvent.Kind.SIMS_CHANGED:
        _write_deliveries(hooks, kind=WebhookDelivery.Kind.SIM_EVENTS, event_count=event.data["event_count"], **_sim_events(event.data))
    elif event.kind == DomainEvent.Kind.RULE_FIRED and event.data.get("webhook"):
        _write_deliveries(hooks, kind=WebhookDelivery.Kind.RULE_FIRED, event_count=event.data["event_count"], **_rule_fired(event.data))


def _sim_events(data: dict[str, Any]) -> dict[str, Any]:
    """The summary and the payload's fields, in the order README shows (PostgreSQL's jsonb keeps no order)."""
    action, count = data["action"], data["event_count"]
    summary = f"{action}: {count:,} SIM{'s' if count != 1 else ''}"
    payload: dict[str, Any] = {
        "action": action,
        "actor": _actor(data["actor"]),
        "occurred_at": data["occurred_at"],
        "event_count": count,
    }
    if "import" in data:
        job = data["import"]
        summary = f"import: {count:,} SIMs (import #{job['id']}, batch {job['batch']})"
        payload["import"] = {"id": job["id"], "batch": job["batch"]}
    payload["changes"] = [
        {"from_state": c["from_state"], "to_state": c["to_state"], "reason": c["reason"], "iccids": c["iccids"]}
        for c in data["changes"]
    ]
    return {"summary": summary, "data": payload}


def _sms_received(data: dict[str, Any]) -> dict[str, Any]:
    """SMS devices sent (carriers/sms.py): each with the carrier's id, the SIM's ICCID, the body and when."""
    count = data["event_count"]
    first = data["messages"][0]
    summary = f"SMS from {first['iccid']}: {first['body']}" if count == 1 else f"{count:,} SMS received"
    messages = [{"id": m["id"], "iccid": m["iccid"], "body": m["body"], "received_at": m["received_at"]} for m in data["messages"]]
    return {"summary": summary, "data": {"occurred_at": data["occurred_at"], "event_count": count, "messages": messages}}


def _import_finished(data: dict[str, Any]) -> dict[str, Any]:
    job = data["import"]
    return {
        "summary": f"import #{job['id']} {job['status']}: {job['activated'] + job['transferred']:,} SIMs activated",
        "data": {
            "actor": _actor(data["actor"]),
            "import": {
                name: job[name]
                for name in ["id", "status", "country", "started_at", "finished_at", "error", *IMPORT_COUNTS]
            },
        },
    }


def _imei_mismatch(data: dict[str, Any]) -> dict[str, Any]:
    """SIMs seen in a device their IMEI lock refuses (devices/imei_lock.py): each mismatch with what was done."""
    count = data["event_count"]
    return {
        "summary": f"IMEI mismatch: {count:,} event{'s' if count != 1 else ''}",
        "data": {
            "actor": _actor(data["actor"]),
            "occurred_at": data["occurred_at"],
            "event_count": count,
            "mismatches": [
                {"iccid": m["iccid"], "expected": m["expected"], "seen": m["seen"], "at": m["at"], "action": m["action"]}
                for m in data["mismatches"]
            ],
        },
    }


def _rule_fired(data: dict[str, Any]) -> dict[str, Any]:
    """A product's rule fired for SIMs (rules/acting.py): the rule, and each SIM with the figures that fired it."""
    rule, count = data["rule"], data["event_count"]
    about_product = data.get("about") == "product"  # a rule about the product's cost or carriers: no SIM
    firings = [
        {"iccid": f["iccid"], "window": f["window"], "figures": f["figures"]} | ({"subject": f["subject"] or "product"} if about_product else {})
        for f in data["firings"]
    ]
    return {
        "summary": f"Rule “{rule['name']}” fired for " + ("the product" if about_product else f"{count:,} SIM{'s' if count != 1 else ''}"),
        "data": {
            "rule": {"name": rule["name"], "version": rule["version"], "condition": rule["condition"]},
            "occurred_at": data["occurred_at"],
            "event_count": count,
            "firings": firings,
        },
    }


def _actor(actor: dict[str, str]) -> dict[str, str]:
    return {"kind": actor["kind"], "name": actor["name"]}


def _active_webhooks(product_id: int | None) -> list[Webhook]:
    if product_id is None:  # SIMs of no product: nobody's webhooks
        return []
    return list(Webhook.objects.filter(product_id=product_id, is_active=True).select_related("product"))


def _write_deliveries(hooks: list[Webhook], *, kind: str, summary: str, event_count: int, data: dict) -> None:
    now = timezone.now()
    for webhook in hooks:
        delivery_id = uuid.uuid4()
        body = {
            "id": str(delivery_id),
            "type": kind,
            "created_at": _iso(now),
            "product": {"slug": webhook.product.slug, "name": webhook.product.name},
            **data,
        }
        delivery = WebhookDelivery.objects.create(
            webhook=webhook, uuid=delivery_id, kind=kind, summary=summary[:200], event_count=event_count,
            body=json.dumps(body, separators=(",", ":")), next_attempt_at=now, created_at=now,
        )  # fmt: skip
        # In the caller's transaction: the task row commits with the delivery, or neither does.
        deliver_webhook.enqueue(delivery.pk)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


# --- Sending --------------------------------------------------------------------------------------


def sign(*, secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value: HMAC-SHA256 of "<timestamp>.<body>" with the webhook's secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def retry_delay(attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: the base, doubled each time."""
    return timedelta(seconds=settings.WEBHOOKS_RETRY_SECONDS * 2 ** (attempts - 1))


@dataclass
class Answer:
    status_code: int | None
    error: str


@task
def deliver_webhook(delivery_id: int) -> str:
    return attempt_delivery(delivery_id=delivery_id)


def attempt_delivery(*, delivery_id: int) -> str:
    """One attempt: POST the body, then record the answer, and queue the next attempt or give up."""
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return "nothing to do"
    webhook = delivery.webhook
    if not webhook.is_active:
        WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING).update(
            status=WebhookDelivery.Status.CANCELLED, next_attempt_at=None, last_error="The webhook was disabled."
        )
        return "cancelled"
    answer = _post(webhook, delivery)
    now = timezone.now()
    attempts = delivery.attempts + 1
    fields: dict[str, Any] = {
        "attempts": attempts, "last_attempt_at": now, "last_status_code": answer.status_code,
        "last_error": answer.error[:500],
    }  # fmt: skip
    if answer.status_code is not None and 200 <= answer.status_code < 300:
        fields.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=now, next_attempt_at=None)
    elif attempts >= settings.WEBHOOKS_MAX_ATTEMPTS:
        fields.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
    else:
        fields.update(next_attempt_at=now + retry_delay(attempts))
    with transaction.atomic():
        # Only the attempt that read this state records it: a stray second runner changes nothing.
        updated = WebhookDelivery.objects.filter(
            pk=delivery.pk, status=WebhookDelivery.Status.PENDING, attempts=delivery.attempts
        ).update(**fields)
        if updated and fields.get("next_attempt_at"):
            deliver_webhook.using(run_after=fields["next_attempt_at"]).enqueue(delivery.pk)
    outcome = fields.get("status", "retry")
    log.info("webhook delivery %s attempt %s to %s: %s (%s)", delivery.uuid, attempts, webhook.url, outcome, answer.error or answer.status_code)
    return f"{outcome}: {answer.status_code or answer.error}"


def _post(webhook: Webhook, delivery: WebhookDelivery) -> Answer:
    try:
        parts, addresses = check_url(webhook.url)
    except UnsafeUrl as error:
        return Answer(None, f"Not sent: {error}")
    body = delivery.body.encode()
    timestamp = str(int(time.time()))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: delivery.kind,
        DELIVERY_HEADER: str(delivery.uuid),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret=webhook.secret, timestamp=timestamp, body=body),
    }
    clock = _Clock(settings.WEBHOOKS_TIMEOUT_SECONDS, settings.WEBHOOKS_DEADLINE_SECONDS)
    last_error = ""
    # To the addresses just checked, not to a fresh look-up that could answer differently.
    for address in addresses:
        connection = _connection(parts, address, clock)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            answer = _beginning(response) if not 200 <= response.status < 300 else ""
        except TimeoutError:
            if clock.left() <= 0:
                late = f"No complete answer within the {clock.deadline} s an attempt may last (WEBHOOKS_DEADLINE_SECONDS)."
                return Answer(None, late)
            return Answer(None, f"No answer within {clock.timeout} s.")
        except _AnswerTooLong as error:
            return Answer(None, str(error))
        except (OSError, http.client.HTTPException) as error:
            last_error = f"{type(error).__name__}: {error}"
            if isinstance(error, ConnectionRefusedError):
                continue  # the next address, if the name has more
            return Answer(None, last_error)
        finally:
            connection.close()
        if 300 <= response.status < 400:
            where = response.getheader("Location", "")
            return Answer(response.status, f"Redirect to {where} not followed: give the final URL.")
        return Answer(response.status, "" if 200 <= response.status < 300 else answer)
    return Answer(None, last_error)


def _beginning(response: http.client.HTTPResponse) -> str:
    """The start of an answer's body, for the log. The attempt is judged by the status already
    read: a body that breaks off or comes too slowly leaves this empty."""
    try:
        return response.read(ANSWER_KEPT).decode("utf-8", "replace").strip()
    except (OSError, http.client.HTTPException):
        return ""


class _Clock:
    """An attempt's time: each wait (to connect, for TLS, to send, for each read) lasts at most
    `timeout` seconds, and all of them together `deadline` seconds."""

    def __init__(self, timeout: float, deadline: float) -> None:
        self.timeout, self.deadline = timeout, deadline
        self.ends = time.monotonic() + deadline

    def left(self) -> float:
        return self.ends - time.monotonic()

    def wait(self) -> float:
        """The longest the next wait may last; TimeoutError once the deadline has passed."""
        left = self.left()
        if left <= 0:
            raise TimeoutError("the attempt's deadline has passed")
        return min(self.timeout, left)


class _AnswerTooLong(http.client.HTTPException):
    """More than ANSWER_READ_LIMIT bytes before the status line and headers ended."""


class _TimedSocket:
    """A connected socket as http.client uses it (sendall, makefile, close), every wait timed by the
    attempt's clock and the answer read up to ANSWER_READ_LIMIT bytes."""

    def __init__(self, sock: socket.socket, clock: _Clock) -> None:
        self.sock, self.clock = sock, clock

    def sendall(self, data: bytes) -> None:
        self.sock.settimeout(self.clock.wait())
        self.sock.sendall(data)

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_AnswerReader(self.sock, self.clock))

    def close(self) -> None:
        self.sock.close()


class _AnswerReader(io.RawIOBase):
    """The socket's own reader (socket.makefile: the socket stays open until the connection and the
    answer are both closed), each read timed by the clock, all of them up to ANSWER_READ_LIMIT bytes."""

    def __init__(self, sock: socket.socket, clock: _Clock) -> None:
        self.sock, self.clock, self.left = sock, clock, ANSWER_READ_LIMIT
        self.reader = sock.makefile("rb", buffering=0)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.left <= 0:
            raise _AnswerTooLong(f"The answer's status line and headers are longer than {ANSWER_READ_LIMIT // 1024} KB.")
        self.sock.settimeout(self.clock.wait())
        count = self.reader.readinto(memoryview(buffer).cast("B")[: self.left])
        assert count is not None  # None means "would block": this socket has a timeout, so it waits or raises
        self.left -= count
        return count

    def close(self) -> None:
        self.reader.close()
        super().close()


def _connection(parts: SplitResult, address: str, clock: _Clock) -> http.client.HTTPConnection:
    host, port = parts.hostname or "", parts.port or default_port(parts)
    if parts.scheme == "https":
        return _PinnedHTTPSConnection(host, port, address=address, clock=clock, context=ssl.create_default_context())
    return _PinnedHTTPConnection(host, port, address=address, clock=clock)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a given address while the Host header names the host."""

    def __init__(self, *args: Any, address: str, clock: _Clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.address, self.clock = address, clock

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.clock.wait())
        self.sock = _TimedSocket(sock, self.clock)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to a given address; TLS checks the certificate against the host name (SNI too)."""

    def __init__(self, *args: Any, address: str, clock: _Clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.address, self.clock = address, clock

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.clock.wait())
        sock.settimeout(self.clock.wait())  # bounds the whole TLS handshake
        context = self._context  # type: ignore[attr-defined]  # set by HTTPSConnection.__init__; typeshed leaves it out
        self.sock = _TimedSocket(context.wrap_socket(sock, server_hostname=self.host), self.clock)


def signature_is_valid(*, secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (README): recompute and compare in constant time."""
    return hmac.compare_digest(sign(secret=secret, timestamp=timestamp, body=body), signature)

"""Webhooks: what is queued for a bulk action and an import, the signature a receiver checks,
real deliveries to a local HTTP server, retries with doubling waits, giving up, and the refusals
of addresses the console must not call."""

import hashlib
import hmac
import json
import re
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from imports.events import IMPORT_COUNTS
from imports.importing import import_iccids
from sims.lifecycle import Action, Actor, apply_action
from sims.models import Sim, SimEvent, State
from tests.conftest import make_iccid, publish_queued_events
from webhooks import addresses
from webhooks.addresses import UnsafeUrl, check_url
from webhooks.delivery import ANSWER_READ_LIMIT, attempt_delivery, retry_delay, signature_is_valid
from webhooks.models import WebhookDelivery
from webhooks.receivers import MAX_WEBHOOKS_PER_PRODUCT, add_webhook, set_webhook_active

DELIVER_TASK = "webhooks.delivery.deliver_webhook"
PUBLIC = "93.184.215.14"


class Receiver:
    """A local HTTP server thread that answers each POST with the next status of a script."""

    def __init__(self, statuses: list[int], delay: float = 0.0, location: str = "") -> None:
        self.statuses, self.delay, self.location = list(statuses), delay, location
        self.requests: list[tuple[dict[str, str], bytes, str]] = []
        self.times: list[float] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body, self.path))
                receiver.times.append(time.monotonic())
                time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                answer = b"ok" if status < 300 else b"receiver says no"
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/sims?from=console"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    """A receiver on 127.0.0.1: allowed by the setting, as an administrator would for a local one."""
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    made = []

    def make(statuses=(200,), **options) -> Receiver:
        made.append(Receiver(list(statuses), **options))
        return made[-1]

    yield make
    for one in made:
        one.close()


@pytest.fixture
def public_dns(monkeypatch):
    """Host names resolve to a public address, without asking DNS."""
    answers: dict[str, list[str]] = {}
    monkeypatch.setattr(addresses, "resolve", lambda host, port: answers.get(host, [PUBLIC]))
    return answers


@pytest.fixture
def webhook(product, owner, public_dns):
    return add_webhook(product=product, url="https://hooks.example.com/sims", user=owner)


def deliveries(**filters) -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(**filters).order_by("id"))


def payload(delivery: WebhookDelivery) -> dict:
    return json.loads(delivery.body)


def iccids_of(delivery: WebhookDelivery) -> list[str]:
    return [iccid for change in payload(delivery)["changes"] for iccid in change["iccids"]]


def tasks_queued() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=DELIVER_TASK).order_by("enqueued_at"))


# --- What is queued ------------------------------------------------------------------------------


def test_a_bulk_action_queues_one_delivery_per_chunk_carrying_every_event(product, owner, webhook, make_sim):
    sims = Sim.objects.bulk_create([Sim(iccid=make_iccid(), product=product, state=State.ACTIVE) for _ in range(2500)])
    apply_action(sims=Sim.objects.filter(product=product), action=Action.DEACTIVATE, actor=Actor.for_user(owner))
    publish_queued_events()

    queued = deliveries(webhook=webhook)
    assert [d.event_count for d in queued] == [1000, 1000, 500]
    assert sorted(i for d in queued for i in iccids_of(d)) == sorted(s.iccid for s in sims)
    first = payload(queued[0])
    assert first["type"] == "sim.events" and first["id"] == str(queued[0].uuid)
    assert first["product"] == {"slug": "acme", "name": "Acme Trackers"}
    assert first["action"] == "deactivate" and first["actor"] == {"kind": "user", "name": "owner"}
    assert first["changes"][0] | {"iccids": []} == {"from_state": "active", "to_state": "suspended", "reason": "", "iccids": []}
    assert all(d.status == "pending" and d.attempts == 0 for d in queued)
    assert len(tasks_queued()) == 3  # one task per delivery


def test_events_of_one_chunk_are_grouped_by_change_and_reason(product, owner, webhook, make_sim):
    active, suspended = make_sim(product), make_sim(product, state=State.SUSPENDED)
    paused = make_sim(product, state=State.PAUSED)
    apply_action(
        sims=[active.pk, suspended.pk, paused.pk], action=Action.TERMINATE, actor=Actor.system("test rule"),
        reasons={paused.pk: "Because"},
    )  # fmt: skip
    publish_queued_events()
    (delivery,) = deliveries()
    changes = {(c["from_state"], c["reason"]): c["iccids"] for c in payload(delivery)["changes"]}
    assert changes == {("active", ""): [active.iccid], ("suspended", ""): [suspended.iccid], ("paused", "Because"): [paused.iccid]}
    assert payload(delivery)["actor"] == {"kind": "system", "name": "test rule"}


def test_each_product_gets_only_its_own_events(product, other_product, owner, webhook, make_sim, public_dns):
    others = add_webhook(product=other_product, url="https://other.example.com/", user=owner)
    mine, theirs = make_sim(product), make_sim(other_product)
    apply_action(sims=[mine.pk, theirs.pk], action=Action.DEACTIVATE, actor=Actor.system("test"))
    publish_queued_events()
    assert [iccids_of(d) for d in deliveries(webhook=webhook)] == [[mine.iccid]]
    assert [iccids_of(d) for d in deliveries(webhook=others)] == [[theirs.iccid]]


def test_no_active_webhook_means_no_delivery_and_one_query_per_event_published(
    product, other_product, owner, make_sim, public_dns, django_assert_max_num_queries
):
    Sim.objects.bulk_create([Sim(iccid=make_iccid(), product=product, state=State.ACTIVE) for _ in range(2500)])
    set_webhook_active(webhook=add_webhook(product=product, url="https://off.example.com/", user=owner), active=False)
    add_webhook(product=other_product, url="https://theirs.example.com/", user=owner)
    # The ids; per chunk of 1000: savepoint, lock and read, update, the events, the outbox row, its task, release.
    with django_assert_max_num_queries(1 + 3 * 7):
        apply_action(sims=Sim.objects.filter(product=product), action=Action.DEACTIVATE, actor=Actor.for_user(owner))
    assert SimEvent.objects.count() == 2500
    with CaptureQueriesContext(connection) as queries:
        publish_queued_events()
    webhook_queries = [q["sql"] for q in queries if "api_webhook" in q["sql"]]
    assert len(webhook_queries) == 3  # one per event published, by product and is_active
    assert all("product_id" in sql and "is_active" in sql for sql in webhook_queries)
    assert not WebhookDelivery.objects.exists()
    assert not tasks_queued()


def test_a_chunk_pays_the_same_whatever_the_webhooks_and_never_reads_them(product, owner, make_sim, public_dns):
    """Webhooks are a subscriber: the change writes its events, and is not slowed by who listens."""

    def statements_of_a_chunk() -> list[str]:
        sims = [make_sim(product) for _ in range(3)]
        with CaptureQueriesContext(connection) as queries:
            apply_action(sims=[s.pk for s in sims], action=Action.DEACTIVATE, actor=Actor.for_user(owner))
        return [q["sql"] for q in queries]

    without = statements_of_a_chunk()
    for n in range(MAX_WEBHOOKS_PER_PRODUCT):
        add_webhook(product=product, url=f"https://h{n}.example.com/", user=owner)
    with_five = statements_of_a_chunk()
    assert len(with_five) == len(without)
    assert not [sql for sql in with_five if "api_webhook" in sql]
    assert len([sql for sql in with_five if sql.startswith('INSERT INTO "sims_domainevent"')]) == 1


def test_a_change_rolled_back_leaves_no_delivery(product, owner, webhook, make_sim):
    sim = make_sim(product, state=State.TERMINATED)
    with pytest.raises(Exception):
        apply_action(sims=sim, action=Action.ACTIVATE, actor=Actor.for_user(owner))
    publish_queued_events()
    assert not WebhookDelivery.objects.exists()


def test_an_import_queues_a_delivery_per_batch_and_one_when_it_finishes(product, owner, webhook, prices, settings, make_sim):
    settings.IMPORT_BATCH_SIZE = 3
    in_inventory = make_sim(None, state=State.ISSUED)
    new = [make_iccid() for _ in range(4)]
    job = import_iccids(product=product, user=owner, data="\n".join([*new, in_inventory.iccid]), country="US")
    assert job.status == "done" and job.activated == 5
    publish_queued_events()

    queued = deliveries(webhook=webhook)
    events = [d for d in queued if d.kind == "sim.events"]
    # The new SIMs by batch (SQL inserts), the one from inventory through the lifecycle.
    assert sorted(i for d in events for i in iccids_of(d)) == sorted([*new, in_inventory.iccid])
    assert sum(d.event_count for d in events) == 5
    batch_payloads = [payload(d) for d in events if "import" in payload(d)]
    assert [p["import"]["batch"] for p in batch_payloads] == [1, 2]
    assert batch_payloads[0]["changes"][0]["to_state"] == "active"
    assert batch_payloads[0]["changes"][0]["reason"] == f"Import #{job.pk}"

    (finished,) = [d for d in queued if d.kind == "import.finished"]
    assert finished == queued[-1]
    summary = payload(finished)["import"]
    assert summary["id"] == job.pk and summary["status"] == "done" and summary["country"] == "US"
    assert (summary["valid"], summary["activated"], summary["processed"]) == (5, 5, 5)


def test_the_bodies_keep_the_readmes_fields_in_its_order_on_every_database(product, owner, webhook, prices, settings, make_sim):
    """The events go through the outbox (PostgreSQL's jsonb keeps no key order): the bytes sent keep
    README's order and compact form, and the log's summaries read as before."""
    settings.IMPORT_BATCH_SIZE = 2
    apply_action(sims=make_sim(product), action=Action.DEACTIVATE, actor=Actor.for_user(owner))
    import_iccids(product=product, user=owner, data="\n".join(make_iccid() for _ in range(3)), country="US")
    publish_queued_events()

    change, batch_1, batch_2, finished = deliveries(webhook=webhook)
    top = ["id", "type", "created_at", "product", "action", "actor", "occurred_at", "event_count"]
    assert list(payload(change)) == [*top, "changes"]
    assert list(payload(batch_1)) == [*top, "import", "changes"]
    assert list(payload(change)["changes"][0]) == ["from_state", "to_state", "reason", "iccids"]
    assert list(payload(change)["actor"]) == ["kind", "name"] and list(payload(change)["product"]) == ["slug", "name"]
    assert list(payload(finished)) == ["id", "type", "created_at", "product", "actor", "import"]
    assert list(payload(finished)["import"]) == ["id", "status", "country", "started_at", "finished_at", "error", *IMPORT_COUNTS]
    assert change.body == json.dumps(payload(change), separators=(",", ":"))
    job_id = payload(finished)["import"]["id"]
    assert [d.summary for d in (change, batch_1, batch_2, finished)] == [
        "deactivate: 1 SIM", f"import: 2 SIMs (import #{job_id}, batch 1)", f"import: 1 SIMs (import #{job_id}, batch 2)",
        f"import #{job_id} done: 3 SIMs activated",
    ]  # fmt: skip


def test_an_import_into_a_product_without_webhooks_queues_nothing(product, owner, prices):
    import_iccids(product=product, user=owner, data="\n".join(make_iccid() for _ in range(3)), country="US")
    publish_queued_events()
    assert not WebhookDelivery.objects.exists()


# --- Sending ---------------------------------------------------------------------------------


def queue_one(product, owner, make_sim) -> WebhookDelivery:
    apply_action(sims=make_sim(product), action=Action.DEACTIVATE, actor=Actor.for_user(owner))
    publish_queued_events()
    return WebhookDelivery.objects.get()


def test_a_receiver_gets_the_body_and_can_check_its_signature(product, owner, make_sim, receiver):
    server = receiver([204])
    webhook = add_webhook(product=product, url=server.url, user=owner)
    delivery = queue_one(product, owner, make_sim)

    assert attempt_delivery(delivery_id=delivery.pk).startswith("delivered")

    ((headers, body, path),) = server.requests
    assert path == "/hooks/sims?from=console"
    assert body == delivery.body.encode()
    assert headers["Content-Type"] == "application/json"
    assert headers["X-SimConsole-Delivery"] == str(delivery.uuid) == json.loads(body)["id"]
    assert headers["X-SimConsole-Event"] == "sim.events"
    timestamp = headers["X-SimConsole-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    # What the README tells a receiver to do.
    expected = hmac.new(webhook.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-SimConsole-Signature"], f"sha256={expected}")
    assert not signature_is_valid(secret="whsec_other", timestamp=timestamp, body=body, signature=headers["X-SimConsole-Signature"])

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 204)
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None


def test_a_500_is_retried_after_a_wait_that_doubles_then_succeeds(product, owner, make_sim, receiver, settings):
    settings.WEBHOOKS_RETRY_SECONDS = 30
    server = receiver([500, 503, 200])
    add_webhook(product=product, url=server.url, user=owner)
    delivery = queue_one(product, owner, make_sim)
    assert len(tasks_queued()) == 1

    before = timezone.now()
    attempt_delivery(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.last_error == "receiver says no"
    assert before + timedelta(seconds=29) < delivery.next_attempt_at < timezone.now() + timedelta(seconds=31)
    retry = tasks_queued()[-1]
    assert len(tasks_queued()) == 2 and retry.run_after == delivery.next_attempt_at
    assert retry.args_kwargs["args"] == [delivery.pk]

    attempt_delivery(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code) == (2, 503)
    assert delivery.next_attempt_at - delivery.last_attempt_at == timedelta(seconds=60)

    attempt_delivery(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == ("delivered", 3, 200, "")
    assert len(server.requests) == 3
    # The same bytes under the same id each time.
    assert len({(h["X-SimConsole-Delivery"], body) for h, body, _ in server.requests}) == 1
    assert len(tasks_queued()) == 3


def test_the_waits_double_from_the_base(settings):
    settings.WEBHOOKS_RETRY_SECONDS = 30
    assert [retry_delay(n).total_seconds() for n in range(1, 6)] == [30, 60, 120, 240, 480]


def test_a_delivery_gives_up_after_the_last_attempt(product, owner, make_sim, receiver, settings):
    settings.WEBHOOKS_MAX_ATTEMPTS = 3
    server = receiver([500])
    add_webhook(product=product, url=server.url, user=owner)
    delivery = queue_one(product, owner, make_sim)
    for _ in range(3):
        attempt_delivery(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 3, None)
    assert len(tasks_queued()) == 3  # the first, and two retries: none after the last
    assert attempt_delivery(delivery_id=delivery.pk) == "nothing to do"
    assert len(server.requests) == 3


def test_a_receiver_that_does_not_answer_in_time_is_retried(product, owner, make_sim, receiver, settings):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.3
    server = receiver([200], delay=1.5)
    add_webhook(product=product, url=server.url, user=owner)
    delivery = queue_one(product, owner, make_sim)
    started = time.monotonic()
    attempt_delivery(delivery_id=delivery.pk)
    assert time.monotonic() - started < 1.2
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert delivery.last_error == "No answer within 0.3 s."


class RawReceiver:
    """A receiver on a bare socket: reads one request, then sends `answer` in pieces of `piece`
    bytes, `pause` seconds apart, until it is all sent or the console hangs up."""

    def __init__(self, answer: bytes, *, piece: int = 65536, pause: float = 0.0) -> None:
        self.answer, self.piece, self.pause = answer, piece, pause
        self.server = socket.create_server(("127.0.0.1", 0))
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}/hooks"

    def serve(self) -> None:
        connection, _ = self.server.accept()
        with connection:
            request = b""
            while b"\r\n\r\n" not in request:
                request += connection.recv(65536)
            length = int(re.search(rb"Content-Length: (\d+)", request)[1])
            while len(request.split(b"\r\n\r\n", 1)[1]) < length:
                request += connection.recv(65536)
            try:
                for at in range(0, len(self.answer), self.piece):
                    connection.sendall(self.answer[at : at + self.piece])
                    time.sleep(self.pause)
            except OSError:
                pass  # the console hung up

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def raw_receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    made = []

    def make(answer: bytes, **options) -> RawReceiver:
        made.append(RawReceiver(answer, **options))
        return made[-1]

    yield make
    for one in made:
        one.close()


@pytest.fixture
def bytes_read(monkeypatch) -> dict[int, int]:
    """Bytes this process read from each local port it connected to (the console's side only)."""
    read: dict[int, int] = {}
    recv_into = socket.socket.recv_into

    def counting(self, buffer, *args):
        count = recv_into(self, buffer, *args)
        peer = self.getpeername()
        if peer[0] == "127.0.0.1" and peer[1] != self.getsockname()[1]:
            read[peer[1]] = read.get(peer[1], 0) + count
        return count

    monkeypatch.setattr(socket.socket, "recv_into", counting)
    return read


def port_of(receiver: RawReceiver) -> int:
    return receiver.server.getsockname()[1]


def test_a_receiver_that_dribbles_its_headers_fails_the_attempt_at_the_deadline_and_is_retried(
    product, owner, make_sim, raw_receiver, settings
):
    """Every byte comes within WEBHOOKS_TIMEOUT_SECONDS, so only the attempt's deadline stops it."""
    settings.WEBHOOKS_TIMEOUT_SECONDS, settings.WEBHOOKS_DEADLINE_SECONDS = 0.5, 1
    server = raw_receiver(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", piece=1, pause=0.2)
    add_webhook(product=product, url=server.url, user=owner)
    delivery = queue_one(product, owner, make_sim)

    assert attempt_delivery(delivery_id=delivery.pk).startswith("retry")

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert delivery.last_error == "No complete answer within the 1 s an attempt may last (WEBHOOKS_DEADLINE_SECONDS)."
    retry = tasks_queued()[-1]
    assert len(tasks_queued()) == 2 and retry.run_after == delivery.next_attempt_at > delivery.last_attempt_at


def test_a_huge_answer_body_is_not_read_and_the_attempt_is_judged_by_its_status(
    product, owner, make_sim, raw_receiver, bytes_read
):
    body_length = 20_000_000
    head = f"HTTP/1.1 500 Internal Server Error\r\nContent-Length: {body_length}\r\n\r\n".encode()
    server = raw_receiver(head + b"x" * body_length)
    add_webhook(product=product, url=server.url, user=owner)
    delivery = queue_one(product, owner, make_sim)

    attempt_delivery(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code, delivery.last_error) == ("pending", 500, "x" * 300)
    assert bytes_read[port_of(server)] <= ANSWER_READ_LIMIT


def test_an_answer_of_megabytes_of_headers_is_read_up_to_the_limit_and_fails_the_attempt(
    product, owner, make_sim, raw_receiver, bytes_read
):
    padding = b"".join(b"X-Padding-%d: %s\r\n" % (number, b"a" * 60_000) for number in range(40))
    server = raw_receiver(b"HTTP/1.1 200 OK\r\n" + padding + b"Content-Length: 0\r\n\r\n")
    add_webhook(product=product, url=server.url, user=owner)
    delivery = queue_one(product, owner, make_sim)

    attempt_delivery(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert delivery.last_error == "The answer's status line and headers are longer than 64 KB."
    assert bytes_read[port_of(server)] <= ANSWER_READ_LIMIT


def test_a_redirect_is_not_followed(product, owner, make_sim, receiver):
    server = receiver([302], location="http://169.254.169.254/latest/meta-data/")
    add_webhook(product=product, url=server.url, user=owner)
    delivery = queue_one(product, owner, make_sim)
    attempt_delivery(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == ("pending", 302)
    assert "not followed" in delivery.last_error
    assert len(server.requests) == 1


def test_a_receiver_that_refuses_connections_is_retried(product, owner, make_sim, receiver):
    server = receiver([200])
    add_webhook(product=product, url=server.url, user=owner)
    server.close()
    delivery = queue_one(product, owner, make_sim)
    attempt_delivery(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "pending" and "ConnectionRefusedError" in delivery.last_error


def test_an_address_that_turned_private_since_it_was_saved_is_not_called(product, owner, webhook, make_sim, public_dns):
    delivery = queue_one(product, owner, make_sim)
    public_dns["hooks.example.com"] = ["127.0.0.1"]
    attempt_delivery(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.last_error.startswith("Not sent: hooks.example.com resolves to 127.0.0.1, which is a loopback address")


def test_disabling_a_webhook_cancels_what_waits_and_a_queued_task_then_sends_nothing(product, owner, make_sim, receiver):
    server = receiver([200])
    webhook = add_webhook(product=product, url=server.url, user=owner)
    delivery = queue_one(product, owner, make_sim)
    set_webhook_active(webhook=webhook, active=False)
    delivery.refresh_from_db()
    assert delivery.status == "cancelled" and delivery.last_error == "The webhook was disabled."
    assert attempt_delivery(delivery_id=delivery.pk) == "nothing to do"
    assert not server.requests


# --- Addresses refused -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/hook", "127.0.0.1 is a loopback address"),
        ("http://127.1.2.3:8000/hook", "loopback"),
        ("https://10.1.2.3/hook", "10.1.2.3 is a private address"),
        ("https://192.168.0.10/hook", "private"),
        ("https://172.16.5.4/hook", "private"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://[::1]/hook", "::1 is a loopback address"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://[fe80::1]/hook", "link-local"),
        ("http://[fd00::1]/hook", "private"),
        ("http://[fec0::1]/hook", "fec0::1 is a site-local address"),
        ("http://[feff:ffff::1]/hook", "site-local"),
        ("http://0.0.0.0/hook", "0.0.0.0 is a"),
        ("http://100.64.0.1/hook", "reserved"),
        ("http://240.0.0.1/hook", "reserved"),
        ("http://2130706433/hook", "resolves to 127.0.0.1, which is a loopback address"),
        ("http://localhost:8000/hook", "localhost resolves to"),
        ("ftp://hooks.example.com/hook", "must start with https://"),
        ("file:///etc/passwd", "must start with https://"),
        ("javascript:alert(1)", "must start with https://"),
        ("hooks.example.com/hook", "must start with https://"),
        ("https:///hook", "needs a host name"),
        ("https://user:pw@hooks.example.com/hook", "Leave user names and passwords out"),
        ("https://hooks.example.com:99999/hook", "not a valid URL"),
    ],
)
def test_addresses_the_console_must_not_call_are_refused_with_the_reason(db, url, reason):
    with pytest.raises(UnsafeUrl, match=re.escape(reason)):
        check_url(url)


def test_a_name_is_refused_when_any_of_its_addresses_is_private(db, public_dns):
    public_dns["mixed.example.com"] = [PUBLIC, "10.0.0.5"]
    with pytest.raises(UnsafeUrl, match="mixed.example.com resolves to 10.0.0.5, which is a private address"):
        check_url("https://mixed.example.com/hook")
    assert check_url("https://public.example.com/hook")[1] == [PUBLIC]


@pytest.mark.parametrize(
    "failure, says",
    [
        (
            socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
            "The name nowhere.invalid could not be found in DNS: check the spelling of the address.",
        ),
        (
            socket.gaierror(socket.EAI_NODATA, "No address associated with hostname"),
            "The name nowhere.invalid could not be found in DNS: check the spelling of the address.",
        ),
        (
            socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
            "The name nowhere.invalid could not be looked up: the DNS server did not answer. Try again in a minute.",
        ),
        (
            OSError(101, "Network is unreachable"),
            "The name nowhere.invalid could not be looked up (network is unreachable). Try again in a minute.",
        ),
    ],
)
def test_a_name_that_does_not_resolve_is_refused_in_words(db, monkeypatch, failure, says):
    def fail(*args, **kwargs):
        raise failure

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(UnsafeUrl) as refused:
        check_url("https://nowhere.invalid/hook")
    assert str(refused.value) == says


def test_the_consoles_own_host_is_refused(db, settings, public_dns):
    settings.ALLOWED_HOSTS = ["console.example.com", ".sims.example.org"]
    for url in ["https://console.example.com/carrier/usage/", "https://CONSOLE.example.com./x", "https://eu.sims.example.org/"]:
        with pytest.raises(UnsafeUrl, match="this console's own address"):
            check_url(url)
    with pytest.raises(UnsafeUrl, match="own address"):
        check_url("https://console.internal:8443/", own_hosts=["console.internal:8443"])
    check_url("https://hooks.example.com/")


def test_the_setting_allows_private_addresses(db, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    assert check_url("http://127.0.0.1:9000/hook")[1] == ["127.0.0.1"]
    with pytest.raises(UnsafeUrl, match="must start with https://"):
        check_url("gopher://127.0.0.1/")


def test_a_product_has_a_bounded_number_of_webhooks(product, owner, public_dns):
    for n in range(MAX_WEBHOOKS_PER_PRODUCT):
        add_webhook(product=product, url=f"https://h{n}.example.com/", user=owner)
    with pytest.raises(UnsafeUrl, match="at most"):
        add_webhook(product=product, url="https://one-more.example.com/", user=owner)


def test_each_webhook_gets_a_long_random_secret(product, owner, public_dns):
    one = add_webhook(product=product, url="https://a.example.com/", user=owner)
    two = add_webhook(product=product, url="https://b.example.com/", user=owner)
    assert one.secret.startswith("whsec_") and len(one.secret) > 40 and one.secret != two.secret


def test_the_settings_parse_the_allow_flag_strictly(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from lib.env import env_bool

    monkeypatch.setenv("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="WEBHOOKS_ALLOW_PRIVATE_ADDRESSES"):
        env_bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", default=False)

"""SMS to and from SIMs, through each SIM's carrier adapter (Capability.SMS).

Sending is recorded, then carried, as network changes are (carriers/push.py): `send_to_sim` and a
"Send SMS" to a filter (`start_batch`) write each message `queued` in the request's transaction, and
the SMS worker (`send_queued`, a task per carrier account) hands them to the carrier one by one, at
most SMS_PER_SECOND a second per account (the account's settings' "sms_per_second" wins):
- taken: `sent`, with the carrier's message id;
- refused: `failed` with the carrier's reason (not retried: the person sends again);
- carrier unavailable: still `queued`, tried again after a growing wait (push.RETRY_WAITS), by a task
  queued for then and by the periodic tick.
A message still queued and held by no worker can be canceled (`cancel_queued`: emnify's "Cancel SMS").
A worker claims a few messages at a time (`claim`, `claimed_until`); one killed mid-send leaves them
queued and the next worker sends them once the claim runs out: at least once, as SMS centres do.

The carrier's delivery reports (`sms_reports`, asked by `poll` shortly after a send and on the tick;
or pushed to /carrier/sms/) move a message to `delivered` or `failed`. SMS the devices send (MO)
come from the carrier's push or from `received_sms` on the tick; `receive` stores them once each
(the carrier's id) as `received`, and writes a domain event "sms.received" per product, which the
product's webhooks deliver.

A "Send SMS" to more than SMS_BULK_JOB_ABOVE_SIMS SIMs records its messages in a background job
(`expand_batch`), a chunk at a time, each chunk committed with the batch's last SIM id: a worker
that dies leaves whole chunks, and the next run starts after the last one.
"""

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import QueryDict
from django.tasks import task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from carriers.adapters import adapter_for
from carriers.adapters.base import Capability, CarrierUnavailable, IncomingSms, SmsReport
from carriers.health import record_call
from carriers.models import AccountRoutine, CarrierAccount, SmsBatch, SmsMessage
from carriers.push import BUILT_IN, RETRY_WAITS
from products.models import Product
from sims.events import iso, write_events
from sims.listing import SimSelection
from sims.models import DomainEvent, Sim

log = logging.getLogger(__name__)

SMS_RECEIVED = "sms.received"  # the domain event's kind (DomainEvent.kind), and the webhook's type
CLAIM_SIZE = 100  # messages a worker takes at a time
CLAIM_FOR = timedelta(minutes=2)  # a killed worker's messages wait this long before the next sends them
REPORTS_FOR = timedelta(days=3)  # a sent message with no delivery report after this long is asked no more
BATCH_CHUNK = 2000  # SIMs per chunk of a background "Send SMS"
FIRST_POLL_AFTER = timedelta(seconds=5)  # after a send, the delivery reports are asked this much later

# GSM 03.38: the default alphabet (one septet each) and its extension table (two: escape + char).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")
GSM7_MAX = 160
UCS2_MAX = 70
PLACEHOLDERS = ("{iccid}", "{device_name}")


class SmsBodyError(ValueError):
    """The body cannot go in one SMS; the message says why and what to do."""


def body_length(body: str) -> tuple[str, int, int]:
    """(encoding, length in its units, the most one SMS holds): GSM-7 in septets, else UCS-2 in characters."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in body):
        return "GSM-7", sum(2 if char in GSM7_EXTENSION else 1 for char in body), GSM7_MAX
    # UCS-2 counts UTF-16 code units: an emoji takes two.
    return "UCS-2", len(body.encode("utf-16-le")) // 2, UCS2_MAX


def check_body(body: str) -> str:
    """The body to send, or SmsBodyError: empty, or longer than one SMS (160 GSM-7 characters, 70 otherwise)."""
    if not body.strip():
        raise SmsBodyError("Write the message: an SMS cannot be empty.")
    encoding, length, most = body_length(body)
    if length > most:
        hint = (
            f" It has characters outside the GSM alphabet (such as {_first_outside_gsm(body)!r}), so it is sent as UCS-2: "
            "without them it could hold 160."
            if encoding == "UCS-2"
            else " ([, ], {, }, |, ^, ~, \\ and € count twice.)"
        )
        raise SmsBodyError(f"The message is {length} characters long; one SMS holds {most} in {encoding}: shorten it by {length - most}.{hint}")
    return body


def _first_outside_gsm(body: str) -> str:
    return next((char for char in body if char not in GSM7_BASIC and char not in GSM7_EXTENSION), "")


def render(template: str, *, iccid: str, device_name: str) -> str:
    return template.replace("{iccid}", iccid).replace("{device_name}", device_name or "")


def check_template(template: str) -> str:
    """A bulk template: every placeholder known, and the body within one SMS for the longest values
    (a 20-digit ICCID; a device name as it comes, checked again per SIM)."""
    import re

    unknown = sorted(set(re.findall(r"\{[^{}]*\}", template)) - set(PLACEHOLDERS))
    if unknown:
        raise SmsBodyError(f"The template has {', '.join(unknown)}: the placeholders are {' and '.join(PLACEHOLDERS)}.")
    return check_body(render(template, iccid="8" * 20, device_name="")) and template


# --- Sending: the intent, in the request's transaction ---------------------------------------------


def carrier_sends_sms(sim: Sim) -> bool:
    account = sim.carrier_account if sim.carrier_account_id else None
    return Capability.SMS in adapter_for_capabilities(account)


def adapter_for_capabilities(account: CarrierAccount | None) -> frozenset[Capability]:
    from carriers.adapters import adapter_class

    return adapter_class(account.adapter if account is not None else "simulator").capabilities


def send_to_sim(*, sim: Sim, body: str, user: Any) -> SmsMessage:
    """Record one SMS to the SIM, queued; the worker sends it once the caller's transaction commits."""
    body = check_body(body)
    if not carrier_sends_sms(sim):
        raise SmsBodyError("This SIM's carrier account cannot send SMS through SIM Console: send it from the carrier's own console.")
    with transaction.atomic():
        message = SmsMessage.objects.create(
            sim=sim, product_id=sim.product_id, account_key=sim.carrier_account_id or BUILT_IN, direction=SmsMessage.Direction.MT,
            body=body, status=SmsMessage.Status.QUEUED, created_by=user if getattr(user, "pk", None) else None,
        )  # fmt: skip
        key = message.account_key
        transaction.on_commit(lambda: queue_send(key))
    return message


def cancel_queued(*, message_id: int) -> bool:
    """Cancel a message to a device that has not reached the carrier: queued, and held by no worker
    (one holding it may be handing it over now). False when it is past that."""
    now = timezone.now()
    return bool(
        SmsMessage.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            pk=message_id, direction=SmsMessage.Direction.MT, status=SmsMessage.Status.QUEUED,
        ).update(status=SmsMessage.Status.CANCELED, reason="", claim="", claimed_until=None, retry_at=None, updated_at=now)
    )  # fmt: skip


def selection_filters(product: Product, filters: dict[str, str]) -> SimSelection:
    """The SIMs the SIMs page's filter (its query's state, country, q, spikes, network...) selects now."""
    from sims.views import selection_for

    return selection_for(product, QueryDict(urlencode(filters)))


def start_batch(*, product: Product, user: Any, template: str, filters: dict[str, str], described: str) -> SmsBatch:
    """A "Send SMS" to every SIM of the filter: recorded here up to SMS_BULK_JOB_ABOVE_SIMS SIMs, by a
    background job above."""
    check_template(template)
    selection = selection_filters(product, filters)
    above = settings.SMS_BULK_JOB_ABOVE_SIMS
    many = selection.count_up_to(above + 1) > above
    with transaction.atomic():
        batch = SmsBatch.objects.create(
            product=product, template=template, filters=filters, described=described[:300],
            created_by=user if getattr(user, "pk", None) else None,
        )  # fmt: skip
        if many:
            transaction.on_commit(lambda: expand_batch_task.enqueue(batch.pk))
    if not many:
        expand_batch(batch_id=batch.pk)
        batch.refresh_from_db()
    return batch


@task
def expand_batch_task(batch_id: int) -> None:
    expand_batch(batch_id=batch_id)


def expand_batch(*, batch_id: int) -> SmsBatch:
    """Record the batch's messages, a chunk of SIMs at a time after its last one, and queue their sends."""
    batch = SmsBatch.objects.select_related("product").get(pk=batch_id)
    if batch.status == SmsBatch.Status.DONE:
        return batch
    SmsBatch.objects.filter(pk=batch.pk).update(status=SmsBatch.Status.RUNNING, error="")
    try:
        sims = selection_filters(batch.product, batch.filters).queryset
        total = batch.recorded + batch.skipped + sims.filter(pk__gt=batch.last_sim_id).count()
        SmsBatch.objects.filter(pk=batch.pk).update(total=total)
        accounts: set[int] = set()
        while True:
            rows = list(
                sims.filter(pk__gt=batch.last_sim_id)
                .order_by("pk")
                .values_list("pk", "iccid", "carrier_account_id", "carrier_account__adapter", "device__name")[:BATCH_CHUNK]
            )
            if not rows:
                break
            accounts |= _record_chunk(batch, rows)
    except Exception as error:
        SmsBatch.objects.filter(pk=batch.pk).update(status=SmsBatch.Status.FAILED, error=f"{type(error).__name__}: {error}"[:300])
        raise
    SmsBatch.objects.filter(pk=batch.pk).update(status=SmsBatch.Status.DONE)
    for key in sorted(accounts):
        queue_send(key)
    batch.refresh_from_db()
    return batch


def _record_chunk(batch: SmsBatch, rows: list[tuple]) -> set[int]:
    from carriers.adapters import adapter_class

    now = timezone.now()
    messages, skipped, accounts = [], 0, set()
    for pk, iccid, account_id, adapter_code, device_name in rows:
        body = render(batch.template, iccid=iccid, device_name=device_name or "")
        try:
            check_body(body)
        except SmsBodyError:
            skipped += 1
            continue
        if Capability.SMS not in adapter_class(adapter_code or "simulator").capabilities:
            skipped += 1
            continue
        key = account_id or BUILT_IN
        accounts.add(key)
        messages.append(
            SmsMessage(
                sim_id=pk, product_id=batch.product_id, account_key=key, direction=SmsMessage.Direction.MT, body=body,
                status=SmsMessage.Status.QUEUED, created_by_id=batch.created_by_id, batch=batch, created_at=now, updated_at=now,
            )
        )  # fmt: skip
    with transaction.atomic():
        locked = SmsBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.last_sim_id >= rows[-1][0]:
            batch.last_sim_id = locked.last_sim_id  # another worker did this chunk
            return set()
        SmsMessage.objects.bulk_create(messages, batch_size=1000)
        locked.recorded += len(messages)
        locked.skipped += skipped
        locked.last_sim_id = rows[-1][0]
        locked.save(update_fields=["recorded", "skipped", "last_sim_id"])
    batch.last_sim_id, batch.recorded, batch.skipped = locked.last_sim_id, locked.recorded, locked.skipped
    return accounts


# --- The worker -------------------------------------------------------------------------------------


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class WallClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Throttle:
    """At most `per_second` calls in any second: the calls of a window of one second, then a wait for the next."""

    def __init__(self, per_second: int, clock: Clock) -> None:
        self.per_second = max(1, per_second)
        self.clock = clock
        self.window_start: float | None = None
        self.count = 0

    def wait(self) -> None:
        now = self.clock.monotonic()
        if self.window_start is None or now - self.window_start >= 1:
            self.window_start, self.count = now, 0
        elif self.count >= self.per_second:
            self.clock.sleep(self.window_start + 1 - now)
            self.window_start, self.count = self.clock.monotonic(), 0
        self.count += 1


@dataclass
class SendReport:
    sent: int = 0
    refused: int = 0
    unavailable: str = ""
    accounts: list[int] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{self.sent} SMS sent, {self.refused} refused"
        return text + (f"; carrier unavailable: {self.unavailable}" if self.unavailable else "")


def per_second(account: CarrierAccount | None) -> int:
    own = (account.settings or {}).get("sms_per_second") if account is not None else None
    return int(own) if own else settings.SMS_PER_SECOND


@task
def send_sms_task(account_key: int) -> str:
    report = send_queued(account_key=account_key)
    if report.sent:
        poll_sms_task.using(run_after=timezone.now() + FIRST_POLL_AFTER).enqueue(account_key)
    return report.summary()


@task
def poll_sms_task(account_key: int) -> str:
    return poll(account_key=account_key, now=timezone.now())


def queue_send(account_key: int, *, run_after: datetime | None = None) -> None:
    """A send task for the account, unless one is waiting to start already."""
    waiting = DBTaskResult.objects.ready().filter(task_path=send_sms_task.module_path, args_kwargs__args=[account_key])
    if run_after is None and waiting.exists():
        return
    (send_sms_task.using(run_after=run_after) if run_after else send_sms_task).enqueue(account_key)


def _due(account_key: int, now: datetime) -> Any:
    return SmsMessage.objects.filter(
        Q(retry_at__isnull=True) | Q(retry_at__lte=now),
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        account_key=account_key,
        status=SmsMessage.Status.QUEUED,
        direction=SmsMessage.Direction.MT,
    )


def send_queued(*, account_key: int, clock: Clock | None = None) -> SendReport:
    """Send the account's due messages until none is left (or the carrier is unavailable), throttled."""
    report = SendReport()
    account = CarrierAccount.objects.filter(pk=account_key).first() if account_key else None
    if account_key and account is None:
        return report
    adapter = adapter_for(account)
    throttle = Throttle(per_second(account), clock or WallClock())
    holder = uuid.uuid4().hex
    while True:
        now = timezone.now()
        ids = list(_due(account_key, now).order_by("pk").values_list("pk", flat=True)[: min(CLAIM_SIZE, throttle.per_second * 60)])
        if not ids:
            return report
        _due(account_key, now).filter(pk__in=ids).update(claim=holder, claimed_until=now + CLAIM_FOR)
        batch = list(
            SmsMessage.objects.filter(claim=holder, status=SmsMessage.Status.QUEUED).order_by("pk").values_list("pk", "sim__iccid", "body", "attempts")
        )
        for index, (pk, iccid, body, attempts) in enumerate(batch):
            throttle.wait()
            try:
                result = adapter.send_sms(iccid, body)
            except CarrierUnavailable as error:
                record_call(account_key=account_key, what="send_sms", ok=False, error=str(error), sims=1)
                report.unavailable = str(error)
                _retry_later(account_key, batch[index:], str(error))
                return report
            at = timezone.now()
            if result.ok:
                SmsMessage.objects.filter(pk=pk).update(
                    status=SmsMessage.Status.SENT, carrier_message_id=result.message_id[:64], sent_at=at, updated_at=at,
                    reason="", claim="", claimed_until=None, retry_at=None,
                )  # fmt: skip
                report.sent += 1
            else:
                SmsMessage.objects.filter(pk=pk).update(
                    status=SmsMessage.Status.FAILED, reason=(result.reason or "Refused by the carrier (no reason given).")[:300],
                    updated_at=at, claim="", claimed_until=None, retry_at=None,
                )  # fmt: skip
                report.refused += 1
        record_call(account_key=account_key, what="send_sms", ok=True, sims=len(batch))


def _retry_later(account_key: int, rows: Sequence[tuple], error: str) -> None:
    now = timezone.now()
    by_attempts: dict[int, list[int]] = defaultdict(list)
    for pk, _, _, attempts in rows:
        by_attempts[attempts].append(pk)
    waits = {attempts: RETRY_WAITS[min(attempts, len(RETRY_WAITS) - 1)] for attempts in by_attempts}
    with transaction.atomic():
        for attempts, pks in by_attempts.items():
            SmsMessage.objects.filter(pk__in=pks, status=SmsMessage.Status.QUEUED).update(
                attempts=attempts + 1, retry_at=now + waits[attempts], claim="", claimed_until=None, updated_at=now,
                reason=f"Carrier unavailable, tried again shortly: {error}"[:300],
            )  # fmt: skip
    queue_send(account_key, run_after=now + min(waits.values()))


# --- Delivery reports and SMS from devices ------------------------------------------------------------


def apply_reports(account_key: int, reports: Iterable[SmsReport]) -> int:
    """The carrier's word on messages sent: delivered or failed (a report never moves a message back)."""
    changed = 0
    now = timezone.now()
    for report in reports:
        mine = SmsMessage.objects.filter(account_key=account_key, direction=SmsMessage.Direction.MT, carrier_message_id=report.message_id)
        if report.status == "delivered":
            changed += mine.filter(status__in=[SmsMessage.Status.SENT, SmsMessage.Status.QUEUED]).update(
                status=SmsMessage.Status.DELIVERED, delivered_at=now, updated_at=now
            )
        elif report.status == "failed":
            changed += mine.exclude(status=SmsMessage.Status.DELIVERED).update(
                status=SmsMessage.Status.FAILED, reason=(report.reason or "The carrier could not deliver it.")[:300], updated_at=now
            )
    return changed


def receive(account_key: int | None, incoming: Sequence[IncomingSms]) -> tuple[int, list[str]]:
    """Store the SMS devices sent, once each, and write their "sms.received" events (one per product).
    `account_key` None: the carrier's push, which names no account (the SIM's own account is taken).
    (stored, the ICCIDs that are no SIM of the console)."""
    if not incoming:
        return 0, []
    sims = {
        iccid: (pk, product_id, account_id)
        for iccid, pk, product_id, account_id in Sim.objects.filter(iccid__in={sms.iccid for sms in incoming}).values_list(
            "iccid", "pk", "product_id", "carrier_account_id"
        )
    }
    unknown = sorted({sms.iccid for sms in incoming if sms.iccid not in sims})
    now = timezone.now()
    with transaction.atomic():
        rows: dict[tuple[int, str], SmsMessage] = {}
        for sms in incoming:
            if sms.iccid not in sims:
                continue
            pk, product_id, account_id = sims[sms.iccid]
            key = account_key if account_key is not None else (account_id or BUILT_IN)
            rows[(key, sms.message_id)] = SmsMessage(
                sim_id=pk, product_id=product_id, account_key=key, direction=SmsMessage.Direction.MO, body=sms.body[:160],
                status=SmsMessage.Status.RECEIVED, carrier_message_id=sms.message_id[:64], received_at=sms.received_at,
                created_at=sms.received_at, updated_at=now,
            )  # fmt: skip
        seen = set()
        for key in {key for key, _ in rows}:
            ids = [message_id for k, message_id in rows if k == key]
            seen |= {
                (key, message_id)
                for message_id in SmsMessage.objects.filter(
                    account_key=key, direction=SmsMessage.Direction.MO, carrier_message_id__in=ids
                ).values_list("carrier_message_id", flat=True)
            }
        new = [row for key, row in rows.items() if key not in seen]
        SmsMessage.objects.bulk_create(new, ignore_conflicts=True)
        iccid_of = {pk: iccid for iccid, (pk, _, _) in sims.items()}
        by_product: dict[int | None, list[SmsMessage]] = defaultdict(list)
        for row in new:
            by_product[row.product_id].append(row)
        events = [
            DomainEvent(
                kind=SMS_RECEIVED, product_id=product_id, created_at=now,
                data={
                    "action": SMS_RECEIVED, "actor": {"kind": "carrier", "name": "carrier"}, "occurred_at": iso(now),
                    "event_count": len(rows_of),
                    "messages": [
                        {"id": row.carrier_message_id, "iccid": iccid_of[row.sim_id], "body": row.body, "received_at": iso(row.received_at)}
                        for row in rows_of
                    ],
                },
            )  # fmt: skip
            for product_id, rows_of in by_product.items()
            if product_id is not None
        ]
        if events:
            write_events(events)
    return len(new), unknown


def poll(*, account_key: int, now: datetime) -> str:
    """Ask the carrier about the account's messages on their way, and fetch the SMS its devices sent."""
    account = CarrierAccount.objects.filter(pk=account_key).first() if account_key else None
    if account_key and account is None:
        return ""
    if Capability.SMS not in adapter_for_capabilities(account):
        return ""
    adapter = adapter_for(account)
    waiting = list(
        SmsMessage.objects.filter(
            account_key=account_key, direction=SmsMessage.Direction.MT, status=SmsMessage.Status.SENT, sent_at__gte=now - REPORTS_FOR
        ).values_list("carrier_message_id", flat=True)[:5000]
    )
    routine, _ = AccountRoutine.objects.get_or_create(account_key=account_key)
    since = routine.sms_until or now - timedelta(hours=1)
    try:
        updated = apply_reports(account_key, adapter.sms_reports(waiting)) if waiting else 0
        received, _ = receive(account_key, list(adapter.received_sms(since=since, until=now)))
    except CarrierUnavailable as error:
        record_call(account_key=account_key, what="sms_reports", ok=False, error=str(error))
        return f"SMS of account {account_key}: carrier unavailable ({error})"
    AccountRoutine.objects.filter(pk=routine.pk).update(sms_until=now)
    return f"SMS of account {account_key}: {updated} delivery reports, {received} received"


def sms_due(*, now: datetime) -> str:
    """The periodic tick's part: a send for each account with messages due, and a poll for each account
    that sends SMS."""
    due = SmsMessage.objects.filter(
        Q(retry_at__isnull=True) | Q(retry_at__lte=now),
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        status=SmsMessage.Status.QUEUED,
        direction=SmsMessage.Direction.MT,
    )
    keys = sorted(set(due.order_by().values_list("account_key", flat=True).distinct()))
    for key in keys:
        queue_send(key)
    polled = [BUILT_IN, *CarrierAccount.objects.order_by("pk").values_list("pk", flat=True)]
    for key in polled:
        poll_sms_task.enqueue(key)
    return f"SMS to send for {len(keys)} carrier accounts" if keys else ""


# --- Reading ----------------------------------------------------------------------------------------


def sim_messages(sim_id: int, *, before: datetime | None = None, limit: int = 50) -> list[SmsMessage]:
    """A SIM's messages, newest first (the SIM page's SMS card and the SIM's timeline): `before`, a
    page's last `created_at`, for the next page."""
    messages = SmsMessage.objects.filter(sim_id=sim_id)
    if before is not None:
        messages = messages.filter(created_at__lt=before)
    return list(messages.select_related("created_by").order_by("-created_at", "-id")[:limit])

"""Digests: the SIMs of a product paused at their data limit, one digest an hour; yesterday's usage
spikes of a product, one digest a day. Run by the periodic tick (sims.periodic.every_tick).

Each digest is one Digest row, unique per (product, kind, window), and it is sent in the transaction
that marks it sent: however many ticks or workers run at once, each window's digest goes out once.

Paused SIMs are counted into the digest of the hour they were paused in as their domain events are
published (notifications.events). An event published after its hour's digest went out (a worker
down for a while) is counted into the digest of the hour it was published in: late, never lost,
never twice.
"""

import logging
from datetime import UTC, date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count

from notifications import messages
from notifications.models import Digest, DigestDay, Kind
from notifications.notify import notify
from notifications.emails import send_unsent_emails
from products.models import Product
from sims.models import UsageSpike
from sims.periodic import LATE_RECORDS

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
# Yesterday's spikes are final once its late usage is in and the tick has looked again
# (sims.periodic looks until its usage window starts an hour after midnight).
SPIKES_FINAL_AFTER = 2 * LATE_RECORDS


def run_digests(now: datetime) -> str:
    """The periodic tick's part (registered by notifications.apps): due digests, and emails left unsent."""
    sent = send_pause_digests(now=now) + send_spikes_digests(now=now)
    late = send_unsent_emails(now=now)
    parts = [f"{sent:,} digest{'s' if sent != 1 else ''} sent"] if sent else []
    if late:
        parts.append(f"{late:,} notification email{'s' if late != 1 else ''} sent late")
    return ", ".join(parts)


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


# --- SIMs paused at their data limit -------------------------------------------------------------


def count_paused(*, product_id: int, iccids: list[str], paused_at: datetime, now: datetime) -> None:
    """Add SIMs paused at their limit to the product's digest of their hour (or, if that one was sent,
    of a later one). In the caller's transaction: the publishing of their event."""
    for window in (hour_of(paused_at), hour_of(now), hour_of(now) + HOUR):
        digest = _locked_digest(product_id, Kind.SIMS_PAUSED, window)
        if digest.sent_at is None:
            break
    digest.count += len(iccids)
    digest.iccids = (digest.iccids + iccids)[: messages.ITEMS_LISTED]
    digest.save(update_fields=["count", "iccids"])


def _locked_digest(product_id: int, kind: str, window: datetime) -> Digest:
    # Inserted if missing without an error to roll back to (ON CONFLICT DO NOTHING), then locked:
    # two publishers of the same hour count in turn.
    Digest.objects.bulk_create([Digest(product_id=product_id, kind=kind, window_start=window)], ignore_conflicts=True)
    return Digest.objects.select_for_update().get(product_id=product_id, kind=kind, window_start=window)


def send_pause_digests(*, now: datetime) -> int:
    """Send the digests of the hours that are over. How many were sent."""
    due = Digest.objects.filter(kind=Kind.SIMS_PAUSED, sent_at__isnull=True, window_start__lte=now - HOUR)
    sent = 0
    for digest_id in due.order_by("window_start").values_list("pk", flat=True):
        try:
            sent += _send_pause_digest(digest_id, now=now)
        except Exception:
            log.exception("Pause digest %s could not be sent; the next tick tries again.", digest_id)
    return sent


def _send_pause_digest(digest_id: int, *, now: datetime) -> bool:
    with transaction.atomic():
        # Claimed by the update: a second tick's waits for this one and then matches nothing.
        if not Digest.objects.filter(pk=digest_id, sent_at__isnull=True).update(sent_at=now):
            return False
        digest = Digest.objects.select_related("product").get(pk=digest_id)
        message = messages.sims_paused(
            slug=digest.product.slug, count=digest.count, iccids=digest.iccids, window_start=digest.window_start
        )
        notify(product_id=digest.product_id, kind=Kind.SIMS_PAUSED, message=message)
    return True


# --- Yesterday's spikes -----------------------------------------------------------------------------


def send_spikes_digests(*, now: datetime) -> int:
    """Once a day, when yesterday's spikes are final: a digest per product that had any. How many were sent."""
    midnight = datetime.combine(now.astimezone(UTC).date(), time(), tzinfo=UTC)
    day = midnight.date() - timedelta(days=1)
    if now < midnight + SPIKES_FINAL_AFTER or DigestDay.objects.filter(kind=Kind.SPIKES, day=day).exists():
        return 0
    with transaction.atomic():
        try:
            with transaction.atomic():
                DigestDay.objects.create(kind=Kind.SPIKES, day=day)
        except IntegrityError:
            return 0  # another worker's tick wrote them
        found = UsageSpike.objects.filter(day=day).values("product_id").annotate(total=Count("id")).order_by("product_id")
        totals = {row["product_id"]: row["total"] for row in found}
        for product in Product.objects.filter(pk__in=totals):
            _send_spikes_digest(product, day=day, total=totals[product.pk], window_start=midnight - timedelta(days=1), now=now)
    return len(totals)


def _send_spikes_digest(product: Product, *, day: date, total: int, window_start: datetime, now: datetime) -> None:
    Digest.objects.create(product=product, kind=Kind.SPIKES, window_start=window_start, count=total, sent_at=now)
    largest = list(
        UsageSpike.objects.filter(product=product, day=day).select_related("sim").order_by("-factor")[: messages.ITEMS_LISTED]
    )
    message = messages.spikes(slug=product.slug, day=day, count=total, largest=largest)
    notify(product_id=product.pk, kind=Kind.SPIKES, message=message)

"""The periodic work, every USAGE_FETCH_MINUTES: usage from the carrier, a new billing period's
unpausing, the time trigger, yesterday's spikes, the domain events whose task did not publish them,
and the work apps above registered with `every_tick` (notifications' digests).

Scheduling: each tick is a task with `run_after` at its slot (a multiple of the interval since
the epoch). A slot is claimed by inserting its UsageTick row (unique slot) in the same transaction
that inserts the task row, so several workers finishing ticks at once queue the next slot once,
and a claimed slot always has its task. A tick queues the next slot before it works, so a tick
that fails does not end the chain; `usage_tick --schedule` (run by ./run) starts it again.
"""

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.tasks import task
from django.utils import timezone

from sims.carriers import get_carrier
from sims.carriers.base import HOUR
from sims.events import publish_stragglers
from sims.limits import unpause_for_new_period
from sims.models import Sim, State, UsageTick
from sims.spikes import detect_spikes
from sims.connectivity_counts import fold_connectivity_deltas
from sims.state_counts import fold_state_deltas
from sims.triggers import activate_long_provisioned
from sims.usage import ingest_usage

# The seed: usage records may arrive up to an hour late. Ingestion skips records it has, so
# fetching the last hour again costs a little and loses nothing.
LATE_RECORDS = HOUR
SIM_FETCH_CHUNK = 20_000

log = logging.getLogger(__name__)

# Work that apps above sims do on every tick (billing closes last month, notifications send digests),
# by name: sims imports none of them.
TickWork = Callable[..., str]
_work_of_other_apps: dict[str, TickWork] = {}


def every_tick(work: TickWork) -> TickWork:
    """Run `work(now=...)` at the end of every tick, after the outbox's stragglers are published; what it
    returns (a phrase, or "") ends the tick's summary. An app registers its work from its AppConfig.ready
    (once per name, however often ready runs), so the tick calls up without importing it."""
    _work_of_other_apps[f"{work.__module__}.{work.__qualname__}"] = work
    return work


def _run_registered_work(now: datetime) -> str:
    """Each registered piece in turn; one that fails is logged and the others still run."""
    summaries = []
    for name, work in _work_of_other_apps.items():
        try:
            summaries.append(work(now=now))
        except Exception:
            log.exception("Periodic work %s failed; the next tick runs it again.", name)
    return "".join(f" {summary}." for summary in summaries if summary)


def slot_length() -> timedelta:
    return timedelta(minutes=settings.USAGE_FETCH_MINUTES)


def current_slot(now: datetime) -> datetime:
    """The latest slot at or before `now`: slots are whole multiples of the interval since the epoch."""
    step = slot_length()
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + (now - epoch) // step * step


def queue_tick(*, slot: datetime) -> bool:
    """Queue the tick due at `slot`, unless one was queued for it already. True when this call queued it."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                tick = UsageTick.objects.create(slot=slot)
        except IntegrityError:
            return False
        # In the transaction, not on commit: the task row lives in the same database, so the slot's
        # row and its task commit together or not at all (a slot claimed without a task would stop the chain).
        run_usage_tick.using(run_after=slot).enqueue(tick.pk)
    return True


def ensure_ticks_queued(*, now: datetime | None = None) -> int:
    """Queue the current slot's tick (it runs at once) and the next one, where not queued yet."""
    now = now or timezone.now()
    slot = current_slot(now)
    return queue_tick(slot=slot) + queue_tick(slot=slot + slot_length())


# The task lives beside queue_tick: each tick queues the next.
@task
def run_usage_tick(tick_id: int) -> str:
    return run_scheduled_tick(tick_id=tick_id)


def run_scheduled_tick(*, tick_id: int, now: datetime | None = None) -> str:
    now = now or timezone.now()
    queue_tick(slot=current_slot(now) + slot_length())
    return run_periodic_work(now=now, tick=UsageTick.objects.get(pk=tick_id))


def run_periodic_work(*, now: datetime | None = None, tick: UsageTick | None = None) -> str:
    """One tick: fetch and ingest usage, unpause for a new period, time triggers, yesterday's spikes,
    and the outbox's stragglers."""
    now = now or timezone.now()
    tick = tick or UsageTick(slot=None)
    tick.started_at = now
    tick.usage_since = last_fetch_until(default=now) - LATE_RECORDS
    tick.save()
    report = ingest_usage(
        # The built-in simulator's SIMs; carriers fetches each carrier account's through its adapter (every_tick).
        get_carrier().usage_records(sims=sims_on_network(since=tick.usage_since, account_id=None), since=tick.usage_since, until=now),
        now=now,
    )
    unpaused = unpause_for_new_period(now=now)
    activated = activate_long_provisioned(now=now)
    fold_state_deltas()
    fold_connectivity_deltas()
    # Yesterday is final once its late records could all be in: until then each tick looks again
    # (detection replaces its own findings); afterwards a tick of a big fleet skips the work.
    midnight = datetime.combine(now.date(), time(), tzinfo=UTC)
    spikes = detect_yesterdays_spikes(now=now) if tick.usage_since < midnight + LATE_RECORDS else "yesterday checked"
    late = publish_stragglers(now=now)
    registered = _run_registered_work(now)
    tick.usage_until = now
    tick.finished_at = timezone.now()
    tick.summary = (
        f"{report.summary()} {unpaused:,} unpaused for a new period, {activated:,} activated by the time rule; {spikes}."
        + (f" {late:,} events published late." if late else "")
        + registered
    )[:300]
    tick.save(update_fields=["usage_until", "finished_at", "summary"])
    return tick.summary


def detect_yesterdays_spikes(*, now: datetime) -> str:
    return f"{detect_spikes(day=now.date() - timedelta(days=1)):,} spikes yesterday"


def last_fetch_until(*, default: datetime) -> datetime:
    """The end of the newest window of usage fetched (by a tick, or by seed_demo's history)."""
    return UsageTick.objects.filter(finished_at__isnull=False).aggregate(until=Max("usage_until"))["until"] or default


def sims_on_network(*, since: datetime, account_id: int | None) -> Iterator[tuple[str, str]]:
    """(ICCID, home country) of the SIMs of a carrier account (None: of the built-in simulator, SIMs with
    no account) that may have traffic in the window: active and provisioned ones, and those paused
    within it (their records from before the pause may still come)."""
    on_network = Q(state__in=[State.ACTIVE, State.PROVISIONED]) | Q(state=State.PAUSED, state_changed_at__gte=since)
    account = Q(carrier_account__isnull=True) if account_id is None else Q(carrier_account_id=account_id)
    after = 0
    # Pages by id, each read whole: ingestion commits between pages, and an open cursor would hold a read.
    while page := list(
        Sim.objects.filter(on_network, account, pk__gt=after).order_by("pk").values_list("pk", "iccid", "home_country")[
            :SIM_FETCH_CHUNK
        ]
    ):
        after = page[-1][0]
        yield from ((iccid, country) for _, iccid, country in page)

"""One timeline per SIM: its lifecycle changes (SimEvent), what the network saw (NetworkEvent), its usage
by day (SimDailyUsage), the devices it was in (DeviceAssignment, read through the SIM's related name:
sims imports nothing of devices), and what other apps register (SMS: `register_source`).

Newest first, paged by a (time, source, id) cursor: each source is asked for the entries strictly
after the cursor in that order, at most one page of them, by its (sim, time) index; the page is the
newest of those. So a page costs one query per source whatever the SIM's history (no OFFSET), and
pages neither repeat nor skip an entry, even where entries share a time. Once the sources asked so far
fill the page, the others are asked only for entries newer than its oldest candidate (`newer_than`): a
busy SIM's network events fill a page with the last day, and the other sources then read a day of their
index, not a page each that the merge would throw away (bench/sim_page_timeline.py).

Each entry says where it came from ("Carrier network", "Console", "Usage records"); the first page
also says how fresh each source is ("network events up to 14:02", from the newest one received).
"""

import base64
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import cache, cached_property

from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django_countries.fields import Country

from lib.units import MB
from sims.models import NetworkEvent, Sim, SimDailyUsage, SimEvent, UsageTick

PAGE_SIZE = 50

# Where an entry came from, as a person reads it.
CONSOLE = "Console"
NETWORK = "Carrier network"
USAGE = "Usage records"


@dataclass(frozen=True)
class Cursor:
    """The last entry of a page: the next page starts strictly after it (older)."""

    at: datetime
    source: str
    id: int

    def encode(self) -> str:
        raw = f"{self.at.isoformat()}|{self.source}|{self.id}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        """Raises ValueError for anything that is not a cursor this module wrote."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            at_text, source, id_text = raw.split("|")
            at = datetime.fromisoformat(at_text)
            if at.tzinfo is None or not source.isidentifier():
                raise ValueError(text)
            return cls(at=at, source=source, id=int(id_text))
        except (UnicodeDecodeError, ValueError, TypeError) as error:
            raise ValueError(f"Not a timeline position: {text!r}") from error


@dataclass(frozen=True)
class Entry:
    at: datetime
    source: str  # the Source's key: the cursor's tie-breaker
    id: int
    title: str
    origin: str  # CONSOLE, NETWORK, USAGE
    detail: str = ""
    kind: str = ""  # a CSS modifier: "attach", "reject", "usage"...

    @property
    def key(self) -> tuple[datetime, str, int]:
        return (self.at, self.source, self.id)


@dataclass(frozen=True)
class Source:
    """One kind of entry. `entries(sim, after, limit)` returns at most `limit` entries strictly older than
    `after` in (time, source, id) order (all of them from the newest when `after` is None), newest first,
    in one query; once the page is full, the timeline calls `entries(sim, after, limit, newer_than=bound)`
    if it takes `newer_than`, where only entries strictly newer than `bound` are of use (`window` builds
    both bounds; a source without it is merged all the same); `fresh(sim)` says how fresh the source is
    ("" when there is nothing to say)."""

    key: str
    entries: Callable[..., list[Entry]]
    fresh: Callable[[Sim], str] = field(default=lambda sim: "")

    @cached_property
    def takes_a_bound(self) -> bool:
        return "newer_than" in inspect.signature(self.entries).parameters


def older_than(cursor: Cursor | None, source: str, at_field: str = "at", id_field: str = "id") -> Q:
    """The rows of `source` that come after `cursor` in newest-first (time, source, id) order."""
    if cursor is None:
        return Q()
    if source < cursor.source:  # same time: this source sorts below the cursor's
        return Q(**{f"{at_field}__lte": cursor.at})
    if source > cursor.source:
        return Q(**{f"{at_field}__lt": cursor.at})
    # At or before the cursor's time, less its time's rows from its id up: a range on the (sim, time) index
    # read backwards until the page is full (an OR of two ranges would read the SIM's whole history).
    return Q(**{f"{at_field}__lte": cursor.at}) & ~Q(**{at_field: cursor.at, f"{id_field}__gte": cursor.id})


def newer_than(bound: Cursor | None, source: str, at_field: str = "at", id_field: str = "id") -> Q:
    """The rows of `source` that come before `bound` in newest-first (time, source, id) order."""
    if bound is None:
        return Q()
    if source < bound.source:  # same time: this source sorts below the bound's
        return Q(**{f"{at_field}__gt": bound.at})
    if source > bound.source:
        return Q(**{f"{at_field}__gte": bound.at})
    return Q(**{f"{at_field}__gte": bound.at}) & ~Q(**{at_field: bound.at, f"{id_field}__lte": bound.id})


def window(after: Cursor | None, bound: Cursor | None, source: str, at_field: str = "at", id_field: str = "id") -> Q:
    """The rows of `source` older than `after` and newer than `bound`: one range of its (sim, time) index."""
    return older_than(after, source, at_field, id_field) & newer_than(bound, source, at_field, id_field)


def clock(moment: datetime | None) -> str:
    """14:02 today, else 6 Dec 14:02 (UTC)."""
    if moment is None:
        return ""
    moment = moment.astimezone(UTC)
    if moment.date() == timezone.now().date():
        return f"{moment:%H:%M}"
    return f"{moment.day} {moment:%b %H:%M}"


# --- Lifecycle (the console's own changes) ---------------------------------------------------------------


def _lifecycle(sim: Sim, after: Cursor | None, limit: int, newer_than: Cursor | None = None) -> list[Entry]:
    rows = (
        SimEvent.objects.filter(window(after, newer_than, "lifecycle", "created_at"), sim=sim)
        .order_by("-created_at", "-id")
        .only("id", "created_at", "action", "from_state", "to_state", "actor_kind", "actor_name", "reason")[:limit]
    )
    entries = []
    for event in rows:
        action = event.action.replace("_", " ").capitalize()
        change = (
            f"{event.get_from_state_display()} → {event.get_to_state_display()}"
            if event.from_state != event.to_state
            else event.get_to_state_display()
        )
        detail = f"{change}, by {event.actor_label}" + (f": {event.reason}" if event.reason else "")
        entries.append(Entry(event.created_at, "lifecycle", event.pk, action, CONSOLE, detail, kind="lifecycle"))
    return entries


# --- Network events --------------------------------------------------------------------------------------


def _network(sim: Sim, after: Cursor | None, limit: int, newer_than: Cursor | None = None) -> list[Entry]:
    rows = NetworkEvent.objects.filter(window(after, newer_than, "network"), sim=sim).order_by("-at", "-id")[:limit]
    return [Entry(e.at, "network", e.pk, e.get_kind_display(), NETWORK, _network_detail(e), kind=e.kind) for e in rows]


def _network_detail(event: NetworkEvent) -> str:
    parts = []
    if event.kind == NetworkEvent.Kind.AUTH_REJECT and event.cause:
        parts.append(event.cause)
    if event.kind == NetworkEvent.Kind.SESSION_END and event.bytes:
        parts.append(f"{event.bytes / MB:,.2f} MB")
    parts += [p for p in (event.operator, _country_name(str(event.country), get_language()) if event.country else "", event.rat) if p]
    if event.cell:
        parts.append(f"cell {event.cell}")
    if event.imei:
        parts.append(f"IMEI {event.imei}")
    return " · ".join(parts)


@cache
def _country_name(code: str, language: str | None) -> str:
    # django_countries looks the whole list up again for each name: a tenth of a busy page's timeline.
    return str(Country(code=code).name)


def _network_fresh(sim: Sim) -> str:
    # When the SIM's newest event arrived: read by the (sim, at) index, one row (a maximum of received_at
    # would read every event of a busy SIM's month).
    newest = NetworkEvent.objects.filter(sim=sim).order_by("-at", "-id").values_list("received_at", flat=True).first()
    return f"network events up to {clock(newest)}" if newest else "no network events received yet"


# --- Usage by day ----------------------------------------------------------------------------------------


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _usage(sim: Sim, after: Cursor | None, limit: int, newer_than: Cursor | None = None) -> list[Entry]:
    rows = SimDailyUsage.objects.filter(_days_older_than(after), _days_newer_than(newer_than), sim=sim)
    entries = []
    for row in rows.order_by("-day", "-id")[:limit]:
        detail = f"{row.bytes / MB:,.2f} MB" + (f", {row.sms:,} SMS" if row.sms else "")
        entries.append(Entry(_start_of(row.day), "usage", row.pk, f"Usage on {row.day.day} {row.day:%b}", USAGE, detail, kind="usage"))
    return entries


# A day's entry stands at its midnight (UTC): "older than the cursor" and "newer than the bound" in days.


def _days_older_than(after: Cursor | None) -> Q:
    if after is None:
        return Q()
    last = after.at.astimezone(UTC)
    day = last.date()
    at_midnight = last == _start_of(day)
    if "usage" < after.source or not at_midnight:
        return Q(day__lte=day)
    if "usage" > after.source:
        return Q(day__lt=day)
    return Q(day__lt=day) | Q(day=day, id__lt=after.id)


def _days_newer_than(bound: Cursor | None) -> Q:
    if bound is None:
        return Q()
    first = bound.at.astimezone(UTC)
    day = first.date()
    # A day's midnight is after the bound when the day is after the bound's; at the bound's own midnight,
    # only if it sorts above it.
    if "usage" < bound.source or first != _start_of(day):
        return Q(day__gt=day)
    if "usage" > bound.source:
        return Q(day__gte=day)
    return Q(day__gt=day) | Q(day=day, id__gt=bound.id)


def _usage_fresh(sim: Sim) -> str:
    until = UsageTick.objects.filter(finished_at__isnull=False).aggregate(until=Max("usage_until"))["until"]
    return f"usage records up to {clock(until)}" if until else "no usage fetched yet"


# --- Devices (devices.DeviceAssignment, through Sim.device_assignments) ------------------------------------


def _assignments(sim: Sim) -> QuerySet:
    return sim.device_assignments.all()  # devices' related name (sims imports nothing of devices)


def _devices(sim: Sim, after: Cursor | None, limit: int, newer_than: Cursor | None = None) -> list[Entry]:
    rows = (
        _assignments(sim)
        .filter(window(after, newer_than, "device", "started_at"))
        .select_related("device", "by_user")
        .order_by("-started_at", "-id")[:limit]
    )
    entries = []
    for assignment in rows:
        device = assignment.device
        name = str(device) + (f" (IMEI {device.imei})" if device.imei else "")
        origin = NETWORK if assignment.source == "network" else CONSOLE
        how = assignment.get_source_display() + (f" by {assignment.by_user}" if assignment.by_user_id else "")
        until = f", until {clock(assignment.ended_at)}" if assignment.ended_at else ", still there"
        entries.append(Entry(assignment.started_at, "device", assignment.pk, f"In device {name}", origin, how + until, kind="device"))
    return entries


# Newest-first ties are broken by this key, then by id; an app above sims adds its own (register_source).
SOURCES: list[Source] = [
    Source("lifecycle", _lifecycle),
    Source("network", _network, _network_fresh),
    Source("usage", _usage, _usage_fresh),
    Source("device", _devices),
]


def register_source(source: Source) -> Source:
    """Add a kind of entry (SMS) from the app that has it, at its AppConfig.ready; once per key."""
    if not source.key.isidentifier():
        raise ValueError(f"A timeline source's key is a plain word: {source.key!r}")
    SOURCES[:] = [known for known in SOURCES if known.key != source.key] + [source]
    return source


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    next: Cursor | None  # None: this is the oldest page
    fresh: list[str]  # the first page's "network events up to 14:02"...


def timeline(sim: Sim, *, after: Cursor | None = None, size: int = PAGE_SIZE) -> Page:
    """One page of the SIM's timeline, newest first, after `after` (None: from the newest)."""
    candidates: list[Entry] = []
    for source in SOURCES:
        if len(candidates) > size and source.takes_a_bound:
            # The page and the entry after it are known already: only newer entries can change them.
            candidates = sorted(candidates, key=lambda entry: entry.key, reverse=True)[: size + 1]
            candidates += source.entries(sim, after, size + 1, newer_than=Cursor(*candidates[-1].key))
        else:
            candidates += source.entries(sim, after, size + 1)
    candidates.sort(key=lambda entry: entry.key, reverse=True)
    page = candidates[:size]
    more = len(candidates) > size
    fresh = [phrase for source in SOURCES if (phrase := source.fresh(sim))] if after is None else []
    return Page(entries=page, next=Cursor(*page[-1].key) if more and page else None, fresh=fresh)


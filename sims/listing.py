"""The product's SIM list: filters, ICCID search and pagination that stay fast at a million SIMs.

Pages are cut by ICCID (keyset pagination: "the 50 after this ICCID"), so the last
page costs what the first does; OFFSET would read every row before it. The count
of matching SIMs is its own request, so the rows never wait for it.

An ICCID search matches digits anywhere in the ICCID. No index finds a substring,
but the ICCIDs of a fleet are few runs of consecutive serial numbers, so they
start in few ways: the SIMs that contain "036421" are those that start with
"036421", or with one of the product's distinct first digits then "036421", or
with one of its distinct first two digits then "036421", and so on. Each of those
beginnings is a range of the (product, iccid) index. The distinct beginnings are
found by a skip scan (one index probe each), and the search becomes a list of
ranges that are read and counted without reading the rest of the product. It
costs nothing at import: no other index, no other table.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from django.db import connection
from django.db.models import Exists, F, FilteredRelation, OuterRef, Q, QuerySet, TextChoices, Value
from django.db.models.expressions import RawSQL
from django.utils import timezone

from lib.calendar import billing_period_start
from lib.units import MB
from products.models import Product
from sims.limits import period_usage
from sims.models import Connectivity, NetworkStatus, Sim, SimConnectivity, SimPeriodUsage, UsageSpike

ICCID_MAX_DIGITS = 20
DIGITS = "0123456789"
# A product whose ICCIDs start in more distinct ways than this (a very short fragment, or
# ICCIDs from all over) is searched by reading its ICCIDs: correct, slower at a million.
# Each beginning costs an index probe and ten lookups of whole 20-digit ICCIDs.
MAX_ICCID_BEGINNINGS = 300
# ":" sorts right after "9": "123" <= an ICCID starting with "123" < "123:".
AFTER_DIGITS = ":"
# A search's ranges holding at most this many SIMs are selected by their ids on PostgreSQL (_ids_in_ranges).
FEW_IDS = 1000


class ConnectivityFilter(TextChoices):
    """The SIMs page's "Connectivity" filter (SimConnectivity: a SIM without a row was never seen)."""

    ONLINE = "online", "Online"
    ATTACHED = "attached", "Attached"
    OFFLINE = "offline", "Offline"
    OFFLINE_24H = "offline-24h", "Offline for more than 24 h"
    OFFLINE_7D = "offline-7d", "Offline for more than 7 days"
    NEVER_SEEN = "never", "Never seen"


OFFLINE_FOR = {ConnectivityFilter.OFFLINE_24H: timedelta(hours=24), ConnectivityFilter.OFFLINE_7D: timedelta(days=7)}


def _connectivity_condition(value: str, now: datetime) -> Exists | Any:
    """The SIMs a value of the Connectivity filter selects, as a condition on each SIM (its row, by key):
    read along the list's own index, a page of them is found after a few probes of SimConnectivity."""
    chosen = ConnectivityFilter(value)
    if chosen == ConnectivityFilter.NEVER_SEEN:
        seen = SimConnectivity.objects.filter(sim=OuterRef("pk")).exclude(status=Connectivity.UNKNOWN)
        return ~Exists(seen)
    status = Connectivity.OFFLINE if chosen in OFFLINE_FOR or chosen == ConnectivityFilter.OFFLINE else Connectivity(chosen.value)
    rows = SimConnectivity.objects.filter(sim=OuterRef("pk"), status=status)
    if chosen in OFFLINE_FOR:
        rows = rows.filter(since__lt=now - OFFLINE_FOR[chosen])
    return Exists(rows)


@dataclass(frozen=True)
class SimSelection:
    """The SIMs a filter of the SIMs page selects."""

    product: Product
    sims: QuerySet[Sim]  # by product, state and country
    fragment: str
    # Where the ICCIDs containing the fragment start: each is a range of the index, none inside
    # another. None when there is no fragment, or when the search reads the product's ICCIDs.
    starts: tuple[str, ...] | None
    # The Connectivity filter when it is the only one: then counted from SimConnectivity's counts
    # (sims/connectivity_counts.py), not by reading each SIM (1.8 s for 390,000 of a million on PostgreSQL).
    connectivity_alone: str = ""
    now: datetime | None = None
    connectivity: str = ""  # the Connectivity filter, with others or not

    @property
    def queryset(self) -> QuerySet[Sim]:
        """All the matching SIMs, for a bulk action or anything else that wants them all."""
        if self.starts is not None:
            return self.sims.filter(pk__in=_ids_in_ranges(self.product, self.starts)) if self.starts else self.sims.none()
        if self.fragment:
            return self.sims.filter(iccid__contains=self.fragment)
        return self.sims

    def count(self) -> int:
        if self.connectivity_alone:
            from sims.connectivity_counts import sims_in_connectivity

            return sims_in_connectivity(self.product, self.connectivity_alone, now=self.now or timezone.now())
        if self.starts is None:
            return self.queryset.count()
        return sum(_count_per_range(self.sims, self.starts).values())

    def count_up_to(self, limit: int) -> int:
        """How many SIMs match, counted no further than `limit`: telling whether more than 10,000 match
        reads 10,001 index entries, where counting a million read them all (a second on PostgreSQL)."""
        return self.queryset[:limit].count()


def select_sims(
    *,
    product: Product,
    state: str = "",
    country: str = "",
    fragment: str = "",
    spiking_on: date | None = None,
    network: str = "",
    connectivity: str = "",
    now: datetime | None = None,
) -> SimSelection:
    sims = Sim.objects.filter(product=product)
    now = now or timezone.now()
    if connectivity:
        # "Offline for more than 24 h" is counted from now: a bulk job's worker works it out again when it starts.
        sims = sims.filter(_connectivity_condition(connectivity, now))
    if network:
        # pending: waiting for the carrier; refused: the carrier said no (the partial index of unsynced SIMs).
        sims = sims.filter(network_status=NetworkStatus.FAILED if network == "refused" else NetworkStatus.PENDING)
    if spiking_on is not None:
        # A day's spikes are few (its index gives them); the SIMs are then looked up by id.
        spiking = UsageSpike.objects.filter(product=product, day=spiking_on).values("sim_id")
        sims = sims.filter(pk__in=spiking)
    if state:
        sims = sims.filter(state=state)
    if country:
        sims = sims.filter(home_country=country)
    starts = _starts_of_iccids_containing(product, fragment) if fragment else None
    alone = connectivity if not (state or country or fragment or network or spiking_on) else ""
    return SimSelection(product=product, sims=sims, fragment=fragment, starts=starts, connectivity_alone=alone, now=now, connectivity=connectivity)


def filter_sims(*, product: Product, state: str = "", country: str = "", fragment: str = "") -> QuerySet[Sim]:
    return select_sims(product=product, state=state, country=country, fragment=fragment).queryset


def ticked_sims(product: Product, ids: Sequence[int]) -> list[int]:
    """The ids among the ticked ones that are SIMs of this product, read by key. With the product
    in the condition as well, PostgreSQL without statistics of a freshly imported product thought
    the product's index the more selective, and read all its SIMs for each chunk of the action
    (bench/bulk_after_import.py: 6.6-8.2 s for 10,000 of 1,000,000, against 2.5-3.3 s by key)."""
    rows = Sim.objects.filter(pk__in=list(ids)).order_by("pk").values_list("pk", "product_id")
    return [pk for pk, product_id in rows if product_id == product.pk]


def _starts_of_iccids_containing(product: Product, fragment: str) -> tuple[str, ...] | None:
    """The beginnings that the product's ICCIDs containing the fragment start with, none a prefix of
    another; None if the product's ICCIDs start in too many ways to list."""
    if len(fragment) > ICCID_MAX_DIGITS:
        return ()
    # At the last offset, the fragment ends a 20-digit ICCID: a whole ICCID to look up, one of
    # ten after each beginning one digit shorter. Listing beginnings that deep would take ten
    # times the probes, and most fleets have no 20-digit ICCID at all.
    depth = ICCID_MAX_DIGITS - 1 - len(fragment)
    beginnings = _distinct_beginnings(product, depth=depth, limit=MAX_ICCID_BEGINNINGS + 1) if depth >= 0 else [""]
    if len(beginnings) > MAX_ICCID_BEGINNINGS:
        return None
    candidates = {beginning[:offset] + fragment for beginning in beginnings for offset in range(len(beginning) + 1)}
    whole = [beginning[:depth] + digit + fragment for beginning in beginnings if len(beginning) >= depth for digit in DIGITS]
    candidates.update(_existing_iccids(product, whole))
    starts: list[str] = []
    for candidate in sorted(candidates):
        # Sorted, an ICCID start is followed by the starts it contains: keep the outer one only.
        if not (starts and candidate.startswith(starts[-1])):
            starts.append(candidate)
    return tuple(starts)


def _existing_iccids(product: Product, iccids: list[str]) -> list[str]:
    """Which of these ICCIDs the product has. Thousands of them: one parameter, not thousands."""
    if not iccids:
        return []
    table = connection.ops.quote_name(Sim._meta.db_table)
    parameter: list[str] | str
    if connection.vendor == "postgresql":
        listed, parameter = "iccid = ANY(%s)", iccids
    else:
        listed, parameter = "iccid IN (SELECT value FROM json_each(%s))", json.dumps(iccids)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT iccid FROM {table} WHERE product_id = %s AND {listed}", [product.pk, parameter])
        return [iccid for (iccid,) in cursor.fetchall()]


def _distinct_beginnings(product: Product, *, depth: int, limit: int) -> list[str]:
    """The distinct first `depth` digits of the product's ICCIDs (or whole ICCIDs, if shorter),
    by a skip scan of the (product, iccid) index: one probe per beginning, at most `limit`."""
    table = connection.ops.quote_name(Sim._meta.db_table)
    # After a beginning of full depth, skip every ICCID that starts with it; after a whole
    # (shorter) ICCID, only that one, as a longer ICCID may start with it.
    sql = f"""
        WITH RECURSIVE beginning(digits, n) AS (
            SELECT (SELECT substr(MIN(iccid), 1, %s) FROM {table} WHERE product_id = %s), 1
            UNION ALL
            SELECT (
                SELECT substr(MIN(iccid), 1, %s) FROM {table}
                WHERE product_id = %s
                  AND iccid > beginning.digits || CASE WHEN length(beginning.digits) = %s THEN '{AFTER_DIGITS}' ELSE '' END
            ), beginning.n + 1
            FROM beginning WHERE beginning.digits IS NOT NULL AND beginning.n < %s
        )
        SELECT digits FROM beginning WHERE digits IS NOT NULL
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [depth, product.pk, depth, product.pk, depth, limit])
        return [digits for (digits,) in cursor.fetchall()]


def _ranges(starts: Sequence[str]) -> tuple[str, list[str]]:
    """A common table expression of the index ranges, one row (low, high) per start."""
    values = ", ".join(["(%s, %s)"] * len(starts))
    return f"ranges(low, high) AS (VALUES {values})", [bound for start in starts for bound in (start, start + AFTER_DIGITS)]


def _ids_in_ranges(product: Product, starts: Sequence[str]) -> RawSQL | list[int]:
    """The ids of the product's SIMs in these ranges, as a subquery: a range read of the index per start.
    (An OR of the ranges would do, but SQLite answers one of more than a few dozen by reading
    the whole product, and refuses one of a thousand.)

    On PostgreSQL, when the ranges hold few SIMs, their ids themselves: it cannot tell how many SIMs
    the ranges hold (it guessed 488,000 for 15 at a million SIMs), so with a state filter it read all
    the product's active SIMs and hashed the subquery's ids, 200-260 ms for a bulk action on a dozen
    SIMs (bench/load.py); a list of ids it looks up by key. For many, the subquery: by key, 86,000
    ids took 2.8 s where the hash took 0.35 s."""
    sql, params = _ranges_sql(product, starts)
    if connection.vendor == "postgresql" and (ids := _few_ids_in_ranges(product, starts)) is not None:
        return ids
    return RawSQL(sql, params)


def _ranges_sql(product: Product, starts: Sequence[str]) -> tuple[str, list]:
    ranges, params = _ranges(starts)
    table = connection.ops.quote_name(Sim._meta.db_table)
    # CROSS JOIN: SQLite then reads the ranges first, not the product's SIMs in the index order.
    sql = f"""
        WITH {ranges}
        SELECT sim.id FROM ranges CROSS JOIN {table} AS sim
        WHERE sim.product_id = %s AND sim.iccid >= ranges.low AND sim.iccid < ranges.high
    """
    return sql, [*params, product.pk]


def _few_ids_in_ranges(product: Product, starts: Sequence[str]) -> list[int] | None:
    """The ids of the product's SIMs in these ranges if they are at most FEW_IDS, else None."""
    sql, params = _ranges_sql(product, starts)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} LIMIT %s", [*params, FEW_IDS + 1])
        ids = [pk for (pk,) in cursor.fetchall()]
    return ids if len(ids) <= FEW_IDS else None


def _per_range(
    sims: QuerySet[Sim], starts: Sequence[str], aggregate: str, *, order: str = "", limit: int | None = None
) -> dict[str, Any]:
    """An aggregate of the ICCIDs in each range (the first `limit` in this order, if given), in one
    statement: an index range read per start, most of them empty."""
    if not starts:
        return {}
    in_range: QuerySet[Sim, Any] = sims.filter(iccid__gte=RawSQL("ranges.low", ()), iccid__lt=RawSQL("ranges.high", ()))
    # The ICCID, not the id: the (product[, state or country], iccid) index alone answers it.
    in_range = in_range.order_by(*([order] if order else [])).values("iccid")
    if limit is not None:
        in_range = in_range[:limit]
    subquery, subquery_params = in_range.query.sql_with_params()
    ranges, params = _ranges(starts)
    sql = f"WITH {ranges} SELECT ranges.low, (SELECT {aggregate} FROM ({subquery}) AS matching) FROM ranges"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *subquery_params])
        return dict(cursor.fetchall())


def _count_per_range(sims: QuerySet[Sim], starts: Sequence[str]) -> dict[str, int]:
    return _per_range(sims, starts, "COUNT(*)")


def _first_iccids_per_range(sims: QuerySet[Sim], starts: Sequence[str], *, order: str, limit: int) -> list[str]:
    """The first `limit` ICCIDs in this order of each range, all ranges together."""
    joined = "string_agg(iccid, ',')" if connection.vendor == "postgresql" else "group_concat(iccid, ',')"
    per_range = _per_range(sims, starts, joined, order=order, limit=limit)
    return [iccid for iccids in per_range.values() if iccids for iccid in str(iccids).split(",")]


# What a row of the list and of its export shows: the other columns cost a third of an export's time.
LISTED = [
    "iccid", "product_id", "state", "state_changed_at", "home_country", "data_limit_mb", "imsi", "msisdn",
    "network_status", "network_error", "network_since",
]  # fmt: skip
# The device each row's SIM is in (its name, linked by its id), joined in the same query: no query more.
LISTED_DEVICE = ["device__name", "device__device_id"]


def _listed(sims: QuerySet[Sim]) -> QuerySet[Sim]:
    return sims.select_related("device").only(*LISTED, *LISTED_DEVICE)


def add_connectivity(sims: list[Sim]) -> None:
    """Give each of these SIMs its connectivity row (`sim.conn`, None if never seen): one query."""
    rows = SimConnectivity.objects.filter(sim_id__in=[sim.pk for sim in sims]).only("sim_id", "status", "since")
    by_sim = {row.sim_id: row for row in rows}
    for sim in sims:
        sim.conn = by_sim.get(sim.pk)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PeriodUse:
    """A SIM's usage this billing period against its effective data limit."""

    bytes: int
    limit_mb: int

    @property
    def over(self) -> bool:
        return self.bytes >= self.limit_mb * MB


class SortKey(StrEnum):
    ICCID = "iccid"
    USAGE = "usage"
    STATE_CHANGE = "changed"
    OFFLINE = "offline"  # how long offline: offline since, then ICCID


@dataclass(frozen=True)
class ListOrder:
    """How the list is sorted: by a key, ascending or descending, ties (and SIMs without usage) by ICCID.

    Each order has an index that gives it, so a page costs what the first one does:
    (product, iccid), (product, state_changed_at, iccid), and for usage the product's period
    usage rows by (product, period, bytes), then its SIMs without usage by (product, iccid)."""

    key: SortKey = SortKey.ICCID
    descending: bool = False

    @classmethod
    def parse(cls, text: str) -> "ListOrder | None":
        """'usage', '-changed', ...; empty is the default; None for anything else."""
        if not text:
            return cls()
        descending = text.startswith("-")
        try:
            return cls(SortKey(text.removeprefix("-")), descending)
        except ValueError:
            return None

    def __str__(self) -> str:
        return f"{'-' if self.descending else ''}{self.key}"

    def reversed(self) -> "ListOrder":
        return ListOrder(self.key, not self.descending)


ORDERS = [str(ListOrder(key, descending)) for key in SortKey for descending in (False, True)]


# The largest sort value a cursor may carry: bytes, or microseconds since the epoch (2**53 is the year
# 2255); a larger one was not written by the console, and would overflow a date.
MAX_CURSOR_VALUE = 2**53


def _ascii_digits(text: str) -> bool:
    """0-9 only: str.isdigit also takes '²' and other digits int() refuses."""
    return text.isascii() and text.isdigit()


@dataclass(frozen=True)
class Cursor:
    """Where a page starts or ends: a SIM's sort value (bytes used, or microseconds since the epoch
    of its last state change; none for the ICCID order) and its ICCID."""

    iccid: str
    value: int = 0

    @classmethod
    def parse(cls, text: str, order: ListOrder) -> "Cursor | None":
        value, _, iccid = text.rpartition("_") if order.key != SortKey.ICCID else ("0", "", text)
        if not (_ascii_digits(iccid) and len(iccid) <= 22 and _ascii_digits(value) and int(value) <= MAX_CURSOR_VALUE):
            return None
        return cls(iccid=iccid, value=int(value))

    @classmethod
    def of(cls, sim: Sim, order: ListOrder) -> "Cursor":
        if order.key == SortKey.USAGE:
            return cls(sim.iccid, getattr(sim, "sort_bytes", 0))
        if order.key == SortKey.STATE_CHANGE:
            return cls(sim.iccid, (sim.state_changed_at - EPOCH) // timedelta(microseconds=1))
        if order.key == SortKey.OFFLINE:
            since = getattr(sim, "offline_since", None)  # 0: a SIM that is not offline
            return cls(sim.iccid, (since - EPOCH) // timedelta(microseconds=1) if since else 0)
        return cls(sim.iccid)

    def text(self, order: ListOrder) -> str:
        return self.iccid if order.key == SortKey.ICCID else f"{self.value}_{self.iccid}"


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class SimPage:
    sims: list[Sim]
    has_previous: bool
    has_next: bool
    order: ListOrder = field(default_factory=ListOrder)

    @property
    def first_iccid(self) -> str:
        return self.sims[0].iccid if self.sims else ""

    @property
    def last_iccid(self) -> str:
        return self.sims[-1].iccid if self.sims else ""

    @property
    def first_cursor(self) -> str:
        return Cursor.of(self.sims[0], self.order).text(self.order) if self.sims else ""

    @property
    def last_cursor(self) -> str:
        return Cursor.of(self.sims[-1], self.order).text(self.order) if self.sims else ""


def page_of_sims(
    *,
    selection: SimSelection,
    per_page: int,
    after: str = "",
    before: str = "",
    last: bool = False,
    order: ListOrder | None = None,
    now: datetime | None = None,
) -> SimPage:
    """The page after (or before) a cursor, the first page, or the last one, in this order.
    Each SIM carries its usage this period against its limit (`sim.usage`)."""
    order = order or ListOrder()
    period = billing_period_start(now or timezone.now())
    if before or last:
        start = Cursor.parse(before, order) if before else None
        rows = _rows_in_order(selection, order.reversed(), start, per_page + 1, period)
        page = SimPage(sims=rows[:per_page][::-1], has_previous=len(rows) > per_page, has_next=bool(start), order=order)
    else:
        start = Cursor.parse(after, order) if after else None
        rows = _rows_in_order(selection, order, start, per_page + 1, period)
        page = SimPage(sims=rows[:per_page], has_previous=bool(start), has_next=len(rows) > per_page, order=order)
    add_period_use(page.sims, selection.product, now=now)
    add_connectivity(page.sims)
    return page


def add_period_use(sims: list[Sim], product: Product, *, now: datetime | None = None) -> None:
    """Give each of these SIMs of the product its usage this period against its limit: one query."""
    used = period_usage([sim.pk for sim in sims], now=now)
    for sim in sims:
        if sim.product_id == product.pk:
            sim.product = product  # the effective data limit reads the product's default: no query per row
        sim.usage = PeriodUse(bytes=used.get(sim.pk, 0), limit_mb=sim.effective_data_limit_mb)  # type: ignore[attr-defined]


def _rows_in_order(
    selection: SimSelection, order: ListOrder, cursor: Cursor | None, limit: int, period: date
) -> list[Sim]:
    """The first `limit` matching SIMs after the cursor in this order."""
    sign = "-" if order.descending else ""
    if order.key == SortKey.ICCID:
        sims = selection.sims.filter(**{f"iccid__{_beyond(order)}": cursor.iccid}) if cursor else selection.sims
        return _first_rows(sims, selection, f"{sign}iccid", limit)
    if order.key == SortKey.STATE_CHANGE:
        matching = _matching_in_any_order(selection)
        if cursor:
            matching = matching.filter(_after("state_changed_at", EPOCH + timedelta(microseconds=cursor.value), cursor, order))
        return list(_listed(matching).order_by(f"{sign}state_changed_at", f"{sign}iccid")[:limit])
    if order.key == SortKey.OFFLINE:
        return _rows_by_offline(selection, order, cursor, limit)
    return _rows_by_usage(selection, period, order, cursor, limit)


def _matching_in_any_order(selection: SimSelection) -> QuerySet[Sim]:
    """The matching SIMs, for an order that no ICCID index gives. A search matching few SIMs: their
    ids. One matching many: its digits, checked on each SIM as the order's index is read, which
    soon finds a page of them. (All of them by their ranges, then sorted, took 1.5 s on SQLite and
    5.5 s on PostgreSQL for 142,000 of a million SIMs, bench/sim_list.py.)"""
    if not selection.starts:  # no search, a search that reads the ICCIDs, or one that matches nothing
        return selection.queryset
    ids = _few_ids_in_ranges(selection.product, selection.starts)
    return selection.sims.filter(pk__in=ids) if ids is not None else selection.sims.filter(iccid__contains=selection.fragment)


def _beyond(order: ListOrder) -> str:
    return "lt" if order.descending else "gt"


def _after(column: str, value: object, cursor: Cursor, order: ListOrder) -> Q:
    """After (column, ICCID) = (value, cursor's ICCID) in this order. The first condition is the
    index range to read; the rest cuts the ties."""
    beyond = _beyond(order)
    return Q(**{f"{column}__{beyond}e": value}) & (
        Q(**{f"{column}__{beyond}": value}) | Q(**{column: value, f"iccid__{beyond}": cursor.iccid})
    )


def _rows_by_usage(selection: SimSelection, period: date, order: ListOrder, cursor: Cursor | None, limit: int) -> list[Sim]:
    """Ascending: the SIMs without usage this period by ICCID, then those with usage by bytes and
    ICCID; descending, the reverse. Those with usage are read in order from the index of the
    product's period usage (the SIM table then by key); those without, as the ICCID order reads
    them (a search by its ranges), each checked against the period usage's key."""
    sign, product = "-" if order.descending else "", selection.product
    used = _matching_in_any_order(selection).annotate(
        this_period=FilteredRelation(
            "period_usage", condition=Q(period_usage__period=period, period_usage__product=product)
        )
    ).annotate(sort_bytes=F("this_period__bytes"))
    unused = selection.sims.filter(
        ~Exists(SimPeriodUsage.objects.filter(sim=OuterRef("pk"), period=period, product=product, bytes__gt=0))
    ).annotate(sort_bytes=Value(0))
    segments = [(0, unused), (1, used)]
    if order.descending:
        segments.reverse()
    rows: list[Sim] = []
    cursor_rank = (1 if cursor.value else 0) if cursor else None
    for rank, sims in segments:
        if rank == cursor_rank:
            assert cursor is not None
            # By the annotation: a filter naming this_period again would join the table again.
            # Ascending from a usage, `sort_bytes >= usage` is the index range; another bound, "> 0",
            # made SQLite read the range from 0 (1 s at a million SIMs).
            keyset = _after("sort_bytes", cursor.value, cursor, order) if rank else Q(**{f"iccid__{_beyond(order)}": cursor.iccid})
            sims = sims.filter(keyset) if rank == 0 or not order.descending else sims.filter(keyset & Q(sort_bytes__gt=0))
        elif cursor_rank is not None and (rank < cursor_rank) != order.descending:
            continue  # a segment the cursor is past
        elif rank == 1:
            sims = sims.filter(Q(sort_bytes__gt=0))
        wanted = limit - len(rows)
        if rank == 0:
            rows += _first_rows(sims, selection, f"{sign}iccid", wanted)
        else:
            rows += _listed(sims).order_by(f"{sign}sort_bytes", f"{sign}iccid")[:wanted]
        if len(rows) >= limit:
            break
    return rows


def _rows_by_offline(selection: SimSelection, order: ListOrder, cursor: Cursor | None, limit: int) -> list[Sim]:
    """By how long each SIM has been offline. Ascending: the SIMs that are not offline (online, attached,
    never seen) by ICCID, then the offline ones from the latest "offline since" to the oldest; descending,
    the exact reverse: the longest offline first. The offline SIMs are read in order from SimConnectivity's
    (product, status, since) index, the SIM table then by key; the others as the ICCID order reads them,
    each checked against its connectivity row by key."""
    sign, product = "-" if order.descending else "", selection.product
    offline_rows = SimConnectivity.objects.filter(
        sim=OuterRef("pk"), product=product, status=Connectivity.OFFLINE, since__isnull=False
    )
    # Within the offline SIMs, a longer time offline is an earlier "since": that segment runs the other way.
    by_since = ListOrder(SortKey.OFFLINE, not order.descending)
    since_sign = "-" if by_since.descending else ""
    offline = (
        _matching_in_any_order(selection)
        .filter(connectivity__product=product, connectivity__status=Connectivity.OFFLINE, connectivity__since__isnull=False)
        .annotate(offline_since=F("connectivity__since"))
    )
    others = selection.sims.filter(~Exists(offline_rows))
    segments: list[tuple[int, QuerySet[Sim]]] = [(0, others), (1, offline)]
    # A filter on connectivity selects SIMs of one segment only: the other would be read to its end in vain
    # (8 s for the SIMs not offline among those offline for more than 24 h, at a million on PostgreSQL).
    if selection.connectivity:
        offline_only = selection.connectivity in (ConnectivityFilter.OFFLINE, *OFFLINE_FOR)
        segments = [segment for segment in segments if segment[0] == (1 if offline_only else 0)]
        if selection.connectivity in OFFLINE_FOR and selection.now:
            # The bound in the index range itself: read from the latest "since", the SIMs offline for
            # less than 24 h came first, each checked and dropped (150-200 ms on PostgreSQL).
            bound = Q(connectivity__since__lt=selection.now - OFFLINE_FOR[ConnectivityFilter(selection.connectivity)])
            segments = [(rank, sims.filter(bound)) for rank, sims in segments]
    if order.descending:
        segments.reverse()
    rows: list[Sim] = []
    cursor_rank = (1 if cursor.value else 0) if cursor else None
    for rank, sims in segments:
        if rank == cursor_rank:
            assert cursor is not None
            if rank:
                sims = sims.filter(_after("offline_since", EPOCH + timedelta(microseconds=cursor.value), cursor, by_since))
            else:
                sims = sims.filter(**{f"iccid__{_beyond(order)}": cursor.iccid})
        elif cursor_rank is not None and (rank < cursor_rank) != order.descending:
            continue  # a segment the cursor is past
        wanted = limit - len(rows)
        if rank == 0:
            rows += _first_rows(sims, selection, f"{sign}iccid", wanted)
        else:
            rows += _listed(sims).order_by(f"{since_sign}offline_since", f"{since_sign}iccid")[:wanted]
        if len(rows) >= limit:
            break
    return rows


def _first_rows(sims: QuerySet[Sim], selection: SimSelection, order: str, limit: int) -> list[Sim]:
    """The first `limit` SIMs in this ICCID order that match the search."""
    if selection.starts is None:
        matching = sims.filter(iccid__contains=selection.fragment) if selection.fragment else sims
        return list(_listed(matching).order_by(order)[:limit])
    # The first rows of the page are among the first rows of each range: a few hundred ICCIDs in
    # one statement, then the page's rows by ICCID. A range's thousands of rows are never read.
    iccids = sorted(_first_iccids_per_range(sims, selection.starts, order=order, limit=limit), reverse=order.startswith("-"))
    return list(_listed(sims.filter(iccid__in=iccids[:limit])).order_by(order)) if iccids else []

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
ranges that are read and counted without reading the rest of the product.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from products.models import Product
from sims.models import Sim

ICCID_MAX_DIGITS = 20
# A product whose ICCIDs start in more distinct ways than this (a very short fragment, or
# ICCIDs from all over) is searched by reading its ICCIDs: correct, slower at a million.
MAX_ICCID_BEGINNINGS = 1000
MAX_RANGES_IN_A_QUERY = 500
# ":" sorts right after "9": "123" <= an ICCID starting with "123" < "123:".
AFTER_DIGITS = ":"


@dataclass(frozen=True)
class SimSelection:
    """The SIMs a filter of the SIMs page selects."""

    product: Product
    sims: QuerySet[Sim]  # by product, state and country
    fragment: str
    # Where the ICCIDs containing the fragment start: each is a range of the index, none inside
    # another. None when there is no fragment, or when the search reads the product's ICCIDs.
    starts: tuple[str, ...] | None

    @property
    def queryset(self) -> QuerySet[Sim]:
        """All the matching SIMs, for a bulk action or anything else that wants them all."""
        if self.starts is not None:
            # Only the ranges that hold SIMs, as a condition of a few hundred ORs at most
            # (SQLite refuses an expression a thousand deep); past that, the ICCIDs are read.
            held = [start for start, count in _count_per_range(self.sims, self.starts, cap=1).items() if count]
            if len(held) <= MAX_RANGES_IN_A_QUERY:
                return _in_ranges(self.sims, held)
        if self.fragment:
            return self.sims.filter(iccid__contains=self.fragment)
        return self.sims

    def count(self) -> int:
        if self.starts is None:
            return self.queryset.count()
        return sum(_count_per_range(self.sims, self.starts).values())


def select_sims(*, product: Product, state: str = "", country: str = "", fragment: str = "") -> SimSelection:
    sims = Sim.objects.filter(product=product)
    if state:
        sims = sims.filter(state=state)
    if country:
        sims = sims.filter(home_country=country)
    starts = _starts_of_iccids_containing(product, fragment) if fragment else None
    return SimSelection(product=product, sims=sims, fragment=fragment, starts=starts)


def filter_sims(*, product: Product, state: str = "", country: str = "", fragment: str = "") -> QuerySet[Sim]:
    return select_sims(product=product, state=state, country=country, fragment=fragment).queryset


def _starts_of_iccids_containing(product: Product, fragment: str) -> tuple[str, ...] | None:
    """The beginnings that the product's ICCIDs containing the fragment start with, none a prefix of
    another; None if the product's ICCIDs start in too many ways to list."""
    depth = ICCID_MAX_DIGITS - len(fragment)  # the fragment starts at this offset at the latest
    if depth < 0:
        return ()
    beginnings = _distinct_beginnings(product, depth=depth, limit=MAX_ICCID_BEGINNINGS + 1)
    if len(beginnings) > MAX_ICCID_BEGINNINGS:
        return None
    candidates = sorted({beginning[:offset] + fragment for beginning in beginnings for offset in range(len(beginning) + 1)})
    starts: list[str] = []
    for candidate in candidates:
        # Sorted, an ICCID start is followed by the starts it contains: keep the outer one only.
        if not (starts and candidate.startswith(starts[-1])):
            starts.append(candidate)
    return tuple(starts)


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


def _range(start: str) -> Q:
    return Q(iccid__gte=start, iccid__lt=start + AFTER_DIGITS)


def _in_ranges(sims: QuerySet[Sim], starts: Sequence[str]) -> QuerySet[Sim]:
    return sims.filter(reduce(or_, map(_range, starts))) if starts else sims.none()


def _count_per_range(sims: QuerySet[Sim], starts: Sequence[str], *, cap: int | None = None) -> dict[str, int]:
    """How many of the SIMs start with each of the starts (at most `cap` each), in one statement:
    an index range count per start, most of them empty."""
    if not starts:
        return {}
    # The ICCID, not the id: the (product[, state or country], iccid) index alone answers it.
    in_range = sims.filter(iccid__gte=RawSQL("ranges.low", ()), iccid__lt=RawSQL("ranges.high", ())).order_by().values("iccid")
    if cap is not None:
        in_range = in_range[:cap]
    subquery, subquery_params = in_range.query.sql_with_params()
    values = ", ".join(["(%s, %s)"] * len(starts))
    sql = f"""
        WITH ranges(low, high) AS (VALUES {values})
        SELECT ranges.low, (SELECT COUNT(*) FROM ({subquery}) AS matching) FROM ranges
    """
    params = [bound for start in starts for bound in (start, start + AFTER_DIGITS)]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *subquery_params])
        return dict(cursor.fetchall())


@dataclass
class SimPage:
    sims: list[Sim]
    has_previous: bool
    has_next: bool

    @property
    def first_iccid(self) -> str:
        return self.sims[0].iccid if self.sims else ""

    @property
    def last_iccid(self) -> str:
        return self.sims[-1].iccid if self.sims else ""


def page_of_sims(
    *, selection: SimSelection, per_page: int, after: str = "", before: str = "", last: bool = False
) -> SimPage:
    """The page after (or before) an ICCID, the first page, or the last one."""
    if before or last:
        backwards = selection.sims.filter(iccid__lt=before) if before else selection.sims
        rows = _first_rows(backwards, selection, "-iccid", per_page + 1)
        page = SimPage(sims=rows[:per_page][::-1], has_previous=len(rows) > per_page, has_next=bool(before))
    else:
        forwards = selection.sims.filter(iccid__gt=after) if after else selection.sims
        rows = _first_rows(forwards, selection, "iccid", per_page + 1)
        page = SimPage(sims=rows[:per_page], has_previous=bool(after), has_next=len(rows) > per_page)
    for sim in page.sims:
        sim.product = selection.product  # the effective data limit reads the product's default: no query per row
    return page


def _first_rows(sims: QuerySet[Sim], selection: SimSelection, order: str, limit: int) -> list[Sim]:
    """The first `limit` SIMs in this order that match the search."""
    if selection.starts is None:
        matching = sims.filter(iccid__contains=selection.fragment) if selection.fragment else sims
        return list(matching.order_by(order)[:limit])
    # Capped counts per range say which ranges fill the page: the ranges read whole hold fewer
    # rows than a page, and the last one is read up to what is missing. Two queries, never a
    # sort of a range's thousands of rows.
    counts = _count_per_range(sims, selection.starts, cap=limit)
    starts = sorted((start for start, count in counts.items() if count), reverse=order.startswith("-"))
    whole: list[str] = []
    missing = limit
    for start in starts:
        if counts[start] >= missing:
            break
        whole.append(start)
        missing -= counts[start]
    rows = list(_in_ranges(sims, whole).order_by(order)) if whole else []
    if len(whole) < len(starts):
        rows += _in_ranges(sims, [starts[len(whole)]]).order_by(order)[:missing]
    return rows

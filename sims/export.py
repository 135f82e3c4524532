"""The SIMs page's "Export CSV": every SIM the filter shows, in the list's order, streamed.

The rows are read a page at a time by the list's own keyset pages (sims/listing.py), not by one
long cursor: each chunk is a short query that an index answers, memory holds one chunk whatever
the fleet's size, and no transaction stays open on PostgreSQL while a slow client downloads a
million rows (a server-side cursor, as lib/streaming's, would hold one for minutes).
"""

from collections.abc import Iterator

from django.utils import timezone

from lib.csv_export import Cell, csv_lines
from sims.listing import ListOrder, SimSelection, page_of_sims
from sims.models import Sim

# SIMs per query: the page's rows, then their usage this period.
EXPORT_CHUNK = 2000
HEADER: list[Cell] = [
    "ICCID", "state", "home country", "data limit (MB)", "data limit is the product's default",
    "usage this period (bytes)", "at or over the limit", "last state change (UTC)", "IMSI", "MSISDN",
]  # fmt: skip


def sim_csv(selection: SimSelection, *, order: ListOrder) -> Iterator[str]:
    """The header, then the matching SIMs' lines: a piece of text per chunk of SIMs, so that the
    server writes a million rows in hundreds of writes, not a million."""
    for rows in _chunks(selection, order):
        yield "".join(csv_lines(rows))


def _chunks(selection: SimSelection, order: ListOrder) -> Iterator[list[list[Cell]]]:
    yield [HEADER]
    after, now = "", timezone.now()  # one billing period for the whole file
    while True:
        page = page_of_sims(selection=selection, per_page=EXPORT_CHUNK, after=after, order=order, now=now)
        yield [_row(sim) for sim in page.sims]
        if not page.has_next:
            return
        after = page.last_cursor


def _row(sim: Sim) -> list[Cell]:
    usage = sim.usage  # type: ignore[attr-defined]
    return [
        sim.iccid, sim.state, str(sim.home_country), usage.limit_mb, "yes" if sim.data_limit_mb is None else "no",
        usage.bytes, "yes" if usage.over else "no", sim.state_changed_at.isoformat(), sim.imsi or "", sim.msisdn or "",
    ]  # fmt: skip

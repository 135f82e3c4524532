"""The SIMs page's Export CSV (sims.export, sims.views.sim_export): what the filter shows, all of it, streamed."""

import csv
import io
import tracemalloc

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lib.calendar import billing_period_start
from lib.units import MB
from sims import export
from sims.models import Sim, SimPeriodUsage, State
from tests.conftest import make_iccid


def export_url(product, query: str = "") -> str:
    return reverse("sim_export", args=[product.slug]) + (f"?{query}" if query else "")


def read_csv(response) -> list[list[str]]:
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_export_holds_exactly_the_sims_the_filter_shows_in_the_lists_order(owner_client, product, other_product, make_sim, monkeypatch):
    monkeypatch.setattr(export, "EXPORT_CHUNK", 2)  # several chunks from a few SIMs
    period = billing_period_start(timezone.now())
    suspended = [make_sim(product, state=State.SUSPENDED, home_country="DE") for _ in range(5)]
    for n, sim in enumerate(suspended[:3]):
        SimPeriodUsage.objects.create(sim=sim, product=product, period=period, bytes=(n + 1) * MB)
    make_sim(product, state=State.ACTIVE, home_country="DE")
    make_sim(other_product, state=State.SUSPENDED, home_country="DE")

    rows = read_csv(owner_client.get(export_url(product, "state=suspended&country=DE&sort=-usage")))

    assert rows[0][:6] == ["ICCID", "state", "home country", "data limit (MB)", "data limit is the product's default", "usage this period (bytes)"]
    idle = sorted((sim.iccid for sim in suspended[3:]), reverse=True)
    assert [row[0] for row in rows[1:]] == [suspended[2].iccid, suspended[1].iccid, suspended[0].iccid, *idle]
    assert rows[1][1:7] == ["suspended", "DE", "5", "yes", str(3 * MB), "no"]
    assert rows[-1][5] == "0"


def test_a_search_exports_its_matches_only_and_the_limit_reached_says_so(owner_client, product, make_sim):
    sim = make_sim(product, data_limit_mb=1)
    make_sim(product)
    SimPeriodUsage.objects.create(sim=sim, product=product, period=billing_period_start(timezone.now()), bytes=MB)
    rows = read_csv(owner_client.get(export_url(product, f"q={sim.iccid[-9:]}")))
    assert [(row[0], row[3], row[4], row[6]) for row in rows[1:]] == [(sim.iccid, "1", "no", "yes")]


def test_the_export_is_a_download_named_for_the_product_and_the_day(owner_client, product, sim):
    response = owner_client.get(export_url(product))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{product.slug}-sims-{timezone.now():%Y-%m-%d}.csv"'


def test_a_bad_filter_exports_nothing_and_says_what_was_wrong(owner_client, product, sim):
    response = owner_client.get(export_url(product, "sort=size"))
    assert response.status_code == 400
    assert "cannot be sorted by size" in response.content.decode()


def test_an_outsider_gets_404_and_a_visitor_is_sent_to_sign_in(client, outsider_client, product, sim):
    assert outsider_client.get(export_url(product)).status_code == 404
    client.logout()
    assert client.get(export_url(product))["Location"].startswith(reverse("login"))


def test_a_post_is_refused(owner_client, product):
    assert owner_client.post(export_url(product)).status_code == 405


def exported_with_peak(client, product) -> tuple[int, int]:
    """Rows read from the streamed export, and the peak of Python memory while reading them."""
    response = client.get(export_url(product, "sort=-usage"))
    tracemalloc.start()
    try:
        lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
        return lines - 1, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("sort", ["", "-usage", "changed"])
def test_the_export_reads_the_sims_a_chunk_at_a_time(owner_client, product, monkeypatch, sort):
    monkeypatch.setattr(export, "EXPORT_CHUNK", 100)
    sims = Sim.objects.bulk_create(Sim(iccid=make_iccid(), product=product) for _ in range(450))
    period = billing_period_start(timezone.now())
    SimPeriodUsage.objects.bulk_create(SimPeriodUsage(sim=sim, product=product, period=period, bytes=n) for n, sim in enumerate(sims[::3], 1))
    response = owner_client.get(export_url(product, f"sort={sort}"))
    with CaptureQueriesContext(connection) as queries:
        chunks = iter(response.streaming_content)
        next(chunks)
        read_first = len(queries)
        pieces = list(chunks)
    rows = sum(piece.count(b"\n") for piece in pieces)
    assert rows == 450  # and the header read first
    assert len(pieces) == 5  # a piece written per chunk of SIMs, not one per line
    assert read_first <= 3  # the first chunk's rows (two parts when sorted by usage) and their usage
    assert len(queries) <= 5 * 3 + 2  # five chunks, no query per SIM


def test_the_exports_memory_stays_bounded_as_the_fleet_grows(owner_client, product, monkeypatch):
    monkeypatch.setattr(export, "EXPORT_CHUNK", 200)
    period = billing_period_start(timezone.now())

    def add(count: int) -> None:
        sims = Sim.objects.bulk_create(Sim(iccid=make_iccid(), product=product) for _ in range(count))
        SimPeriodUsage.objects.bulk_create(SimPeriodUsage(sim=sim, product=product, period=period, bytes=sim.pk) for sim in sims[::2])

    add(1000)
    rows, small_peak = exported_with_peak(owner_client, product)
    assert rows == 1000
    add(4000)
    rows, large_peak = exported_with_peak(owner_client, product)
    assert rows == 5000
    # Five times the SIMs, the same chunks: the peak is a chunk's, whatever the fleet's size.
    assert large_peak < small_peak * 1.5, (small_peak, large_peak)

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sims import listing
from lib.calendar import billing_period_start
from lib.units import MB
from sims.listing import ORDERS, ListOrder, SortKey, page_of_sims, select_sims
from sims.models import Sim, SimPeriodUsage, State

# Few digits, so that fleets share beginnings and fragments hit often, at every offset.
DIGITS = "0189"
STATES = [State.ACTIVE, State.SUSPENDED]


@st.composite
def fleets(draw) -> list[str]:
    """ICCIDs as fleets have them: runs of serials after a few batch prefixes, 19 or 20 digits;
    a few others, some shorter (not valid, but stored), some the start of another one."""
    prefixes = draw(st.lists(st.text(DIGITS, min_size=2, max_size=16), min_size=1, max_size=3))
    iccids = set()
    for prefix in prefixes:
        length = draw(st.sampled_from([19, 20]))
        first = draw(st.integers(min_value=0, max_value=10**4))
        for serial in range(first, first + draw(st.integers(min_value=1, max_value=8))):
            iccids.add(f"{prefix}{serial:0{length - len(prefix)}d}"[:length])
    iccids.update(draw(st.lists(st.text(DIGITS, min_size=12, max_size=20), max_size=4)))
    extended = [(iccid + draw(st.text(DIGITS, min_size=1, max_size=8)))[:20] for iccid in iccids if len(iccid) < 20]
    iccids.update(extended[: draw(st.integers(min_value=0, max_value=2))])
    return sorted(iccids)


def fragments_of(iccids: list[str]):
    inside = st.sampled_from(iccids).flatmap(
        lambda iccid: st.tuples(st.integers(0, len(iccid) - 1), st.integers(1, len(iccid))).map(
            lambda bounds: iccid[bounds[0] : bounds[0] + bounds[1]]
        )
    )
    return st.one_of(inside, st.text(DIGITS, min_size=1, max_size=8), st.text("0123456789", min_size=18, max_size=22))


def walk_forward(selection, per_page: int, order: ListOrder | None = None) -> list[str]:
    seen, after = [], ""
    while True:
        page = page_of_sims(selection=selection, per_page=per_page, after=after, order=order)
        seen += [sim.iccid for sim in page.sims]
        if not page.has_next:
            return seen
        after = page.last_cursor


def walk_backward(selection, per_page: int, order: ListOrder | None = None) -> list[str]:
    seen, before = [], ""
    while True:
        page = page_of_sims(selection=selection, per_page=per_page, before=before, last=not before, order=order)
        seen = [sim.iccid for sim in page.sims] + seen
        if not page.has_previous:
            return seen
        before = page.first_cursor


@pytest.mark.parametrize("beginnings_listed", [listing.MAX_ICCID_BEGINNINGS, 2], ids=["by-ranges", "by-reading-all"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_search_finds_pages_and_counts_exactly_the_iccids_that_contain_the_digits(
    product, other_product, monkeypatch, beginnings_listed, data
):
    monkeypatch.setattr(listing, "MAX_ICCID_BEGINNINGS", beginnings_listed)
    iccids = data.draw(fleets(), label="iccids")
    fragment = data.draw(fragments_of(iccids), label="fragment")
    state = data.draw(st.sampled_from(["", *STATES]), label="state")
    per_page = data.draw(st.integers(min_value=1, max_value=4), label="per_page")
    states = {iccid: data.draw(st.sampled_from(STATES)) for iccid in iccids}
    with transaction.atomic():
        Sim.objects.bulk_create(Sim(iccid=iccid, product=product, state=states[iccid]) for iccid in iccids)
        # The same digits in another product's ICCIDs must never show.
        Sim.objects.bulk_create(Sim(iccid=iccid[::-1], product=other_product) for iccid in iccids if iccid[::-1] not in states)
        expected = [iccid for iccid in iccids if fragment in iccid and (not state or states[iccid] == state)]

        selection = select_sims(product=product, state=state, fragment=fragment)
        assert sorted(selection.queryset.values_list("iccid", flat=True)) == expected
        assert selection.count() == len(expected)
        assert walk_forward(selection, per_page) == expected
        assert walk_backward(selection, per_page) == expected
        transaction.set_rollback(True)


def test_a_search_reads_ranges_of_the_index_when_the_fleet_starts_in_few_ways(product, make_sim):
    sims = [make_sim(product) for _ in range(30)]
    selection = select_sims(product=product, fragment=sims[7].iccid[8:14])
    assert selection.starts is not None
    assert sims[7].iccid in {sim.iccid for sim in page_of_sims(selection=selection, per_page=50).sims}


def test_a_fleet_that_starts_in_too_many_ways_is_read_whole_and_still_found(product, make_sim, monkeypatch):
    monkeypatch.setattr(listing, "MAX_ICCID_BEGINNINGS", 3)
    sims = [make_sim(product, iccid=f"89{n:02d}{n * 7919:015d}") for n in range(10)]
    selection = select_sims(product=product, fragment=sims[7].iccid[-5:])
    assert selection.starts is None
    assert [sim.iccid for sim in page_of_sims(selection=selection, per_page=50).sims] == [sims[7].iccid]
    assert selection.count() == 1


def test_a_search_matching_in_many_ranges_selects_them_all_for_a_bulk_action(product, make_sim):
    sims = [make_sim(product, iccid=f"89{n:02d}{n * 7919:015d}") for n in range(10)]
    selection = select_sims(product=product, fragment="0")
    assert selection.starts is not None
    assert set(selection.queryset.values_list("iccid", flat=True)) == {sim.iccid for sim in sims}


def test_more_digits_than_an_iccid_has_match_nothing(product, make_sim):
    sim = make_sim(product)
    selection = select_sims(product=product, fragment=sim.iccid + "0" * 5)
    assert selection.count() == 0
    assert page_of_sims(selection=selection, per_page=50).sims == []


def test_a_page_of_a_search_takes_the_same_few_queries_whatever_matches(product, make_sim, django_assert_max_num_queries):
    sims = [make_sim(product) for _ in range(60)]
    for fragment in (sims[0].iccid[:10], sims[5].iccid[-6:], "999999"):
        # beginnings, 20-digit ICCIDs, first ICCIDs per range, rows, their usage this period, their connectivity
        with django_assert_max_num_queries(6):
            selection = select_sims(product=product, fragment=fragment)
            page_of_sims(selection=selection, per_page=50)


def test_an_iccid_that_begins_with_a_whole_shorter_one_is_still_searched(product, make_sim):
    # Not valid ICCIDs today, but stored ones: the skip scan must not jump over the longer one.
    make_sim(product, iccid="890000000000000")
    longer = make_sim(product, iccid="89000000000000012345")
    selection = select_sims(product=product, fragment="2345")
    assert [sim.iccid for sim in page_of_sims(selection=selection, per_page=50).sims] == [longer.iccid]
    assert selection.count() == 1


@pytest.mark.django_db
def test_iccids_compare_byte_by_byte_so_that_colon_sorts_right_after_nine():
    # The ranges above end at "<start>:"; a locale collation (en_US) sorts ":" before digits.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT %s < %s", ["1239", "123:"])
        assert cursor.fetchone()[0] in (True, 1)
        table_sorts = "SELECT MIN(x) FROM (SELECT iccid AS x FROM sims_sim UNION ALL SELECT %s UNION ALL SELECT %s) AS t"
        cursor.execute(table_sorts, ["123:", "1239"])
        assert cursor.fetchone()[0] == "1239"
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT collation_name FROM information_schema.columns WHERE table_name = 'sims_sim' AND column_name = 'iccid'"
            )
            assert cursor.fetchone()[0] == "C"


def sort_value(order: ListOrder, sim: Sim, used: dict[int, int]) -> tuple:
    if order.key == SortKey.USAGE:
        return (used.get(sim.pk, 0), sim.iccid)
    if order.key == SortKey.STATE_CHANGE:
        return (sim.state_changed_at, sim.iccid)
    return (sim.iccid,)


@pytest.mark.parametrize("few_ids", [listing.FEW_IDS, 0], ids=["search-by-ids", "search-by-digits"])
@pytest.mark.parametrize("order", ORDERS)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_sort_pages_forward_and_back_through_exactly_the_matching_sims_in_order(
    product, other_product, monkeypatch, order, few_ids, data
):
    """Usage this period (none, zero bytes, ties, last month's), state change times (shared by a batch),
    a state filter and a search (matching few SIMs or many): each page after the last one's cursor,
    in either direction."""
    monkeypatch.setattr(listing, "FEW_IDS", few_ids)
    order = ListOrder.parse(order)
    iccids = data.draw(fleets(), label="iccids")
    fragment = data.draw(st.sampled_from(["", iccids[0][3:7]]), label="fragment")
    state = data.draw(st.sampled_from(["", *STATES]), label="state")
    per_page = data.draw(st.integers(min_value=1, max_value=4), label="per_page")
    now = timezone.now()
    period = billing_period_start(now)
    times = [now - timedelta(days=n, microseconds=n) for n in range(3)]
    with transaction.atomic():
        sims = Sim.objects.bulk_create(
            Sim(iccid=iccid, product=product, state=data.draw(st.sampled_from(STATES)), state_changed_at=data.draw(st.sampled_from(times)))
            for iccid in iccids
        )
        used = {}
        for sim in sims:
            amount = data.draw(st.sampled_from([None, 0, MB, 3 * MB, 7 * MB + 1]), label="bytes")
            if amount is not None:
                SimPeriodUsage.objects.create(sim=sim, product=product, period=period, bytes=amount)
                used[sim.pk] = amount
            if data.draw(st.booleans(), label="last month"):
                last_month = (period - timedelta(days=1)).replace(day=1)
                SimPeriodUsage.objects.create(sim=sim, product=product, period=last_month, bytes=50 * MB)
        Sim.objects.bulk_create(Sim(iccid=iccid[::-1], product=other_product) for iccid in iccids if iccid[::-1] not in iccids)
        matching = [sim for sim in sims if fragment in sim.iccid and (not state or sim.state == state)]
        expected = [sim.iccid for sim in sorted(matching, key=lambda sim: sort_value(order, sim, used), reverse=order.descending)]

        selection = select_sims(product=product, state=state, fragment=fragment)
        assert walk_forward(selection, per_page, order) == expected
        assert walk_backward(selection, per_page, order) == expected
        transaction.set_rollback(True)


def test_each_sim_of_a_page_carries_this_periods_usage_against_its_limit(product, make_sim, mid_month):
    under, at, none = make_sim(product), make_sim(product, data_limit_mb=2), make_sim(product)
    period = billing_period_start(timezone.now())
    SimPeriodUsage.objects.create(sim=under, product=product, period=period, bytes=MB)
    SimPeriodUsage.objects.create(sim=at, product=product, period=period, bytes=2 * MB)
    SimPeriodUsage.objects.create(sim=none, product=product, period=(period - timedelta(days=1)).replace(day=1), bytes=9 * MB)
    page = page_of_sims(selection=select_sims(product=product), per_page=10)
    usage = {sim.iccid: (sim.usage.bytes, sim.usage.limit_mb, sim.usage.over) for sim in page.sims}
    assert usage == {under.iccid: (MB, 5, False), at.iccid: (2 * MB, 2, True), none.iccid: (0, 5, False)}


def test_an_unknown_sort_or_a_cursor_of_another_sort_is_not_understood():
    assert ListOrder.parse("") == ListOrder()
    assert ListOrder.parse("-usage") == ListOrder(SortKey.USAGE, descending=True)
    assert ListOrder.parse("size") is None and ListOrder.parse("--usage") is None


def test_a_cursor_of_another_sort_starts_at_the_first_page(product, make_sim):
    sims = sorted((make_sim(product) for _ in range(3)), key=lambda sim: sim.iccid)
    page = page_of_sims(selection=select_sims(product=product), per_page=2, after=sims[0].iccid, order=ListOrder(SortKey.USAGE))
    assert [sim.iccid for sim in page.sims] == [sim.iccid for sim in sims[:2]]

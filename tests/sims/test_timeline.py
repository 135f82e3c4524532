from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from devices.models import Device, DeviceAssignment
from lib.units import MB
from sims.models import NetworkEvent, SimDailyUsage, SimEvent, UsageTick
from sims.timeline import CONSOLE, NETWORK, USAGE, Cursor, Entry, Source, register_source, timeline, SOURCES

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def network_event(sim, kind, at, **fields):
    n = NetworkEvent.objects.count()
    return NetworkEvent.objects.create(event_id=f"ev-{sim.pk}-{n}", sim=sim, product=sim.product, kind=kind, at=at, **fields)


def lifecycle_event(sim, at, action="deactivate", from_state="active", to_state="suspended", **fields):
    return SimEvent.objects.create(
        sim=sim, product=sim.product, action=action, from_state=from_state, to_state=to_state,
        actor_kind="user", actor_name="alice", created_at=at, **fields,
    )  # fmt: skip


def all_pages(sim, size):
    pages, after = [], None
    while True:
        page = timeline(sim, after=after, size=size)
        pages.append(page)
        if page.next is None:
            return pages
        after = Cursor.decode(page.next.encode())


def test_sources_merge_newest_first_each_saying_where_it_came_from(sim):
    lifecycle_event(sim, T0)
    network_event(sim, "attach", T0 + timedelta(hours=1), operator="Telekom.de 262-01", country="DE", rat="LTE-M")
    network_event(sim, "auth_reject", T0 + timedelta(hours=2), cause="Roaming not allowed")
    SimDailyUsage.objects.create(sim=sim, product=sim.product, day=date(2026, 12, 2), bytes=3 * MB, sms=2)
    device = Device.objects.create(product=sim.product, device_id="dev-1", name="Tracker 1", imei="356938035643809")
    DeviceAssignment.objects.create(sim=sim, device=device, started_at=T0 - timedelta(days=1), source="hand")

    entries = timeline(sim).entries

    assert [e.title for e in entries] == [
        "Usage on 2 Dec", "Rejected by the network", "Attached", "Deactivate", "In device Tracker 1 (IMEI 356938035643809)",
    ]  # fmt: skip
    assert [e.origin for e in entries] == [USAGE, NETWORK, NETWORK, CONSOLE, CONSOLE]
    assert "3.00 MB, 2 SMS" == entries[0].detail
    assert "Roaming not allowed" in entries[1].detail
    assert "Telekom.de 262-01 · Germany · LTE-M" == entries[2].detail
    assert "Active → Suspended, by alice" == entries[3].detail


def test_paging_neither_repeats_nor_skips_even_where_entries_share_a_time(sim):
    for n in range(23):
        network_event(sim, "session_start", T0 + timedelta(hours=n // 3))  # three at each time
    for n in range(5):
        lifecycle_event(sim, T0 + timedelta(hours=n))  # at the same times as network events
    for n in range(4):
        SimDailyUsage.objects.create(sim=sim, product=sim.product, day=date(2026, 11, 28) + timedelta(days=n), bytes=MB)

    everything = timeline(sim, size=1000).entries
    assert len(everything) == 32
    for size in (1, 2, 3, 7, 31, 32):
        walked = [entry for page in all_pages(sim, size) for entry in page.entries]
        assert [e.key for e in walked] == [e.key for e in everything], size


def test_a_usage_day_at_the_cursors_midnight_comes_once(sim):
    SimDailyUsage.objects.create(sim=sim, product=sim.product, day=date(2026, 12, 1), bytes=MB)
    lifecycle_event(sim, datetime(2026, 12, 1, tzinfo=UTC))  # exactly the usage day's midnight
    network_event(sim, "attach", datetime(2026, 12, 1, tzinfo=UTC))
    network_event(sim, "detach", datetime(2026, 11, 30, 23, 59, tzinfo=UTC))
    for size in (1, 2):
        walked = [e.source for page in all_pages(sim, size) for e in page.entries]
        assert walked == ["usage", "network", "lifecycle", "network"]


def test_freshness_says_up_to_when_each_source_has_arrived(sim):
    assert timeline(sim).fresh == ["no network events received yet", "no usage fetched yet"]
    network_event(sim, "attach", T0, received_at=T0 + timedelta(minutes=2))
    network_event(sim, "detach", T0 + timedelta(hours=1), received_at=T0 + timedelta(hours=1, minutes=5))
    UsageTick.objects.create(slot=T0, started_at=T0, usage_until=T0 + timedelta(minutes=30), finished_at=T0 + timedelta(minutes=31))
    assert timeline(sim).fresh == ["network events up to 1 Dec 13:05", "usage records up to 1 Dec 12:30"]
    # Older pages do not ask again.
    assert timeline(sim, after=Cursor(T0, "network", 1)).fresh == []


@pytest.mark.parametrize("hours", [10, 2000])
def test_a_page_costs_the_same_queries_whatever_the_history(sim, hours, django_assert_max_num_queries):
    NetworkEvent.objects.bulk_create(
        NetworkEvent(event_id=f"q-{n}", sim=sim, product=sim.product, kind="session_start", at=T0 - timedelta(hours=n)) for n in range(hours)
    )
    for n in range(30):
        lifecycle_event(sim, T0 - timedelta(days=n))
    first = timeline(sim, size=20)
    assert first.next is not None
    with django_assert_max_num_queries(len(SOURCES) + 2):  # one per source, and the freshness of two
        timeline(sim, size=20)
    with django_assert_max_num_queries(len(SOURCES)):
        timeline(sim, after=first.next, size=20)


def test_another_app_adds_its_entries_by_registering_a_source(sim):
    def sms(sim, after, limit):
        return [Entry(T0, "sms", 1, "SMS received", NETWORK, "hello")][:limit] if after is None else []

    lifecycle_event(sim, T0 - timedelta(hours=1))
    before = list(SOURCES)
    try:
        register_source(Source("sms", sms))
        assert [e.title for e in timeline(sim).entries] == ["SMS received", "Deactivate"]
    finally:
        SOURCES[:] = before


def test_a_broken_cursor_is_refused():
    for text in ("", "nonsense", "bm9wZQ", Cursor(T0, "network", 3).encode()[:-4]):
        with pytest.raises(ValueError):
            Cursor.decode(text)


def test_the_sim_page_shows_the_timeline_and_older_loads_the_next_page(owner_client, product, sim):
    for n in range(60):
        network_event(sim, "session_start", T0 - timedelta(hours=n), operator=f"Operator {n}")
    page = owner_client.get(reverse("sim_detail", args=[product.slug, sim.iccid])).content.decode()
    assert "Timeline" in page and "Operator 0" in page and "Operator 49" in page and "Operator 50" not in page
    assert "network events up to" in page and "Older" in page
    older_url = reverse("sim_timeline", args=[product.slug, sim.iccid]) + "?after=" + timeline(sim).next.encode()
    older = owner_client.get(older_url, headers={"HX-Request": "true"}).content.decode()
    assert "Operator 50" in older and "Operator 59" in older and "Operator 49" not in older
    assert "Older" not in older


def test_a_broken_older_link_says_what_to_do(owner_client, product, sim):
    response = owner_client.get(reverse("sim_timeline", args=[product.slug, sim.iccid]) + "?after=garbage")
    assert response.status_code == 400
    assert "reload the SIM page" in response.content.decode()


def test_an_outsider_cannot_read_a_sims_timeline(outsider_client, product, sim):
    assert outsider_client.get(reverse("sim_timeline", args=[product.slug, sim.iccid])).status_code == 404


def test_a_code_stays_on_one_line_and_a_dot_ends_the_line_it_is_on():
    from sims.templatetags.sim_tags import wrap_well

    shown = wrap_well("Telekom.de 262-01 · cell 262-01-4021-77311 · <b>")
    assert shown == (
        'Telekom.de <span class="nowrap">262-01</span>\u00a0· cell <span class="nowrap">262-01-4021-77311</span>\u00a0· &lt;b&gt;'
    )


def test_a_days_usage_shows_its_day_not_its_midnight(owner_client, product, sim):
    SimDailyUsage.objects.create(sim=sim, product=product, day=date(2026, 12, 2), bytes=3 * MB)
    page = owner_client.get(reverse("sim_detail", args=[product.slug, sim.iccid])).content.decode()
    assert '<time datetime="2026-12-02" title="2 Dec 2026, the whole day (UTC)">2 Dec</time>' in page
def a_month_of_history(sim, owner, hours):
    """What a busy SIM has after a month: a data session an hour, lifecycle changes, usage by day, SMS, devices."""
    from carriers.models import SmsMessage

    now = timezone.now().replace(microsecond=0)
    NetworkEvent.objects.bulk_create(
        NetworkEvent(event_id=f"m-{n}-{kind}", sim=sim, product=sim.product, kind=kind, at=now - timedelta(hours=n, minutes=minutes),
                     operator="Telekom.de 262-01", country="DE", rat="LTE-M", imei="356938035643809", bytes=40_000)
        for n in range(hours) for kind, minutes in (("session_end", 0), ("session_start", 7))
    )  # fmt: skip
    for n in range(min(hours // 24, 10)):
        lifecycle_event(sim, now - timedelta(days=n, hours=3), action="pause", from_state="active", to_state="paused")
    SimDailyUsage.objects.bulk_create(
        SimDailyUsage(sim=sim, product=sim.product, day=(now - timedelta(days=n)).date(), bytes=MB) for n in range(max(1, hours // 24))
    )
    SmsMessage.objects.bulk_create(
        SmsMessage(sim=sim, product=sim.product, direction=direction, body="ping", status=status, created_by=owner if direction == "mt" else None,
                   carrier_message_id=f"m-{n}", created_at=now - timedelta(hours=n * 12))
        for n in range(max(1, hours // 12)) for direction, status in (("mt", "delivered"), ("mo", "received"))
    )  # fmt: skip
    for n in range(3):
        device = Device.objects.create(product=sim.product, device_id=f"dev-{n}", name=f"Tracker {n}", imei=f"35693803564380{n}")
        DeviceAssignment.objects.create(sim=sim, device=device, started_at=now - timedelta(days=40 - n * 10), source="hand", by_user=owner)


@pytest.mark.parametrize("hours", [30, 720])  # a day and more of history, a month
def test_the_sim_page_costs_the_same_queries_with_a_months_history(owner_client, owner, product, make_sim, hours, django_assert_max_num_queries):
    sim = make_sim(product, state="suspended")  # its "why offline?" card reads the change that suspended it
    lifecycle_event(sim, timezone.now() - timedelta(days=2))
    a_month_of_history(sim, owner, hours)

    # session, user, membership, SIM (with its device and carrier account), its connectivity, 60 days of usage, the card's
    # change; the timeline's first page: one query per source and two for its freshness
    with django_assert_max_num_queries(7 + len(SOURCES) + 2):
        page = owner_client.get(reverse("sim_detail", args=[product.slug, sim.iccid])).content.decode()
    assert "Why offline? Deactivated here" in page and "Older" in page
    after = timeline(sim).next
    # session, user, membership, SIM; one query per source
    with django_assert_max_num_queries(4 + len(SOURCES)):
        older = owner_client.get(reverse("sim_timeline", args=[product.slug, sim.iccid]) + f"?after={after.encode()}", headers={"HX-Request": "true"})
    everything = len(timeline(sim, size=10_000).entries)
    assert older.status_code == 200 and older.content.decode().count("timeline-entry") == min(50, everything - 50)


def test_each_entry_shows_its_time_of_day_today_its_date_before_and_the_whole_moment_on_hover(owner_client, product, sim):
    now = timezone.now().replace(microsecond=0)
    today = now.replace(hour=0, minute=5, second=9)  # today, whatever the time
    earlier = now - timedelta(days=3)
    network_event(sim, "attach", today)
    network_event(sim, "detach", earlier)
    html = owner_client.get(reverse("sim_timeline", args=[product.slug, sim.iccid]), headers={"HX-Request": "true"}).content.decode()
    assert f'<time datetime="{today.isoformat()}" title="{today.day} {today:%b %Y}, 00:05:09 UTC">00:05</time>' in html
    assert f'<time datetime="{earlier.isoformat()}" title="{earlier.day} {earlier:%b %Y, %H:%M:%S} UTC">{earlier.day} {earlier:%b %H:%M}</time>' in html


def test_a_source_that_takes_no_bound_is_merged_all_the_same_once_the_page_is_full(sim):
    """The built-in sources are asked only for entries newer than a full page's oldest; a registered source
    without `newer_than` is asked as before, and paging neither repeats nor skips its entries."""

    def notes(sim, after, limit):
        times = [T0 - timedelta(minutes=90 * n) for n in range(12)]
        keys = [(at, "note", n) for n, at in enumerate(times) if after is None or (at, "note", n) < (after.at, after.source, after.id)]
        return [Entry(at, source, n, f"Note {n}", CONSOLE) for at, source, n in keys][:limit]

    for n in range(30):
        network_event(sim, "session_start", T0 - timedelta(hours=n))
    before = list(SOURCES)
    try:
        register_source(Source("note", notes))
        everything = timeline(sim, size=1000).entries
        assert len(everything) == 42
        for size in (5, 13):
            walked = [entry for page in all_pages(sim, size) for entry in page.entries]
            assert [e.key for e in walked] == [e.key for e in everything], size
    finally:
        SOURCES[:] = before

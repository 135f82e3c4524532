"""Server time of the SIM page with its timeline (issue 17) at a million SIMs with 30 days of events.

Standalone, not part of the pytest run. It seeds its own database as bench/sim_list.py does (seed_demo,
1,000,000 SIMs, each with its lifecycle events, its connectivity and the few network events behind it), then
adds 30 days of what a fleet sends, once, in INSERT ... SELECT statements (generate_series on PostgreSQL,
recursive CTEs on SQLite):

- busy SIMs, 1 active SIM in 250 (~3,000): a data session every hour (start at :05, end at :12 with its
  bytes) and a location update every 6 hours: 1,560 network events each, ~4.8 million rows; two pauses
  by the data limit and their unpauses; an SMS to the device a day and one from it every 3 days; two
  devices (the SIM moved to the second 12 days ago);
- daily SIMs, 1 active SIM in 50 (~15,000): attach, a data session and detach once a day: 120 network
  events each, ~1.8 million rows; one device (1 in 10 of them with another IMEI than the network sees);
- usage by day (SimDailyUsage) for 30 days for 1 active SIM in 10 (the busy and daily ones among them):
  ~2.3 million rows; a usage tick every 15 minutes;
- quiet SIMs: the rest, with seed_demo's few events only.

The busy and daily SIMs' connectivity is set from their last event. Then it times whole requests through
Django's test Client: the SIM page of busy and quiet SIMs, the timeline's "Older" fragment (the second page,
a page 15 days back, the oldest page), the page of SIMs whose "why offline?" card gives each reason, the
fragments the page loads with it (SMS, IMEI lock, usage by zone), and a trivial page (the team page); then
the bench process's CPU time per request (on a loaded machine the clock's time is mostly waiting for a CPU).
At 1,000,000 SIMs on PostgreSQL: ~59 min for seed_demo and ~12 min for the history with the machine at load 20.

    .venv/bin/python bench/sim_page_timeline.py                      # SQLite in /tmp
    .venv/bin/python bench/sim_page_timeline.py --database-url postgres://postgres@127.0.0.1:5432/timeline_bench

Cases whose p95 is over the target get their SQL printed, with per-query times and the plans.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sim_list  # noqa: E402  (bench/sim_list.py: the seeding, the client, the timing and the table)
from sim_list import PRODUCT_SLUG, Case  # noqa: E402

DEFAULT_DATABASE_URL = "sqlite:////tmp/timeline_bench.sqlite3"
DAYS = 30
HOURS = DAYS * 24
# Which active SIMs have which history, by id (the daily SIMs with a mismatch are some of the daily ones; the SIMs
# with usage by day include the busy and the daily ones).
BUSY = "s.id %% 250 = 0"
DAILY = "s.id %% 50 = 10"
IMEI_MISMATCH = "s.id %% 500 = 10"  # daily SIMs whose device has another IMEI than the network sees
WITH_USAGE = "s.id %% 10 = 0"
OPERATOR = "Telekom.de 262-01"


def sql_time(base: str, offset_seconds: str) -> str:
    """SQL for the moment `offset_seconds` (an SQL expression) after `base` (a parameter), as Django stores it."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"({base}::timestamptz + make_interval(secs => {offset_seconds}))"
    return f"strftime('%%Y-%%m-%%d %%H:%%M:%%S', {base}, ({offset_seconds}) || ' seconds')"


def series(name: str, last: int) -> tuple[str, str]:
    """A WITH clause and a FROM item giving `name` = 0..last."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return "", f"generate_series(0, {last}) AS {name}({name})"
    return f"WITH RECURSIVE {name}_s({name}) AS (SELECT 0 UNION ALL SELECT {name} + 1 FROM {name}_s WHERE {name} < {last}) ", f"{name}_s"


def text_id(*parts: str) -> str:
    """SQL for a text id 'tb-<part>-<part>' (zero-padded numbers, so the unique index is filled in order)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return "'tb-' || " + " || '-' || ".join(f"lpad(({p})::text, 7, '0')" for p in parts)
    return "'tb-' || " + " || '-' || ".join(f"printf('%%07d', {p})" for p in parts)


def imei(sim_id: str) -> str:
    """SQL for the IMEI the network sees of the SIM `sim_id` (its device's)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"('3569380356' || lpad(({sim_id} %% 100000)::text, 5, '0'))"
    return f"('3569380356' || printf('%%05d', {sim_id} %% 100000))"


def json_list() -> str:
    from django.db import connection

    return "'[]'::jsonb" if connection.vendor == "postgresql" else "'[]'"


def sql_day(base: str, days: str) -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"(({base}::timestamptz AT TIME ZONE 'UTC')::date + {days})"
    return f"date({base}, ({days}) || ' days')"


def history_statements(product_id: int, base: object) -> dict[str, tuple[str, list]]:
    """The INSERT ... SELECT statements of the history, by what they write. Hour 0 is 30 days ago."""
    active = f"s.product_id = {product_id} AND s.state = 'active'"
    hours_with, hours = series("h", HOURS - 1)
    days_with, days = series("d", DAYS - 1)
    ticks_with, ticks = series("q", DAYS * 96 - 1)
    network = "INSERT INTO sims_networkevent (event_id, sim_id, product_id, kind, at, imei, operator, country, rat, cell, cause, bytes, received_at) "
    columns = "(sim_id, product_id, status, since, last_event_at, last_attach_at, last_session_start_at, last_session_end_at, operator, country, rat, imei, last_reject_at, last_reject_cause, reset_requested_at)"
    upsert = (
        "ON CONFLICT (sim_id) DO UPDATE SET status = excluded.status, since = excluded.since, last_event_at = excluded.last_event_at, "
        "last_attach_at = excluded.last_attach_at, last_session_start_at = excluded.last_session_start_at, "
        "last_session_end_at = excluded.last_session_end_at, operator = excluded.operator, country = excluded.country, rat = excluded.rat, "
        "imei = excluded.imei, last_reject_at = NULL, last_reject_cause = ''"
    )
    last_hour, last_day = (HOURS - 1) * 3600, (DAYS - 1) * 86400
    daily_at = f"{last_day} + (s.id %% 23) * 3600"  # the daily SIMs' last attach
    return {
        "usage ticks, every 15 minutes": (
            f"{ticks_with}INSERT INTO sims_usagetick (slot, queued_at, started_at, finished_at, usage_since, usage_until, summary) "
            f"SELECT {sql_time('%s', 'q * 900')}, {sql_time('%s', 'q * 900')}, {sql_time('%s', 'q * 900 + 5')}, {sql_time('%s', 'q * 900 + 60')}, "
            f"{sql_time('%s', 'q * 900 - 3600')}, {sql_time('%s', 'q * 900')}, '' FROM {ticks} ORDER BY q",
            [base] * 6,
        ),
        "busy SIMs' data sessions": (
            f"{hours_with}{network}"
            f"SELECT {text_id('s.id', 'h * 2 + k.n')}, s.id, s.product_id, k.kind, {sql_time('%s', 'h * 3600 + k.minute * 60')}, "
            f"{imei('s.id')}, '{OPERATOR}', 'DE', 'LTE-M', '26201-' || (s.id %% 97), '', "
            f"CASE WHEN k.n = 1 THEN 20000 + (s.id * 7919 + h * 104729) %% 900000 ELSE 0 END, {sql_time('%s', 'h * 3600 + k.minute * 60 + 120')} "
            f"FROM sims_sim s CROSS JOIN {hours} CROSS JOIN (SELECT 0 AS n, 'session_start' AS kind, 5 AS minute "
            "UNION ALL SELECT 1, 'session_end', 12) k "
            f"WHERE {active} AND {BUSY} ORDER BY s.id, h, k.n",
            [base, base],
        ),
        "busy SIMs' location updates": (
            f"{hours_with}{network}"
            f"SELECT {text_id('s.id', '2000 + h')}, s.id, s.product_id, 'location', {sql_time('%s', 'h * 3600 + 1800')}, "
            f"{imei('s.id')}, '{OPERATOR}', 'DE', 'LTE-M', '26201-' || (s.id %% 89 + h %% 7), '', 0, {sql_time('%s', 'h * 3600 + 1920')} "
            f"FROM sims_sim s CROSS JOIN {hours} WHERE {active} AND {BUSY} AND h %% 6 = 3 ORDER BY s.id, h",
            [base, base],
        ),
        "daily SIMs' attach, session, detach": (
            f"{days_with}{network}"
            f"SELECT {text_id('s.id', 'd * 4 + k.n')}, s.id, s.product_id, k.kind, {sql_time('%s', 'd * 86400 + (s.id %% 23) * 3600 + k.minute * 60')}, "
            f"{imei('s.id')}, '{OPERATOR}', 'DE', 'NB-IoT', '26201-' || (s.id %% 97), '', "
            f"CASE WHEN k.n = 2 THEN 1000 + (s.id * 7919 + d * 104729) %% 90000 ELSE 0 END, "
            f"{sql_time('%s', 'd * 86400 + (s.id %% 23) * 3600 + k.minute * 60 + 300')} "
            f"FROM sims_sim s CROSS JOIN {days} CROSS JOIN (SELECT 0 AS n, 'attach' AS kind, 0 AS minute UNION ALL SELECT 1, 'session_start', 1 "
            "UNION ALL SELECT 2, 'session_end', 3 UNION ALL SELECT 3, 'detach', 4) k "
            f"WHERE {active} AND {DAILY} ORDER BY s.id, d, k.n",
            [base, base],
        ),
        "busy SIMs' pauses by the data limit": (
            "INSERT INTO sims_simevent (sim_id, product_id, action, from_state, to_state, actor_kind, actor_user_id, actor_name, reason, created_at) "
            f"SELECT s.id, s.product_id, k.action, k.from_state, k.to_state, k.actor, NULL, k.name, k.reason, {sql_time('%s', 'k.at * 3600 + s.id %% 3600')} "
            "FROM sims_sim s CROSS JOIN (SELECT 'pause' AS action, 'active' AS from_state, 'paused' AS to_state, 'system' AS actor, "
            "'data limit' AS name, 'Data limit reached' AS reason, 200 AS at "
            "UNION ALL SELECT 'unpause', 'paused', 'active', 'user', 'demo', '', 210 "
            "UNION ALL SELECT 'pause', 'active', 'paused', 'system', 'data limit', 'Data limit reached', 500 "
            "UNION ALL SELECT 'unpause', 'paused', 'active', 'user', 'demo', '', 503) k "
            f"WHERE {active} AND {BUSY} ORDER BY s.id, k.at",
            [base],
        ),
        "usage by day": (
            f"{days_with}INSERT INTO sims_simdailyusage (sim_id, product_id, day, bytes, sms) "
            f"SELECT s.id, s.product_id, {sql_day('%s', 'd')}, "
            f"CASE WHEN {BUSY} THEN 10000000 ELSE 90000 END + (s.id * 7919 + d * 104729) %% 500000, CASE WHEN {BUSY} THEN 1 ELSE 0 END "
            f"FROM sims_sim s CROSS JOIN {days} WHERE {active} AND {WITH_USAGE} ORDER BY s.id, d",
            [base],
        ),
        "busy SIMs' SMS": (
            f"{days_with}INSERT INTO carriers_smsmessage (sim_id, product_id, account_key, direction, body, status, reason, carrier_message_id, "
            "created_by_id, batch_id, created_at, sent_at, delivered_at, received_at, updated_at, attempts, retry_at, claim, claimed_until) "
            f"SELECT s.id, s.product_id, 0, k.direction, k.body, k.status, '', {text_id('s.id', 'd * 2 + k.n')}, NULL, NULL, "
            f"{sql_time('%s', 'd * 86400 + 30000 + k.n * 600')}, {sql_time('%s', 'd * 86400 + 30000 + k.n * 600')}, "
            f"{sql_time('%s', 'd * 86400 + 30010 + k.n * 600')}, {sql_time('%s', 'd * 86400 + 30000 + k.n * 600')}, "
            f"{sql_time('%s', 'd * 86400 + 30010 + k.n * 600')}, 1, NULL, '', NULL "
            f"FROM sims_sim s CROSS JOIN {days} CROSS JOIN (SELECT 0 AS n, 'mt' AS direction, 'report' AS body, 'delivered' AS status "
            "UNION ALL SELECT 1, 'mo', 'ok 87%% battery', 'received') k "
            f"WHERE {active} AND {BUSY} AND (k.n = 0 OR d %% 3 = 0) ORDER BY s.id, d, k.n",
            [base] * 5,
        ),
        "devices": (
            "INSERT INTO devices_device (product_id, device_id, name, imei, model, tags, created_at) "
            f"SELECT s.product_id, {text_id('s.id', 'k.n')}, 'Tracker ' || s.id || k.suffix, "
            f"CASE WHEN {IMEI_MISMATCH} THEN '35693803560000' || k.n ELSE {imei('s.id')} END, 'Tracker v2', {json_list()}, {sql_time('%s', '-86400 * 60')} "
            "FROM sims_sim s CROSS JOIN (SELECT 0 AS n, '' AS suffix UNION ALL SELECT 1, ' (old)') k "
            f"WHERE {active} AND ({BUSY} OR ({DAILY} AND k.n = 0)) ORDER BY s.id, k.n",
            [base],
        ),
        "device assignments (busy SIMs moved 12 days ago)": (
            "INSERT INTO devices_deviceassignment (sim_id, device_id, started_at, ended_at, source, by_user_id) "
            f"SELECT s.id, d.id, CASE WHEN k.n = 0 AND {BUSY} THEN {sql_time('%s', (HOURS - 12 * 24) * 3600)} ELSE {sql_time('%s', '-86400 * 60')} END, "
            f"CASE WHEN k.n = 1 THEN {sql_time('%s', (HOURS - 12 * 24) * 3600)} END, 'network', NULL "
            "FROM sims_sim s CROSS JOIN (SELECT 0 AS n UNION ALL SELECT 1) k "
            f"JOIN devices_device d ON d.product_id = s.product_id AND d.device_id = {text_id('s.id', 'k.n')} "
            f"WHERE {active} AND ({BUSY} OR {DAILY}) ORDER BY s.id, k.n",
            [base, base, base],
        ),
        "SIMs in their device": (
            f"UPDATE sims_sim SET device_id = (SELECT d.id FROM devices_device d WHERE d.product_id = {product_id} "
            f"AND d.device_id = {text_id('sims_sim.id', '0')}) "
            f"WHERE product_id = {product_id} AND state = 'active' AND ({BUSY} OR {DAILY})".replace("s.id", "id"),
            [],
        ),
        "busy SIMs' connectivity (between sessions)": (
            f"INSERT INTO sims_simconnectivity {columns} "
            f"SELECT s.id, s.product_id, 'attached', {sql_time('%s', last_hour + 720)}, {sql_time('%s', last_hour + 720)}, "
            f"{sql_time('%s', -86400)}, {sql_time('%s', last_hour + 300)}, {sql_time('%s', last_hour + 720)}, "
            f"'{OPERATOR}', 'DE', 'LTE-M', {imei('s.id')}, NULL, '', NULL FROM sims_sim s WHERE {active} AND {BUSY} {upsert}",
            [base] * 5,
        ),
        "daily SIMs' connectivity (detached)": (
            f"INSERT INTO sims_simconnectivity {columns} "
            f"SELECT s.id, s.product_id, 'offline', {sql_time('%s', f'{daily_at} + 240')}, {sql_time('%s', f'{daily_at} + 240')}, "
            f"{sql_time('%s', daily_at)}, {sql_time('%s', f'{daily_at} + 60')}, {sql_time('%s', f'{daily_at} + 180')}, "
            f"'{OPERATOR}', 'DE', 'NB-IoT', {imei('s.id')}, NULL, '', NULL FROM sims_sim s WHERE {active} AND {DAILY} {upsert}",
            [base] * 5,
        ),
    }


def prepare_history() -> None:
    """The 30 days of history described in the module's docstring, written once."""
    from django.db import connection, transaction
    from django.utils import timezone

    from devices.models import Device
    from lib.bulk_insert import db_datetime
    from products.models import Product

    product = Product.objects.get(slug=PRODUCT_SLUG)
    if Device.objects.filter(product=product, device_id__startswith="tb-").exists():
        return
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS)
    print(f"Writing 30 days of history from {start:%Y-%m-%d %H:%M} UTC:")
    for name, (sql, params) in history_statements(product.pk, db_datetime(start)).items():
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.rowcount
        counted = f"{rows:,} rows" if rows >= 0 else "done"  # SQLite counts no rows of a WITH ... INSERT
        print(f"  {name}: {counted} in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    sim_list.analyze()
    print(f"ANALYZE took {time.perf_counter() - started:.1f} s.")


def history_size(sim_id: int) -> int:
    """The SIM's timeline entries, all sources."""
    from carriers.models import SmsMessage
    from devices.models import DeviceAssignment
    from sims.models import NetworkEvent, SimDailyUsage, SimEvent

    return sum(
        model.objects.filter(sim_id=sim_id).count() for model in (NetworkEvent, SimEvent, SimDailyUsage, SmsMessage, DeviceAssignment)
    )


def pick_sims() -> dict[str, object]:
    """A SIM of each kind, near the middle of the fleet, by what its page shows."""
    from django.db.models import Q
    from django.db.models.functions import Mod

    from products.models import Product
    from sims.models import Sim
    from sims.why_offline import connectivity_of, why_offline

    product = Product.objects.get(slug=PRODUCT_SLUG)
    sims = Sim.objects.filter(product=product).order_by("id")
    middle = sims.values_list("id", flat=True)[sims.count() // 2]
    later = sims.filter(id__gte=middle)
    placed = later.filter(state="active", device__isnull=False).annotate(by250=Mod("id", 250), by50=Mod("id", 50), by500=Mod("id", 500))
    busy = placed.filter(by250=0).first()
    daily = placed.filter(by50=10).exclude(by500=10).first()
    mismatch = placed.filter(by500=10).first()
    quiet = later.filter(state="active", device__isnull=True).exclude(id__in=[busy.pk, daily.pk, mismatch.pk])
    picked: dict[str, object] = {"busy": busy, "daily": daily, "mismatch": mismatch}
    wanted = {"online": None, "rejected": None, "detached": None, "no_session": None, "between_sessions": None, "never_attached": None}
    for sim in quiet.select_related("connectivity")[:3000]:
        reason = why_offline(sim, connectivity_of(sim))
        code = "online" if reason is None else reason.code
        if code in wanted and wanted[code] is None:
            wanted[code] = sim
        if all(wanted.values()):
            break
    picked.update({f"quiet {code}": sim for code, sim in wanted.items() if sim is not None})
    for state in ("suspended", "terminated", "issued"):
        picked[f"quiet {state}"] = later.filter(~Q(id__in=[s.pk for s in picked.values()]), state=state).first()
    return picked


def timeline_cursors(sim) -> tuple[str, str, str, int]:
    """Cursors of the SIM's second page, of the page 15 days back and of its oldest page; and its pages."""
    from django.utils import timezone

    from sims.timeline import timeline

    pages, after = [], None
    while True:
        page = timeline(sim, after=after)
        pages.append((after, page))
        if page.next is None:
            break
        after = page.next
    back = timezone.now() - timedelta(days=15)
    middle = next(cursor for cursor, page in pages if page.entries and page.entries[0].at < back)
    return pages[1][0].encode(), middle.encode(), pages[-1][0].encode(), len(pages)


def build_cases() -> list[Case]:
    from django.urls import reverse

    from sims.why_offline import connectivity_of, why_offline

    picked = pick_sims()
    busy = picked["busy"]
    second, middle, oldest, pages = timeline_cursors(busy)
    daily_second, daily_middle, daily_oldest, daily_pages = timeline_cursors(picked["daily"])

    def url(name: str, sim, query: str = "") -> str:
        return reverse(name, args=[PRODUCT_SLUG, sim.iccid]) + (f"?{query}" if query else "")

    cases = [Case("trivial page (team), for comparison", "", url=reverse("team", args=[PRODUCT_SLUG]))]
    for label, sim in picked.items():
        reason = why_offline(sim, connectivity_of(sim))
        card = f"why offline: {reason.code}" if reason else "online, no card"
        cases.append(Case(f"SIM page, {label} SIM ({card})", "", url=url("sim_detail", sim), matched=history_size(sim.pk)))
    cases += [
        Case(f"busy: timeline page 2 of {pages} (htmx)", "", sim_list.HTMX_HEADERS, url=url("sim_timeline", busy, f"after={second}")),
        Case("busy: timeline 15 days back (htmx)", "", sim_list.HTMX_HEADERS, url=url("sim_timeline", busy, f"after={middle}")),
        Case(f"busy: timeline oldest page {pages} (htmx)", "", sim_list.HTMX_HEADERS, url=url("sim_timeline", busy, f"after={oldest}")),
        Case("daily: timeline page 2 (htmx)", "", sim_list.HTMX_HEADERS, url=url("sim_timeline", picked["daily"], f"after={daily_second}")),
        Case("daily: timeline 15 days back (htmx)", "", sim_list.HTMX_HEADERS, url=url("sim_timeline", picked["daily"], f"after={daily_middle}")),
        Case(f"daily: timeline oldest page {daily_pages} (htmx)", "", sim_list.HTMX_HEADERS, url=url("sim_timeline", picked["daily"], f"after={daily_oldest}")),
        Case("busy: SMS card (loaded with the page)", "", sim_list.HTMX_HEADERS, url=url("sim_sms", busy)),
        Case("busy: IMEI lock card (loaded with the page)", "", sim_list.HTMX_HEADERS, url=url("sim_imei_lock", busy)),
        Case("busy: usage by zone (loaded with the page)", "", sim_list.HTMX_HEADERS, url=url("sim_usage_by_zone", busy)),
    ]
    for case in cases:
        for sim in (busy, picked["daily"]):
            if f"/{sim.iccid}/" in case.url:
                case.matched = history_size(sim.pk)
    return cases


def print_cpu(cases: list[Case]) -> None:
    """The bench process's CPU time per request: the view, the template and (SQLite) the queries, less the
    machine's load than the clock's times (on PostgreSQL the server's CPU is not in it)."""
    import statistics

    print("CPU time of the bench process per request (median ms), beside the clock's median:")
    for case in cases:
        print(f"  {case.name:<60} {statistics.median(case.cpu_ms):7.1f}  {case.median:7.1f}")
    print()


def print_volumes() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("sims_sim", "sims_usagetick", "sims_networkevent", "sims_simevent", "sims_simdailyusage", "carriers_smsmessage", "devices_deviceassignment"):
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            print(f"  {table}: {cursor.fetchone()[0]:,} rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help=f"default: {DEFAULT_DATABASE_URL}")
    parser.add_argument("--sims", type=int, default=1_000_000, help="SIMs in the demo product (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per case (default 30)")
    parser.add_argument("--prepare-only", action="store_true", help="seed the database, time nothing")
    args = parser.parse_args()
    sim_list.setup_django(args.database_url)
    sim_list.prepare_database(args.sims)
    prepare_history()
    print_volumes()
    if args.prepare_only:
        return
    cases = build_cases()
    client = sim_list.signed_in_client()
    sim_list.measure(client, cases, args.repeat)
    sim_list.print_table(cases, args.repeat)
    print("'rows matched' is the SIM's timeline entries, all sources.")
    print_cpu(cases)
    sim_list.explain_slow_cases(client, cases)


if __name__ == "__main__":
    main()

"""What a person sees of usage: the fleet header, spikes, data limits, a SIM's usage, the triggers page."""

from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
from django.urls import reverse
from django.utils import timezone

from console.templatetags.charts import factor
from lib.charts import DayUsage, daily_bars, usage_against_limit
from lib.units import KB, MB
from products.fleet import active_sim_count, fleet_summary, fleet_usage
from products.models import Product
from sims.models import SimEvent, State
from sims.spikes import detect_spikes
from sims.usage import UsageRow, ingest_usage
from tests.conftest import text_of

HTMX = {"HX-Request": "true"}
_ids = count(1)


def usage(sim, *, megabytes: float, at: datetime | None = None, country: str = "DE") -> UsageRow:
    """A record at `at` (default: now, so it counts this period and today whenever the test runs)."""
    at = at or timezone.now()
    total = int(megabytes * MB)
    return UsageRow(
        record_id=f"fleet-{next(_ids)}", iccid=sim.iccid, started_at=at, ended_at=at,
        bytes_up=total // 4, bytes_down=total - total // 4, sms=0, country=country,
    )  # fmt: skip


def list_url(product, query: str = "") -> str:
    return reverse("sim_list", args=[product.slug]) + (f"?{query}" if query else "")


def spike(sim, *, yesterday_mb: float) -> date:
    """Two steady weeks of 200 KB a day, then a big day yesterday; detected. Returns yesterday."""
    today = timezone.now().date()
    yesterday = today - timedelta(days=1)
    noon = datetime.combine(yesterday, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    rows = [usage(sim, megabytes=0.2, at=noon - timedelta(days=n)) for n in range(1, 15)]
    ingest_usage([*rows, usage(sim, megabytes=yesterday_mb, at=noon)])
    detect_spikes(day=yesterday, products=Product.objects.filter(pk=sim.product_id))
    return yesterday


# The fleet module


def test_fleet_usage_sums_this_month_by_day_with_the_newest_record_time(product, make_sim):
    a, b = make_sim(product), make_sim(product)
    ingest_usage([usage(a, megabytes=1.5), usage(b, megabytes=2, country="FR")])
    now = timezone.now()

    fleet = fleet_usage(product, now=now)

    assert fleet.bytes == int(3.5 * MB)
    assert fleet.as_of is not None and abs(fleet.as_of - now) < timedelta(minutes=1)
    today = [d for d in fleet.days if d.day == now.date()]
    assert today == [DayUsage(day=now.date(), bytes=int(3.5 * MB))]
    assert fleet.days[0].day == now.date().replace(day=1)
    assert all(d.bytes is None for d in fleet.days if d.day > now.date())  # still to come
    assert all(d.bytes == 0 for d in fleet.days if d.day < now.date())


def test_last_months_usage_is_not_this_periods(product, make_sim):
    sim = make_sim(product, data_limit_mb=1000)
    first = timezone.now().date().replace(day=1)
    last_month = datetime.combine(first - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    ingest_usage([usage(sim, megabytes=9, at=last_month)])

    fleet = fleet_usage(product, now=timezone.now())

    assert (fleet.bytes, fleet.as_of) == (0, None)


def test_active_sims_are_active_or_paused(product, make_sim):
    for state in (State.ACTIVE, State.ACTIVE, State.PAUSED, State.SUSPENDED, State.PROVISIONED, State.TERMINATED):
        make_sim(product, state=state)
    assert active_sim_count(product) == 3


def test_the_summary_lists_the_largest_spikes_first_and_counts_the_rest(product, make_sim, settings, monkeypatch):
    monkeypatch.setattr("products.fleet.SPIKES_SHOWN", 2)
    sims = [make_sim(product, data_limit_mb=1000) for _ in range(3)]
    for sim, megabytes in zip(sims, (5, 40, 12), strict=True):
        day = spike(sim, yesterday_mb=megabytes)

    summary = fleet_summary(product, now=timezone.now())

    assert summary.spikes is not None
    assert summary.spikes.day == day
    assert [s.sim for s in summary.spikes.shown] == [sims[1], sims[2]]
    assert (summary.spikes.total, summary.spikes.more) == (3, 1)


def test_no_recent_spikes_no_card(product, make_sim):
    make_sim(product)
    assert fleet_summary(product, now=timezone.now()).spikes is None


# Charts


def test_bars_scale_to_the_busiest_day_and_each_has_a_tooltip():
    days = [DayUsage(date(2026, 11, 1), 2 * MB), DayUsage(date(2026, 11, 2), 0), DayUsage(date(2026, 11, 3), None)]
    chart = daily_bars(days, width=300, height=40, what="Fleet usage")
    assert [bar.kind for bar in chart.bars] == ["", "zero", "future"]
    assert chart.bars[0].height == 40
    assert [bar.title for bar in chart.bars] == ["Sun 1 Nov: 2.0 MB", "Mon 2 Nov: no usage", "Tue 3 Nov: still to come"]
    assert chart.label == "Fleet usage, 1 Nov to 3 Nov 2026: 2.0 MB in all on 1 day, the most 2.0 MB on 1 Nov."


def test_a_small_day_next_to_a_huge_one_still_shows():
    days = [DayUsage(date(2026, 11, 1), 1_000 * MB), DayUsage(date(2026, 11, 2), 1 * KB)]
    assert daily_bars(days, width=300, height=40, what="x").bars[1].height >= 1


def test_the_usage_bar_is_full_and_says_so_at_the_limit():
    assert usage_against_limit(int(3.2 * MB), 5 * MB).filled == 64
    over = usage_against_limit(6 * MB, 5 * MB)
    assert (over.filled, over.over, over.percent) == (100, True, 120)


def test_factors_read_briefly():
    assert [factor(value) for value in (3.44, 67.4, 1234.0)] == ["×3.4", "×67", "×1,234"]


def test_the_fleet_header_reads_its_usage_as_its_days_do(mid_month, owner_client, product, make_sim):
    """One rule on the card: 4.37 GB in all beside a busiest day of 1.36 GB, not 4,371 MB beside it."""
    sim = make_sim(product, data_limit_mb=100_000)
    today = mid_month.date()
    noon = datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    ingest_usage([usage(sim, megabytes=1_360, at=noon - timedelta(days=2)), usage(sim, megabytes=3_011.2, at=noon - timedelta(days=1))])
    html = owner_client.get(list_url(product)).content.decode()
    header = html.split('class="card fleet-header"')[1].split("</section>")[0]
    assert '<span class="stat-value">4.37 GB</span>' in header
    assert "1.36 GB" in header and " MB" not in header


# The SIMs page: fleet header and spikes


def test_the_sims_page_shows_the_fleet_header(owner_client, product, make_sim):
    sim = make_sim(product)
    ingest_usage([usage(sim, megabytes=3.2)])

    response = owner_client.get(list_url(product))

    page = text_of(response)
    assert "Data usage" in page and "3.2 MB" in page and "as of" in page
    assert "Active SIMs" in page and "active or paused at their limit" in page
    assert "Monthly cost" in page and "pricing this period" in page
    html = response.content.decode()
    assert 'role="img"' in html and "Fleet data usage per day this month" in html
    assert html.count("<title>") >= 28  # a tooltip per day of the month
    assert reverse("fleet_active_sims", args=[product.slug]) in html  # the count comes in its own request
    assert reverse("fleet_monthly_cost", args=[product.slug]) in html  # and so does the cost


def test_the_country_filter_keeps_its_choice_with_the_faster_select(owner_client, product, sim):
    html = owner_client.get(list_url(product, "country=FR")).content.decode()
    assert '<option value="FR" selected>France</option>' in html
    assert '<option value="DE">Germany</option>' in html
    assert html.count(" selected>") == 4  # the country, "All states", the network's and the connectivity's "Any"
    unknown = owner_client.get(list_url(product, "country=XX")).content.decode()
    assert unknown.split('name="country"')[1].split("</select>")[0].count("selected>") == 1
    assert '<option value="" selected>All countries</option>' in unknown


def test_a_product_without_usage_says_so(owner_client, product, sim):
    assert "no usage yet this period" in text_of(owner_client.get(list_url(product)))


def test_the_htmx_table_request_does_not_carry_the_header(owner_client, product, sim):
    response = owner_client.get(list_url(product), headers={**HTMX, "HX-Target": "sim-table"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="sim-table"')
    assert "fleet-header" not in html


def test_the_active_count_is_a_fragment(owner_client, product, make_sim):
    make_sim(product, state=State.ACTIVE)
    make_sim(product, state=State.PAUSED)
    make_sim(product, state=State.SUSPENDED)
    response = owner_client.get(reverse("fleet_active_sims", args=[product.slug]), headers=HTMX)
    assert response.content.decode().strip() == '<span id="fleet-active" class="stat-value">2</span>'


def test_the_spikes_card_lists_each_sim_with_its_day_baseline_and_factor(owner_client, product, make_sim):
    sim = make_sim(product, data_limit_mb=1000)
    day = spike(sim, yesterday_mb=8)

    page = text_of(owner_client.get(list_url(product)))

    assert f"Usage spikes on {day:%a} {day.day} {day:%b}" in page
    assert f"{sim.iccid} 8.0 MB 200.0 KB ×40" in page
    html = owner_client.get(list_url(product)).content.decode()
    assert reverse("sim_detail", args=[product.slug, sim.iccid]) in html
    assert "?spikes=1" in html


def test_a_spike_of_a_sim_usually_silent_says_new_traffic_not_a_factor(owner_client, product, make_sim):
    sim = make_sim(product, data_limit_mb=1000)
    yesterday = timezone.now().date() - timedelta(days=1)
    noon = datetime.combine(yesterday, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    ingest_usage([usage(sim, megabytes=12.7, at=noon)])
    detect_spikes(day=yesterday, products=Product.objects.filter(pk=product.pk))

    page = text_of(owner_client.get(list_url(product)))

    assert f"{sim.iccid} 12.7 MB none new traffic" in page
    assert "0 B" not in page and "×1,270" not in page


def test_the_spikes_filter_shows_only_spiking_sims_and_keeps_the_other_filters(owner_client, product, make_sim):
    spiking = make_sim(product, data_limit_mb=1000, home_country="DE")
    other_spiking = make_sim(product, data_limit_mb=1000, home_country="FR")
    calm = make_sim(product, data_limit_mb=1000, home_country="DE")
    spike(spiking, yesterday_mb=8)
    spike(other_spiking, yesterday_mb=9)
    ingest_usage([usage(calm, megabytes=0.1)])

    def shown(query: str) -> set[str]:
        html = owner_client.get(list_url(product, query), headers={**HTMX, "HX-Target": "sim-table"}).content.decode()
        return {s.iccid for s in (spiking, other_spiking, calm) if f'aria-label="Select {s.iccid}"' in html}

    assert shown("spikes=1") == {spiking.iccid, other_spiking.iccid}
    assert shown("spikes=1&country=DE") == {spiking.iccid}
    count = owner_client.get(reverse("sim_count", args=[product.slug]) + "?spikes=1", headers=HTMX)
    assert "2 SIMs" in text_of(count)


def test_the_spikes_filter_keeps_keyset_paging(owner_client, product, make_sim, settings):
    settings.SIMS_PER_PAGE = 2
    sims = sorted((make_sim(product, data_limit_mb=1000) for _ in range(3)), key=lambda s: s.iccid)
    for sim in sims:
        spike(sim, yesterday_mb=8)
    make_sim(product)

    first = owner_client.get(list_url(product, "spikes=1")).content.decode()
    assert f"?spikes=1&amp;after={sims[1].iccid}" in first
    second = owner_client.get(list_url(product, f"spikes=1&after={sims[1].iccid}")).content.decode()
    assert f'aria-label="Select {sims[2].iccid}"' in second
    assert f'aria-label="Select {sims[0].iccid}"' not in second


def test_the_spikes_filter_without_recent_spikes_matches_nothing(owner_client, product, sim):
    page = text_of(owner_client.get(list_url(product, "spikes=1")))
    assert "No SIM matches this filter" in page


def test_a_bulk_action_on_all_spiking_sims_reaches_only_them(owner_client, product, make_sim):
    spiking, calm = make_sim(product, data_limit_mb=1000), make_sim(product, data_limit_mb=1000)
    spike(spiking, yesterday_mb=8)

    owner_client.post(reverse("sims_bulk", args=[product.slug]), {"action": "deactivate", "scope": "matching", "spikes": "True"})

    spiking.refresh_from_db()
    calm.refresh_from_db()
    assert (spiking.state, calm.state) == (State.SUSPENDED, State.ACTIVE)


@pytest.mark.parametrize("with_spikes, queries", [(False, 10), (True, 12)])  # the rows' connectivity: one query
def test_the_sims_page_query_count_is_bounded(owner_client, product, make_sim, django_assert_max_num_queries, with_spikes, queries):
    sims = [make_sim(product, data_limit_mb=1000) for _ in range(15)]
    if with_spikes:
        for sim in sims:
            spike(sim, yesterday_mb=8)
    # session, user, membership, page, its SIMs' usage this period; usage this month; newest spike day (+ its spikes and
    # their count); bulk jobs under way; the adapters of the product's carrier accounts (what the bulk bar offers)
    with django_assert_max_num_queries(queries):
        response = owner_client.get(list_url(product))
    assert response.status_code == 200


# The product's default data limit


def test_any_member_sets_the_products_default_for_sims_imported_from_now_on(teammate_client, product, sim, caplog):
    url = reverse("product_data_limit", args=[product.slug])
    with caplog.at_level("INFO", logger="products.views"):
        response = teammate_client.post(url, {"data_limit_mb": "25"}, follow=True)

    product.refresh_from_db()
    sim.refresh_from_db()
    assert product.default_data_limit_mb == 25
    page = text_of(response)
    assert "Default data limit of Acme Trackers set to 25 MB, for SIMs imported from now on." in page
    assert "SIMs already in the product keep their own limit." in page
    assert "changed from None to 25 MB by teammate" in caplog.text
    assert not SimEvent.objects.exists()  # no event per SIM


def test_the_form_says_plainly_whom_the_default_applies_to(owner_client, product, sim):
    page = text_of(owner_client.get(list_url(product)))
    assert "Applies to SIMs imported from now on" in page
    assert "SIMs already in the product keep their own limit" in page


def test_an_empty_default_means_the_console_default(owner_client, product):
    product.default_data_limit_mb = 40
    product.save()
    response = owner_client.post(reverse("product_data_limit", args=[product.slug]), {"data_limit_mb": ""}, follow=True)
    product.refresh_from_db()
    assert product.default_data_limit_mb is None
    assert "set to 5 MB (the console default)" in text_of(response)


def test_a_bad_default_is_refused_with_the_reason(owner_client, product):
    response = owner_client.post(reverse("product_data_limit", args=[product.slug]), {"data_limit_mb": "0"}, follow=True)
    product.refresh_from_db()
    assert product.default_data_limit_mb is None
    assert "not changed: The data limit must be at least 1 MB." in text_of(response)


# A SIM's data limit: pause at once, offer to unpause


def set_limit(client, product, sim, megabytes: int, **extra):
    url = reverse("sim_action", args=[product.slug, sim.iccid, "set_data_limit"])
    return client.post(url, {"data_limit_mb": str(megabytes), **extra}, headers=HTMX)


def test_a_limit_under_the_usage_pauses_the_sim_at_once(owner_client, product, make_sim):
    sim = make_sim(product, data_limit_mb=100)
    ingest_usage([usage(sim, megabytes=3)])

    response = set_limit(owner_client, product, sim, 2)

    sim.refresh_from_db()
    assert (sim.state, sim.data_limit_mb) == (State.PAUSED, 2)
    assert "data limit set to 2 MB; paused at once: 3.0 MB used this period reaches it." in text_of(response)


def test_the_menu_of_a_paused_sim_shows_its_usage_and_offers_to_unpause(owner_client, product, make_sim):
    sim = make_sim(product, data_limit_mb=None)
    ingest_usage([usage(sim, megabytes=6)])
    sim.refresh_from_db()
    assert sim.state == State.PAUSED

    html = owner_client.get(reverse("sim_menu", args=[product.slug, sim.iccid]), headers=HTMX).content.decode()

    assert "Used this period: 6.0 MB" in html
    assert '<input type="checkbox" name="unpause" value="on" checked>' in html


def test_raising_the_limit_above_the_usage_unpauses_when_asked(owner_client, product, make_sim):
    sim = make_sim(product, data_limit_mb=None)
    ingest_usage([usage(sim, megabytes=6)])

    response = set_limit(owner_client, product, sim, 10, unpause="on")

    sim.refresh_from_db()
    assert sim.state == State.ACTIVE
    assert "data limit set to 10 MB; unpaused: 6.0 MB used this period is under it." in text_of(response)
    assert SimEvent.objects.filter(sim=sim, action="unpause", actor_name="owner").exists()


def test_raising_the_limit_without_the_box_leaves_the_sim_paused(owner_client, product, make_sim):
    sim = make_sim(product, data_limit_mb=None)
    ingest_usage([usage(sim, megabytes=6)])

    response = set_limit(owner_client, product, sim, 10)

    sim.refresh_from_db()
    assert (sim.state, sim.data_limit_mb) == (State.PAUSED, 10)
    assert "still paused (unpause it when you are ready)" in text_of(response)


def test_a_raise_still_under_the_usage_does_not_unpause(owner_client, product, make_sim):
    sim = make_sim(product, data_limit_mb=None)
    ingest_usage([usage(sim, megabytes=6)])

    response = set_limit(owner_client, product, sim, 6, unpause="on")

    sim.refresh_from_db()
    assert sim.state == State.PAUSED
    assert "still paused: 6.0 MB used this period reaches it." in text_of(response)


def test_a_bulk_limit_pauses_those_over_it_and_unpauses_those_under_it(owner_client, product, make_sim):
    heavy, light, paused = (make_sim(product, data_limit_mb=100) for _ in range(3))
    paused.data_limit_mb = 1
    paused.save()
    ingest_usage([usage(heavy, megabytes=9), usage(light, megabytes=1), usage(paused, megabytes=4)])
    paused.refresh_from_db()
    assert paused.state == State.PAUSED

    response = owner_client.post(
        reverse("sims_bulk", args=[product.slug]),
        {"action": "set_data_limit", "scope": "matching", "data_limit_mb": "5", "unpause": "on"},
        follow=True,
    )

    states = {s.pk: s.state for s in (heavy, light, paused) if not s.refresh_from_db()}
    assert states == {heavy.pk: State.PAUSED, light.pk: State.ACTIVE, paused.pk: State.ACTIVE}
    assert "1 paused at once (at or over the new limit), 1 unpaused (now under it)." in text_of(response)


def test_the_bulk_htmx_report_tells_the_pauses_and_unpauses(owner_client, product, make_sim):
    sim = make_sim(product, data_limit_mb=100)
    ingest_usage([usage(sim, megabytes=9)])
    response = owner_client.post(
        reverse("sims_bulk", args=[product.slug]),
        {"action": "set_data_limit", "scope": "selected", "ids": [sim.pk], "data_limit_mb": "5"},
        headers=HTMX,
    )
    assert "1 paused at once" in text_of(response)


# A SIM's page


def test_the_sim_page_shows_usage_against_the_limit_and_60_days(owner_client, product, make_sim):
    sim = make_sim(product, data_limit_mb=5)
    ingest_usage([usage(sim, megabytes=3.2)])

    response = owner_client.get(reverse("sim_detail", args=[product.slug, sim.iccid]))

    page = text_of(response)
    assert "3.2 MB of 5 MB" in page and "(64%)" in page
    html = response.content.decode()
    assert html.count('<g class="day') == 60
    assert "Data usage per day" in html and 'role="img"' in html


def test_over_the_limit_is_shown_clearly(owner_client, product, make_sim):
    sim = make_sim(product, data_limit_mb=5)
    ingest_usage([usage(sim, megabytes=6)])
    page = text_of(owner_client.get(reverse("sim_detail", args=[product.slug, sim.iccid])))
    assert "6.0 MB of 5 MB — at or over the limit (120%)" in page


@pytest.mark.parametrize("state", [State.SUSPENDED, State.TERMINATED, State.ISSUED])
def test_the_chart_is_there_whatever_the_state(owner_client, product, make_sim, state):
    sim = make_sim(product, state=state)
    html = owner_client.get(reverse("sim_detail", args=[product.slug, sim.iccid])).content.decode()
    assert html.count('<g class="day') == 60


def test_the_sim_page_query_count_is_bounded(owner_client, product, make_sim, django_assert_max_num_queries):
    sim = make_sim(product)
    ingest_usage([usage(sim, megabytes=1)])
    # session, user, membership, SIM (with its device and carrier account), its connectivity, 60 days of usage;
    # the timeline's first page: one query per source (changes, network events, usage by day, devices, SMS, rule
    # firings) and two for its freshness (the usage by zone, the SMS card and the IMEI lock come in fragments of their own)
    with django_assert_max_num_queries(14):
        owner_client.get(reverse("sim_detail", args=[product.slug, sim.iccid]))


# Automatic triggers


def settings_url(product) -> str:
    return reverse("product_settings", args=[product.slug])


def test_an_admin_edits_the_triggers_and_empty_turns_a_rule_off(owner_client, product):
    response = owner_client.post(
        settings_url(product), {"trigger_data_kb": "50", "trigger_sms": "", "trigger_traffic_days": "3", "trigger_months": "6"}
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.trigger_data_kb, product.trigger_sms, product.trigger_traffic_days, product.trigger_months) == (50, None, 3, 6)


def test_the_triggers_page_explains_the_seeds_defaults(owner_client, product):
    page = text_of(owner_client.get(settings_url(product)))
    assert "5 KB of data, 2 SMS, traffic on 5 days, or 6 months after provisioning" in page
    assert "Leave a rule empty to turn it off" in page


def test_a_member_sees_the_triggers_read_only(teammate_client, product):
    product.trigger_sms = None
    product.save()
    response = teammate_client.get(settings_url(product))
    html = response.content.decode()
    assert "<form" not in html.split('id="triggers"')[1].split("</section>")[0]
    page = text_of(response)
    assert "Data used (KB) 5" in page and "SMS sent off" in page
    assert "Only a product admin can change these" in page


def test_a_members_post_is_403_and_changes_nothing(teammate_client, product):
    response = teammate_client.post(settings_url(product), {"trigger_data_kb": "1"})
    assert response.status_code == 403
    product.refresh_from_db()
    assert product.trigger_data_kb == 5


def test_a_bad_rule_is_refused_with_its_reason(owner_client, product):
    response = owner_client.post(settings_url(product), {"trigger_data_kb": "0", "trigger_sms": "2"}, headers=HTMX)
    assert response.status_code == 400
    assert "Ensure this value is greater than or equal to 1." in text_of(response) or "Use 1 or more" in text_of(response)
    product.refresh_from_db()
    assert product.trigger_data_kb == 5


def test_a_negative_rule_gets_one_error_not_two_that_disagree(owner_client, product):
    response = owner_client.post(settings_url(product), {"trigger_sms": "-3"}, headers=HTMX)
    assert response.status_code == 400
    page = text_of(response)
    assert "Use 1 or more, or leave it empty to turn the rule off." in page
    assert "greater than or equal to 0" not in page


def test_the_htmx_save_returns_the_card_with_a_message(owner_client, product):
    response = owner_client.post(settings_url(product), {"trigger_data_kb": "7", "trigger_sms": "2"}, headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="triggers"')
    assert "Automatic triggers saved" in html


def test_an_outsider_gets_404_for_the_triggers(outsider_client, product):
    assert outsider_client.get(settings_url(product)).status_code == 404
    assert outsider_client.post(settings_url(product), {"trigger_data_kb": "1"}).status_code == 404
    product.refresh_from_db()
    assert product.trigger_data_kb == 5

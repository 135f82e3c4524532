"""The SIMs page's fleet connectivity (issue 17, item 7): online / attached / offline / never seen counts,
the Connectivity filter, the "Offline for" column and its sort, and bulk actions over the filter."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sims.listing import ListOrder, SortKey, page_of_sims, select_sims
from sims.models import BulkJob, Connectivity, Sim, SimConnectivity, State
from sims.bulk_jobs import run_bulk_job
from tests.sims.test_listing import walk_backward, walk_forward

HTMX = {"HX-Request": "true"}


@pytest.fixture
def fleet(product, other_product, make_sim):
    """Named SIMs of the product, each in one connectivity; another product's SIMs, all offline for long."""
    now = timezone.now()
    seen = {
        "online1": (Connectivity.ONLINE, now - timedelta(minutes=5)),
        "online2": (Connectivity.ONLINE, now - timedelta(hours=30)),
        "attached": (Connectivity.ATTACHED, now - timedelta(hours=2)),
        "off2h": (Connectivity.OFFLINE, now - timedelta(hours=2)),
        "off3d_a": (Connectivity.OFFLINE, now - timedelta(days=3)),
        "off3d_b": (Connectivity.OFFLINE, now - timedelta(days=3)),  # the same moment: ties go by ICCID
        "off10d": (Connectivity.OFFLINE, now - timedelta(days=10)),
        "unknown": (Connectivity.UNKNOWN, None),  # a row, but never seen on the network
    }
    sims = {}
    for name, (status, since) in seen.items():
        sims[name] = sim = make_sim(product)
        SimConnectivity.objects.create(sim=sim, product=product, status=status, since=since, last_event_at=since)
    sims["off3d_b"].since = seen["off3d_b"][1]
    sims["never"] = make_sim(product)
    for _ in range(2):
        other = make_sim(other_product)
        SimConnectivity.objects.create(sim=other, product=other_product, status=Connectivity.OFFLINE, since=now - timedelta(days=20))
    return sims


def listed(response) -> list[str]:
    return re.findall(r'<td class="mono"><a href="[^"]+">(\d+)</a>', response.content.decode())


def iccids(fleet, *names) -> set[str]:
    return {fleet[name].iccid for name in names}


def test_the_fleet_header_counts_online_attached_offline_and_never_seen(owner_client, product, fleet):
    page = owner_client.get(reverse("sim_list", args=[product.slug]))
    assert reverse("fleet_connectivity", args=[product.slug]) in page.content.decode()  # counted in its own request

    response = owner_client.get(reverse("fleet_connectivity", args=[product.slug]), headers=HTMX)

    text = re.sub(r"<[^>]+>", "", response.content.decode())
    text = " ".join(text.split())
    assert "2 online" in text
    assert "1 attached" in text
    assert "4 offline (3 for more than 24 h)" in text
    assert "2 never seen" in text  # no row, and a row that never saw the network
    assert f'href="/products/{product.slug}/sims/?connectivity=offline-24h"' in response.content.decode()


def test_the_counts_of_a_product_with_no_sim_seen_are_all_never_seen(owner_client, product, make_sim):
    make_sim(product)
    response = owner_client.get(reverse("fleet_connectivity", args=[product.slug]), headers=HTMX)
    text = " ".join(re.sub(r"<[^>]+>", "", response.content.decode()).split())
    assert "0 online 0 attached 0 offline 1 never seen" in text


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("online", ["online1", "online2"]),
        ("attached", ["attached"]),
        ("offline", ["off2h", "off3d_a", "off3d_b", "off10d"]),
        ("offline-24h", ["off3d_a", "off3d_b", "off10d"]),
        ("offline-7d", ["off10d"]),
        ("never", ["unknown", "never"]),
        ("", ["online1", "online2", "attached", "off2h", "off3d_a", "off3d_b", "off10d", "unknown", "never"]),
    ],
)
def test_each_connectivity_filter_lists_exactly_its_sims_and_counts_them(owner_client, product, fleet, value, names):
    response = owner_client.get(reverse("sim_list", args=[product.slug]), {"connectivity": value})
    assert set(listed(response)) == iccids(fleet, *names)
    assert len(listed(response)) == len(names)
    count = owner_client.get(reverse("sim_count", args=[product.slug]), {"connectivity": value}, headers=HTMX)
    assert f"<strong>{len(names)}</strong> SIM" in count.content.decode()


def test_the_connectivity_filter_combines_with_the_state_filter_and_the_search(owner_client, product, fleet):
    Sim.objects.filter(pk=fleet["off10d"].pk).update(state=State.PAUSED)
    url = reverse("sim_list", args=[product.slug])
    assert listed(owner_client.get(url, {"connectivity": "offline-24h", "state": "active"})) == sorted(
        iccids(fleet, "off3d_a", "off3d_b")
    )
    assert listed(owner_client.get(url, {"connectivity": "offline-24h", "q": fleet["off3d_b"].iccid[-6:]})) == [fleet["off3d_b"].iccid]


def test_an_unknown_connectivity_says_what_to_choose(owner_client, product, fleet):
    response = owner_client.get(reverse("sim_list", args=[product.slug]), {"connectivity": "asleep"})
    assert "asleep is not a connectivity: choose online, attached, offline, offline-24h, offline-7d or never." in response.content.decode()
    assert listed(response) == []


def test_the_offline_for_column_says_how_long_and_a_dash_when_online(owner_client, product, fleet):
    response = owner_client.get(reverse("sim_list", args=[product.slug]), {"connectivity": "offline-24h"})
    html = response.content.decode()
    assert html.count(">3\xa0days</span>") == 2 and ">1\xa0week</span>" in html  # never cut in two
    online = owner_client.get(reverse("sim_list", args=[product.slug]), {"connectivity": "online"}).content.decode()
    assert '<span class="visually-hidden">Online: </span>—' in online
    assert "Offline for" in online


def longest_offline_first(fleet) -> list[str]:
    offline = sorted(
        (fleet[name] for name in ["off10d", "off3d_a", "off3d_b", "off2h"]),
        key=lambda sim: (SimConnectivity.objects.get(sim=sim).since, sim.iccid),
    )
    others = sorted((fleet[name].iccid for name in ["online1", "online2", "attached", "unknown", "never"]), reverse=True)
    return [sim.iccid for sim in offline] + others


@pytest.mark.parametrize("per_page", [1, 2, 3, 50])
def test_the_sort_by_offline_for_pages_both_ways_without_repeats_or_gaps(product, fleet, per_page):
    selection = select_sims(product=product)
    descending, ascending = ListOrder(SortKey.OFFLINE, True), ListOrder(SortKey.OFFLINE, False)
    expected = longest_offline_first(fleet)

    assert walk_forward(selection, per_page, descending) == expected
    assert walk_backward(selection, per_page, descending) == expected
    assert walk_forward(selection, per_page, ascending) == expected[::-1]
    assert walk_backward(selection, per_page, ascending) == expected[::-1]


@pytest.mark.parametrize("per_page", [1, 2])
def test_the_sort_with_the_offline_24h_filter_pages_through_exactly_those_sims(product, fleet, per_page):
    selection = select_sims(product=product, connectivity="offline-24h")
    expected = [iccid for iccid in longest_offline_first(fleet) if iccid in iccids(fleet, "off3d_a", "off3d_b", "off10d")]
    assert walk_forward(selection, per_page, ListOrder(SortKey.OFFLINE, True)) == expected
    assert walk_forward(selection, per_page, ListOrder(SortKey.OFFLINE, False)) == expected[::-1]
    assert walk_backward(selection, per_page, ListOrder(SortKey.OFFLINE, False)) == expected[::-1]


def test_the_column_header_sorts_longest_offline_first_then_the_other_way(owner_client, product, fleet, settings):
    settings.SIMS_PER_PAGE = 2
    url = reverse("sim_list", args=[product.slug])
    first = owner_client.get(url).content.decode()
    assert 'href="?sort=-offline"' in first

    page = owner_client.get(url, {"sort": "-offline"})
    expected = longest_offline_first(fleet)
    assert listed(page) == expected[:2]
    after = re.search(r'href="\?([^"]*after=[^"]*)"', page.content.decode()).group(1).replace("&amp;", "&")
    assert listed(owner_client.get(f"{url}?{after}")) == expected[2:4]
    assert 'aria-sort="descending"' in page.content.decode() and 'href="?sort=offline"' in page.content.decode()
    assert listed(owner_client.get(url, {"sort": "offline"})) == expected[::-1][:2]


def test_a_bulk_action_over_offline_24h_acts_on_exactly_those_sims(owner_client, product, fleet):
    response = owner_client.post(
        reverse("sims_bulk", args=[product.slug]),
        {"action": "deactivate", "scope": "matching", "connectivity": "offline-24h"},
        headers=HTMX,
    )
    assert response.status_code == 200
    deactivated = set(Sim.objects.filter(product=product, state=State.SUSPENDED).values_list("iccid", flat=True))
    assert deactivated == iccids(fleet, "off3d_a", "off3d_b", "off10d")


def test_a_bulk_job_over_offline_24h_carries_the_filter_and_acts_on_exactly_those_sims(
    owner_client, product, fleet, settings, django_capture_on_commit_callbacks
):
    settings.BULK_JOB_ABOVE_SIMS = 2
    settings.BULK_JOB_CHUNK_SIMS = 2
    owner_client.post(
        reverse("sims_bulk", args=[product.slug]),
        {"action": "set_data_limit", "data_limit_mb": "7", "scope": "matching", "connectivity": "offline-24h"},
        headers=HTMX,
    )
    job = BulkJob.objects.get()
    assert job.filters["connectivity"] == "offline-24h"
    assert "connectivity offline for more than 24 h" in job.described
    run_bulk_job(job_id=job.pk)
    changed = set(Sim.objects.filter(product=product, data_limit_mb=7).values_list("iccid", flat=True))
    assert changed == iccids(fleet, "off3d_a", "off3d_b", "off10d")


def test_the_page_with_the_filter_and_the_sort_costs_a_few_queries_whatever_the_sims(
    owner_client, product, fleet, make_sim, django_assert_max_num_queries
):
    for _ in range(10):
        SimConnectivity.objects.create(
            sim=make_sim(product), product=product, status=Connectivity.OFFLINE, since=timezone.now() - timedelta(days=2)
        )
    url = reverse("sim_list", args=[product.slug])
    with django_assert_max_num_queries(QUERIES_PAGE):
        page = owner_client.get(url, {"connectivity": "offline-24h", "sort": "-offline"})
    assert len(listed(page)) == 13
    with django_assert_max_num_queries(QUERIES_TABLE):
        owner_client.get(url, {"connectivity": "offline-24h", "sort": "-offline"}, headers={**HTMX, "HX-Target": "sim-table"})
    with django_assert_max_num_queries(QUERIES_COUNTS):
        owner_client.get(reverse("fleet_connectivity", args=[product.slug]), headers=HTMX)


QUERIES_PAGE = 11  # session, user, membership; the two segments of the sort, usage, connectivity; carriers, fleet usage, spikes, bulk jobs
QUERIES_TABLE = 8
QUERIES_COUNTS = 6  # session, user, membership; the counts per status, the recently offline, the SIMs of the product


def test_the_counts_follow_every_way_connectivity_changes_and_survive_folding(product, other_product, make_sim):
    """On PostgreSQL the counts are kept by triggers (migration 0021): they always equal a real count."""
    from sims.connectivity_counts import fleet_connectivity, fold_connectivity_deltas, sims_per_status

    now = timezone.now()

    def real() -> dict[str, int]:
        rows = SimConnectivity.objects.filter(product=product).values_list("status", flat=True)
        return {status: list(rows).count(status) for status in set(rows)}

    sims = [make_sim(product) for _ in range(6)]
    SimConnectivity.objects.bulk_create(
        SimConnectivity(sim=sim, product=product, status=Connectivity.ONLINE, since=now) for sim in sims[:4]
    )
    SimConnectivity.objects.filter(sim__in=sims[:2]).update(status=Connectivity.OFFLINE, since=now - timedelta(days=2))
    SimConnectivity.objects.filter(sim=sims[2]).update(status=Connectivity.ATTACHED)
    SimConnectivity.objects.filter(sim=sims[2]).update(since=now)  # no change of status: no delta
    SimConnectivity.objects.filter(sim=sims[3]).update(product=other_product)  # moved with its SIM
    Sim.objects.filter(pk=sims[3].pk).update(product=other_product)
    SimConnectivity.objects.create(sim=sims[4], product=product, status=Connectivity.OFFLINE, since=now - timedelta(hours=1))
    SimConnectivity.objects.filter(sim=sims[4]).delete()
    assert {status: n for status, n in sims_per_status(product.pk).items() if n} == real() == {"offline": 2, "attached": 1}

    fold_connectivity_deltas()

    counts = fleet_connectivity(product, now=now)
    assert (counts.online, counts.attached, counts.offline, counts.offline_over_24h, counts.never_seen) == (0, 1, 2, 2, 2)
    assert sims_per_status(other_product.pk) == {"online": 1}


def fleet_counts(client, product) -> str:
    response = client.get(reverse("fleet_connectivity", args=[product.slug]), headers=HTMX)
    return " ".join(re.sub(r"<[^>]+>", "", response.content.decode()).split())


def test_a_sim_removed_from_its_product_leaves_its_counts_and_an_import_elsewhere_brings_it_there(
    owner_client, owner, product, other_product, fleet
):
    """Its connectivity follows the SIM (issue 17): removed, it counts in no product; imported into another
    product, it counts and filters there, on PostgreSQL's triggers as on SQLite's index alike."""
    from imports.importing import import_iccids
    from sims.connectivity_counts import fold_connectivity_deltas, sims_per_status
    from sims.lifecycle import Action, Actor, apply_action

    moved = fleet["online1"]
    assert "2 online" in fleet_counts(owner_client, product)

    apply_action(sims=moved, action=Action.REMOVE, actor=Actor.for_user(owner))

    assert SimConnectivity.objects.get(sim=moved).product_id is None
    assert "1 online" in fleet_counts(owner_client, product)
    assert moved.iccid not in listed(owner_client.get(reverse("sim_list", args=[product.slug]), {"connectivity": "online"}))
    assert sims_per_status(other_product.pk) == {"offline": 2}

    job = import_iccids(product=other_product, user=owner, data=moved.iccid, country="DE")
    assert job.activated == 1

    assert SimConnectivity.objects.get(sim=moved).product_id == other_product.pk
    fold_connectivity_deltas()
    assert {status: n for status, n in sims_per_status(other_product.pk).items() if n} == {"offline": 2, "online": 1}
    assert {status: n for status, n in sims_per_status(product.pk).items() if n} == {"online": 1, "attached": 1, "offline": 4, "unknown": 1}


def test_a_sim_moved_in_the_admin_takes_its_connectivity_along(admin_client, product, other_product, fleet):
    from sims.connectivity_counts import sims_per_status

    moved = fleet["attached"]
    url = reverse("admin:sims_sim_change", args=[moved.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"product": str(other_product.pk), "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0"})
    assert admin_client.post(url, data).status_code == 302

    assert SimConnectivity.objects.get(sim=moved).product_id == other_product.pk
    assert sims_per_status(product.pk).get("attached", 0) == 0
    assert sims_per_status(other_product.pk).get("attached") == 1

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from lib.calendar import billing_period_start
from lib.units import MB
from sims.models import Sim, SimEvent, SimPeriodUsage, State
from tests.conftest import make_iccid, text_of


def list_url(product, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("sim_list", args=[product.slug]) + (f"?{query}" if query else "")


def test_the_list_shows_only_this_products_sims_with_their_details(owner_client, product, other_product, make_sim):
    mine = make_sim(product, home_country="DE", data_limit_mb=42)
    theirs = make_sim(other_product)
    page = owner_client.get(list_url(product)).content.decode()
    assert mine.iccid in page and theirs.iccid not in page
    assert "Germany" in page and "42 MB" in page and "Active" in page


def test_the_effective_limit_is_the_products_default_else_5_mb(owner_client, product, make_sim):
    make_sim(product)
    assert "5 MB" in owner_client.get(list_url(product)).content.decode()
    product.default_data_limit_mb = 25
    product.save()
    assert "25 MB" in owner_client.get(list_url(product)).content.decode()


def test_filter_by_state_country_and_iccid_fragment(owner_client, product, make_sim):
    a = make_sim(product, state=State.ACTIVE, home_country="US")
    b = make_sim(product, state=State.SUSPENDED, home_country="US")
    c = make_sim(product, state=State.SUSPENDED, home_country="FR")

    def shown(**params) -> set[str]:
        page = owner_client.get(list_url(product, **params)).content.decode()
        return {s.iccid for s in (a, b, c) if s.iccid in page}

    assert shown(state="suspended") == {b.iccid, c.iccid}
    assert shown(state="suspended", country="FR") == {c.iccid}
    assert shown(q=b.iccid[-8:]) == {b.iccid}
    assert shown(q=f"{c.iccid[:4]} {c.iccid[4:8]}-{c.iccid[8:]}") == {c.iccid}


def test_a_search_that_is_not_digits_says_so(owner_client, product, sim):
    response = owner_client.get(list_url(product, q="abc"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Search by digits of the ICCID" in page
    assert sim.iccid not in page


def test_pages_go_forward_and_back_by_iccid_and_keep_the_filter(owner_client, product, make_sim, settings):
    settings.SIMS_PER_PAGE = 2
    suspended = sorted(make_sim(product, state=State.SUSPENDED).iccid for _ in range(5))
    make_sim(product, state=State.ACTIVE)

    def shown(**params) -> list[str]:
        page = owner_client.get(list_url(product, **params)).content.decode()
        return [iccid for iccid in suspended if f'aria-label="Select {iccid}"' in page]

    assert shown(state="suspended") == suspended[:2]
    assert shown(state="suspended", after=suspended[1]) == suspended[2:4]
    assert shown(state="suspended", before=suspended[2]) == suspended[:2]
    assert shown(state="suspended", last=1) == suspended[3:]
    page = owner_client.get(list_url(product, state="suspended", after=suspended[1])).content.decode()
    assert f"?state=suspended&amp;after={suspended[3]}" in page  # Next keeps the filter
    assert f"?state=suspended&amp;before={suspended[2]}" in page  # and so does Previous


def test_the_count_of_matching_sims_comes_in_its_own_request(owner_client, product, make_sim):
    for _ in range(3):
        make_sim(product, state=State.SUSPENDED)
    make_sim(product)
    page = text_of(owner_client.get(reverse("sim_count", args=[product.slug]) + "?state=suspended", headers={"HX-Request": "true"}))
    assert "3 SIMs" in page


def test_a_nonsense_cursor_shows_the_first_page(owner_client, product, sim):
    for params in ({"after": "abc"}, {"before": "-1"}, {"after": "9" * 40}, {"last": "yes"}):
        response = owner_client.get(list_url(product, **params))
        assert response.status_code == 200 and sim.iccid in response.content.decode()


def test_htmx_filtering_returns_only_the_table(owner_client, product, sim):
    response = owner_client.get(list_url(product), headers={"HX-Request": "true", "HX-Target": "sim-table"})
    page = response.content.decode()
    assert page.lstrip().startswith('<section id="sim-table"')
    assert "<html" not in page


@pytest.mark.parametrize("sort", ["", "-usage", "usage", "-changed", "-offline"])
@pytest.mark.parametrize("page_size", [10, 100])
def test_the_list_query_count_does_not_grow_with_the_page_size(owner_client, product, settings, page_size, sort, django_assert_max_num_queries):
    settings.SIMS_PER_PAGE = page_size
    sims = Sim.objects.bulk_create([Sim(iccid=make_iccid(), product=product, home_country="US") for _ in range(page_size)])
    period = billing_period_start(timezone.now())
    SimPeriodUsage.objects.bulk_create(SimPeriodUsage(sim=sim, product=product, period=period, bytes=n * MB) for n, sim in enumerate(sims[::2]))
    # session, user, membership, the page's rows (sorted by usage: with usage, then without), their
    # usage this period and their connectivity; the fleet header's usage this month and its newest spike day; the bulk
    # jobs under way; the adapters of the product's carrier accounts (the bulk bar offers what one of them can do)
    with django_assert_max_num_queries(11 if "usage" in sort or "offline" in sort else 10):
        response = owner_client.get(list_url(product, sort=sort))
    assert response.content.decode().count('name="ids"') == page_size


def test_a_row_action_through_htmx_returns_the_new_row_and_a_message(owner_client, product, sim):
    url = reverse("sim_action", args=[product.slug, sim.iccid, "deactivate"])
    response = owner_client.post(url, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert page.lstrip().startswith(f'<tr id="sim-{sim.pk}">')
    assert "Suspended" in page
    assert "deactivated; the SIM is now suspended" in page
    assert 'hx-swap-oob="true"' in page
    sim.refresh_from_db()
    assert sim.state == State.SUSPENDED


def test_a_row_action_without_htmx_redirects_and_flashes_the_result(owner_client, product, sim):
    url = reverse("sim_action", args=[product.slug, sim.iccid, "deactivate"])
    response = owner_client.post(url, {"next": list_url(product)}, follow=True)
    assert response.redirect_chain[-1][0] == list_url(product)
    assert "deactivated" in response.content.decode()


def test_a_redirect_to_another_site_is_not_followed(owner_client, product, sim):
    url = reverse("sim_action", args=[product.slug, sim.iccid, "deactivate"])
    response = owner_client.post(url, {"next": "https://evil.example/"})
    assert response["Location"] == reverse("sim_detail", args=[product.slug, sim.iccid])


def test_an_illegal_action_explains_itself_and_changes_nothing(owner_client, product, make_sim):
    issued = make_sim(product, state=State.ISSUED)
    url = reverse("sim_action", args=[product.slug, issued.iccid, "deactivate"])
    page = owner_client.post(url, headers={"HX-Request": "true"}).content.decode()
    assert "Cannot deactivate: the SIM is issued" in page
    issued.refresh_from_db()
    assert issued.state == State.ISSUED and not SimEvent.objects.exists()


def test_double_clicking_an_action_changes_the_sim_once(owner_client, product, sim):
    url = reverse("sim_action", args=[product.slug, sim.iccid, "deactivate"])
    owner_client.post(url, headers={"HX-Request": "true"})
    second = owner_client.post(url, headers={"HX-Request": "true"}).content.decode()
    assert "the SIM is suspended" in second
    assert SimEvent.objects.filter(sim=sim).count() == 1


@pytest.mark.parametrize(("value", "says"), [("", "Enter a data limit"), ("ten", "whole number"), ("0", "at least 1 MB"), ("99999999", "at most")])
def test_a_nonsense_data_limit_is_refused_with_a_reason(owner_client, product, sim, value, says):
    url = reverse("sim_action", args=[product.slug, sim.iccid, "set_data_limit"])
    page = owner_client.post(url, {"data_limit_mb": value}, headers={"HX-Request": "true"}).content.decode()
    assert says in page
    sim.refresh_from_db()
    assert sim.data_limit_mb is None


def test_setting_a_data_limit_overrides_the_default(owner_client, product, sim):
    url = reverse("sim_action", args=[product.slug, sim.iccid, "set_data_limit"])
    page = owner_client.post(url, {"data_limit_mb": "12"}, headers={"HX-Request": "true"}).content.decode()
    assert "12 MB" in page
    sim.refresh_from_db()
    assert sim.data_limit_mb == 12


def test_an_unknown_action_is_404(owner_client, product, sim):
    assert owner_client.post(reverse("sim_action", args=[product.slug, sim.iccid, "explode"])).status_code == 404
    assert owner_client.post(reverse("sim_action", args=[product.slug, sim.iccid, "provision"])).status_code == 404


def test_removing_a_sim_shows_it_left_the_product(owner_client, product, sim):
    url = reverse("sim_action", args=[product.slug, sim.iccid, "remove"])
    page = owner_client.post(url, headers={"HX-Request": "true"}).content.decode()
    assert f"Removed from {product.name}" in page
    assert owner_client.get(reverse("sim_detail", args=[product.slug, sim.iccid])).status_code == 404


def test_the_sim_page_shows_details_and_history(owner_client, product, sim, owner):
    owner_client.post(reverse("sim_action", args=[product.slug, sim.iccid, "deactivate"]))
    page = owner_client.get(reverse("sim_detail", args=[product.slug, sim.iccid])).content.decode()
    assert sim.iccid in page and "United States of America" in page
    assert "Timeline" in page and "Deactivate" in page and owner.username in page
    assert "Reactivate" in page  # the action that now applies


def test_the_sim_page_reads_its_limit_in_the_units_of_its_usage(owner_client, product, make_sim):
    from django.utils import timezone

    from lib.units import MB
    from sims.usage import UsageRow, ingest_usage

    sim = make_sim(product, data_limit_mb=5_000)
    now = timezone.now()
    ingest_usage([UsageRow(record_id="r1", iccid=sim.iccid, started_at=now, ended_at=now, bytes_up=360 * MB, bytes_down=1_000 * MB, sms=0, country="")])
    page = text_of(owner_client.get(reverse("sim_detail", args=[product.slug, sim.iccid])))
    assert "Data limit 5 GB (this SIM's own)" in page
    assert "1.36 GB of 5 GB (27%)" in page
    assert "5000 MB" not in page and "5,000 MB" not in page


def test_a_rows_menu_offers_only_the_actions_its_state_allows(owner_client, product, make_sim):
    paused = make_sim(product, state=State.PAUSED)
    page = text_of(owner_client.get(reverse("sim_menu", args=[product.slug, paused.iccid]), headers={"HX-Request": "true"}))
    assert "Unpause" in page and "Deactivate" in page and "Terminate" in page
    assert "Reactivate" not in page  # for a paused SIM, unpausing is the way back
    dead = make_sim(product, state=State.TERMINATED)
    page = text_of(owner_client.get(reverse("sim_menu", args=[product.slug, dead.iccid])))
    assert "never changes again" in page and "Deactivate" not in page


def test_a_search_finds_digits_anywhere_in_the_iccid_and_counts_them(owner_client, product, other_product, make_sim):
    start = make_sim(product, iccid="8944501234567890128")
    middle = make_sim(product, iccid="8901260894450000012")
    end = make_sim(product, iccid="8901260000000894450")
    make_sim(product, iccid="8901260000000000017")
    make_sim(other_product, iccid="8901260000000894451")
    page = owner_client.get(list_url(product, q="894450")).content.decode()
    assert [iccid for iccid in (start.iccid, middle.iccid, end.iccid) if f'aria-label="Select {iccid}"' in page] == [
        start.iccid, middle.iccid, end.iccid
    ]
    assert "contain these digits, anywhere" in page
    count = text_of(owner_client.get(reverse("sim_count", args=[product.slug]) + "?q=894450", headers={"HX-Request": "true"}))
    assert "3 SIMs" in count


def test_searching_the_start_of_an_iccid_uses_a_range_and_finds_it(owner_client, product, make_sim):
    sim = make_sim(product)
    other = make_sim(product)
    for fragment in (sim.iccid, sim.iccid[:12]):
        page = owner_client.get(list_url(product, q=fragment)).content.decode()
        assert f'aria-label="Select {sim.iccid}"' in page
    page = owner_client.get(list_url(product, q=sim.iccid)).content.decode()
    assert f'aria-label="Select {other.iccid}"' not in page


def shown_iccids(response) -> list[str]:
    return re.findall(r'aria-label="Select (\d+)"', response.content.decode())


def use(sim, amount: int, *, period=None) -> None:
    SimPeriodUsage.objects.create(sim=sim, product=sim.product, period=period or billing_period_start(timezone.now()), bytes=amount)


def test_each_row_shows_its_usage_this_period_against_its_limit_red_at_the_limit(mid_month, owner_client, product, make_sim):
    under, at, over, idle = (make_sim(product, iccid=f"8901000000000000{n}00") for n in range(4))
    use(under, 1_200_000)
    use(at, 5 * MB)
    use(over, 7 * MB)
    use(idle, 9 * MB, period=(billing_period_start(timezone.now()) - timedelta(days=1)).replace(day=1))  # last month's
    rows = owner_client.get(list_url(product)).content.decode().split("<tr ")[1:]
    assert "1.2 MB" in rows[0] and 'width="24.0"' in rows[0] and "usage-bar small" in rows[0] and "over" not in rows[0]
    assert "5.0 MB" in rows[1] and "usage-bar small over" in rows[1] and "at limit" in rows[1]
    assert "7.0 MB" in rows[2] and "usage-bar small over" in rows[2] and 'width="100.0"' in rows[2]
    assert "0 B" in rows[3] and "9.0 MB" not in rows[3]
    assert "style=" not in "".join(rows)  # the CSP forbids inline styles


def test_sorting_by_usage_lists_the_heaviest_first_and_its_pages_keep_the_sort(owner_client, product, make_sim, settings):
    settings.SIMS_PER_PAGE = 2
    sims = [make_sim(product) for _ in range(5)]
    for n, sim in enumerate(sims[:3]):
        use(sim, (n + 1) * MB)
    idle = sorted(sim.iccid for sim in sims[3:])
    first = owner_client.get(list_url(product, sort="-usage"))
    assert shown_iccids(first) == [sims[2].iccid, sims[1].iccid]
    assert 'aria-sort="descending"' in first.content.decode()
    following = re.search(r'href="\?([^"]*)"[^>]*rel="next"', first.content.decode()).group(1).replace("&amp;", "&")
    assert following == f"sort=-usage&after={2 * MB}_{sims[1].iccid}&page=2"
    second = owner_client.get(reverse("sim_list", args=[product.slug]) + "?" + following)
    assert shown_iccids(second) == [sims[0].iccid, idle[1]]  # descending all the way: ties by ICCID too
    assert shown_iccids(owner_client.get(list_url(product, sort="usage"))) == idle


def test_sorting_by_last_state_change_goes_both_ways_from_its_header(owner_client, product, make_sim):
    now = timezone.now()
    oldest, newest, middle = (make_sim(product, state_changed_at=now - timedelta(days=days)) for days in (9, 1, 4))
    page = owner_client.get(list_url(product)).content.decode()
    header = re.search(r'<a class="sort-link" href="\?([^"]*)"[^>]*>Last state change', page).group(1)
    assert header == "sort=-changed"  # the latest changes first
    assert shown_iccids(owner_client.get(list_url(product, sort="-changed"))) == [newest.iccid, middle.iccid, oldest.iccid]
    page = owner_client.get(list_url(product, sort="-changed")).content.decode()
    assert re.search(r'<a class="sort-link" href="\?([^"]*)"[^>]*>Last state change', page).group(1) == "sort=changed"
    assert shown_iccids(owner_client.get(list_url(product, sort="changed"))) == [oldest.iccid, middle.iccid, newest.iccid]


def test_every_link_and_form_of_the_page_keeps_the_filter_and_the_sort(owner_client, product, make_sim, settings):
    settings.SIMS_PER_PAGE = 1
    for _ in range(3):
        use(make_sim(product, state=State.SUSPENDED, home_country="DE"), MB)
    page = owner_client.get(list_url(product, state="suspended", country="DE", sort="-usage")).content.decode()
    kept = "state=suspended&amp;country=DE&amp;sort=-usage"
    assert f'sims/export.csv?{kept}"' in page  # Export CSV
    assert f'sims/count/?{kept}&amp;page=1&amp;shown=1"' in page  # the count and the position
    assert f'href="?{kept}&amp;after=' in page  # Next
    assert f'href="?{kept}&amp;last=1"' in page  # Last
    assert 'href="?state=suspended&amp;country=DE&amp;sort=usage"' in page  # the usage header: the other way
    assert 'href="?state=suspended&amp;country=DE"' in page  # the ICCID header: the default order
    assert '<input type="hidden" name="sort" value="-usage" form="sim-filter">' in page  # the filter form keeps the sort
    bulk_form = page[page.index('id="bulk-form"') : page.index("</form>", page.index('id="bulk-form"'))]
    for name, value in (("state", "suspended"), ("country", "DE")):
        assert f'<input type="hidden" name="{name}" value="{value}">' in bulk_form  # "all matching" is the filter's


def test_the_count_says_which_sims_the_page_shows(owner_client, product, make_sim, settings):
    settings.SIMS_PER_PAGE = 2
    for _ in range(5):
        make_sim(product)
    count_url = reverse("sim_count", args=[product.slug])

    def count(query: str) -> str:
        return text_of(owner_client.get(f"{count_url}?{query}", headers={"HX-Request": "true"}))

    assert count("page=1&shown=2") == "SIMs 1–2 of 5 5"
    assert count("page=3&shown=1") == "SIMs 5–5 of 5 5"
    assert count("page=-1&shown=2") == "SIMs 4–5 of 5 5"  # the last page
    assert count("page=-2&shown=2") == "SIMs 2–3 of 5 5"  # the one before it
    assert count("") == "5 SIMs 5"  # an old link without a page number: the count alone
    page = owner_client.get(list_url(product, last=1)).content.decode()
    assert "page=-1&amp;shown=2" in page and "page=-2" in page  # Previous from the last page counts from the end


def test_an_unknown_sort_says_how_to_sort(owner_client, product, sim):
    page = text_of(owner_client.get(list_url(product, sort="size")))
    assert "cannot be sorted by size: sort by ICCID, usage, changed or offline" in page


@pytest.mark.parametrize(
    "query",
    [
        "sort=usage&after=%C2%B2_8901",  # a digit int() refuses
        "sort=changed&after=99999999999999999999_8901",  # past any date
        "sort=-changed&before=123456789012345678_8901",
        "after=%C2%B2",
    ],
)
def test_a_garbled_page_link_shows_the_first_page(owner_client, product, sim, query):
    response = owner_client.get(reverse("sim_list", args=[product.slug]) + "?" + query)
    assert response.status_code == 200
    assert f'aria-label="Select {sim.iccid}"' in response.content.decode()

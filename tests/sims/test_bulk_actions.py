import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lib.bulk_insert import bulk_insert, db_datetime
from sims.bulk_confirmation import TYPED_CONFIRMATION_ABOVE, parse_typed_count
from sims.lifecycle import Action, Actor, apply_action
from sims.listing import ticked_sims
from sims.models import Sim, SimEvent, State
from tests.conftest import text_of


def bulk(client, product, htmx=True, **data):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse("sims_bulk", args=[product.slug]), data, headers=headers)


def test_a_bulk_action_on_selected_sims_reports_done_and_refused(owner_client, product, make_sim):
    active = [make_sim(product) for _ in range(3)]
    issued = make_sim(product, state=State.ISSUED)
    response = bulk(owner_client, product, action="deactivate", scope="selected", ids=[s.pk for s in active + [issued]])
    page = response.content.decode()
    assert response.status_code == 200
    assert "Deactivate: 3 done, 1 refused." in page
    assert "Cannot deactivate: the SIM is issued" in page and issued.iccid in page
    assert response["HX-Trigger"] == "sims-changed"
    assert Sim.objects.filter(state=State.SUSPENDED).count() == 3


def test_all_matching_the_filter_acts_on_the_filter_not_the_page(owner_client, product, make_sim):
    us = [make_sim(product, home_country="US") for _ in range(4)]
    fr = make_sim(product, home_country="FR")
    page = bulk(owner_client, product, action="set_data_limit", data_limit_mb="30", scope="matching", country="US").content.decode()
    assert "Set data limit: 4 done." in page
    assert set(Sim.objects.filter(data_limit_mb=30).values_list("pk", flat=True)) == {s.pk for s in us}
    fr.refresh_from_db()
    assert fr.data_limit_mb is None


def test_ids_of_another_product_are_counted_as_not_found_and_left_alone(owner_client, product, other_product, make_sim):
    mine = make_sim(product)
    foreign = make_sim(other_product)
    page = text_of(bulk(owner_client, product, action="deactivate", scope="selected", ids=[mine.pk, foreign.pk]))
    assert "1 not found in Acme Trackers" in page
    foreign.refresh_from_db()
    assert foreign.state == State.ACTIVE and not SimEvent.objects.filter(sim=foreign).exists()


def test_bulk_terminate_needs_an_explicit_confirmation(owner_client, product, sim):
    response = bulk(owner_client, product, action="terminate", scope="selected", ids=[sim.pk])
    assert response.status_code == 400
    assert "Terminating is permanent" in response.content.decode()
    sim.refresh_from_db()
    assert sim.state == State.ACTIVE
    bulk(owner_client, product, action="terminate", scope="selected", ids=[sim.pk], confirm_terminate="on")
    sim.refresh_from_db()
    assert sim.state == State.TERMINATED


def test_a_bulk_form_with_nonsense_says_what_is_missing_and_changes_nothing(owner_client, product, sim):
    cases = [
        ({"action": "deactivate", "scope": "selected"}, "Select at least one SIM"),
        ({"action": "", "scope": "matching"}, "Choose the action"),
        ({"action": "explode", "scope": "matching"}, "Select a valid choice"),
        ({"action": "set_data_limit", "scope": "matching"}, "Enter the data limit"),
        ({"action": "deactivate", "scope": "selected", "ids": ["x"]}, "reload the page and select them again"),
    ]
    for data, says in cases:
        response = bulk(owner_client, product, **data)
        assert response.status_code == 400, data
        assert says in response.content.decode(), data
    sim.refresh_from_db()
    assert sim.state == State.ACTIVE and not SimEvent.objects.exists()


def test_without_htmx_a_bulk_action_redirects_with_a_summary(owner_client, product, sim):
    response = bulk(owner_client, product, htmx=False, action="deactivate", scope="selected", ids=[sim.pk])
    assert response.status_code == 302
    follow = owner_client.get(response["Location"]).content.decode()
    assert "Deactivate: 1 done." in follow


def _indexes_used_on_sims(queries: list[dict]) -> list[str]:
    """PostgreSQL's plan of each statement of `queries` that reads or changes SIM rows, told to use
    an index (a table of a few thousand rows is otherwise read whole, whatever the condition)."""
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        for query in queries:
            sql = query["sql"]
            if (sql.startswith("SELECT") and ' FROM "sims_sim"' in sql) or sql.startswith('UPDATE "sims_sim"'):
                cursor.execute(f"EXPLAIN {sql}")
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
        cursor.execute("RESET enable_seqscan")
    return plans


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans (SQLite reads a rowid list by key)")
def test_ticked_sims_are_read_by_key_not_by_scanning_the_products_sims(owner_client, product):
    # SIMs the planner has no statistics of, as right after a big import: a condition on the product
    # looks more selective to it than 800 ids, and it read every SIM of the product for each chunk.
    now = db_datetime(timezone.now())
    fields = ["iccid", "product", "state", "state_changed_at", "home_country", "activations_count", "deactivations_count", "created_at"]
    bulk_insert(Sim, fields, [(f"89012600{n:011d}", product.pk, "active", now, "US", 1, 0, now) for n in range(5_000)])
    ticked = list(Sim.objects.filter(product=product).order_by("pk").values_list("pk", flat=True)[::6])[:800]

    with CaptureQueriesContext(connection) as captured:
        response = bulk(owner_client, product, action="deactivate", scope="selected", ids=ticked, confirm_count="800", shown_count="800")

    assert "Deactivate: 800 done." in text_of(response)
    plans = _indexes_used_on_sims(captured.captured_queries)
    assert plans
    for plan in plans:
        assert "sims_sim_pkey" in plan and "Cond: (product_id" not in plan, plan


def test_a_sim_moved_to_another_product_after_it_was_ticked_is_refused_as_moved(product, other_product, make_sim):
    staying, moving = make_sim(product), make_sim(product)
    ticked = ticked_sims(product, [staying.pk, moving.pk])
    Sim.objects.filter(pk=moving.pk).update(product=other_product)

    report = apply_action(sims=ticked, action=Action.DEACTIVATE, actor=Actor.system("test"), product_id=product.pk)

    assert [outcome.sim_id for outcome in report.done] == [staying.pk]
    assert [(outcome.sim_id, outcome.refused_reason) for outcome in report.refused] == [
        (moving.pk, "The SIM was removed or moved meanwhile.")
    ]
    moving.refresh_from_db()
    assert moving.state == State.ACTIVE


# -- Confirmation in proportion to harm ------------------------------------------------------------


def test_deactivating_more_than_a_few_sims_asks_for_their_number_and_changes_nothing_yet(owner_client, product, make_sim):
    for _ in range(TYPED_CONFIRMATION_ABOVE + 1):
        make_sim(product)

    response = bulk(owner_client, product, action="deactivate", scope="matching")

    assert response.status_code == 200
    page = text_of(response)
    assert "Type 6 to deactivate 6 SIMs" in page
    assert 'name="confirm_count"' in response.content.decode()
    assert not Sim.objects.exclude(state=State.ACTIVE).exists() and not SimEvent.objects.exists()


def test_the_typed_number_confirms_the_action(owner_client, product, make_sim):
    sims = [make_sim(product) for _ in range(6)]
    first = bulk(owner_client, product, action="deactivate", scope="matching")
    submission = re.search(r'name="submission" value="([0-9a-f]+)"', first.content.decode()).group(1)

    response = bulk(owner_client, product, action="deactivate", scope="matching", confirm_count="6", shown_count="6", submission=submission)

    assert response.status_code == 200
    assert "Deactivate: 6 done." in text_of(response)
    assert Sim.objects.filter(pk__in=[s.pk for s in sims], state=State.SUSPENDED).count() == 6


@pytest.mark.parametrize("typed", ["1,234", "1234", "1 234", "1.234", " 1,234 "])
def test_the_number_is_accepted_with_or_without_thousands_separators(owner_client, product, typed):
    now = db_datetime(timezone.now())
    fields = ["iccid", "product", "state", "state_changed_at", "home_country", "activations_count", "deactivations_count", "created_at"]
    bulk_insert(Sim, fields, [(f"89012600{n:011d}", product.pk, "active", now, "US", 1, 0, now) for n in range(1_234)])
    asked = text_of(bulk(owner_client, product, action="remove", scope="matching"))
    assert "Type 1,234 to remove 1,234 SIMs from the product" in asked

    response = bulk(owner_client, product, action="remove", scope="matching", confirm_count=typed, shown_count="1234")

    assert "Remove from product: 1234 done." in text_of(response)
    assert not Sim.objects.filter(product=product).exists()


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("5", "you typed 5, but this would change 6 SIMs. Type 6 to terminate 6 SIMs."),
        ("six", "“six” is not a number. Type 6 to terminate 6 SIMs."),
        ("", "the number of SIMs is missing. Type 6 to terminate 6 SIMs."),
        ("60", "you typed 60, but this would change 6 SIMs."),
    ],
)
def test_a_wrong_number_is_refused_in_place_saying_what_to_type(owner_client, product, make_sim, typed, says):
    for _ in range(6):
        make_sim(product)

    response = bulk(
        owner_client, product, action="terminate", confirm_terminate="on", scope="matching", confirm_count=typed, shown_count="6"
    )

    assert response.status_code == 400
    page = text_of(response)
    assert "Nothing was changed" in page and says in page
    assert 'name="confirm_count"' in response.content.decode()  # asked again, in place
    assert not Sim.objects.filter(state=State.TERMINATED).exists() and not SimEvent.objects.exists()


def test_when_the_matching_sims_changed_since_the_confirmation_the_new_number_is_asked_for(owner_client, product, make_sim):
    for _ in range(6):
        make_sim(product, home_country="FR")
    bulk(owner_client, product, action="deactivate", scope="matching", country="FR")  # asks for 6
    make_sim(product, home_country="FR")  # an import lands meanwhile

    response = bulk(owner_client, product, action="deactivate", scope="matching", country="FR", confirm_count="6", shown_count="6")

    assert response.status_code == 400
    assert "changed since you confirmed. It would now change 7 SIMs, not 6. Type 7 to deactivate 7 SIMs." in text_of(response)
    assert not SimEvent.objects.exists()


def test_ticked_sims_above_a_few_need_their_number_too(owner_client, product, make_sim):
    ticked = [make_sim(product).pk for _ in range(6)]
    asked = bulk(owner_client, product, action="deactivate", scope="selected", ids=ticked)
    assert "Type 6 to deactivate 6 SIMs" in text_of(asked)
    assert 'value="selected"' in asked.content.decode()  # the confirmation sends the same choice again

    done = bulk(owner_client, product, action="deactivate", scope="selected", ids=ticked, confirm_count="6", shown_count="6")
    assert "Deactivate: 6 done." in text_of(done)


def test_a_few_sims_or_a_harmless_action_still_take_one_click(owner_client, product, make_sim):
    few = [make_sim(product).pk for _ in range(TYPED_CONFIRMATION_ABOVE)]
    assert "Deactivate: 5 done." in text_of(bulk(owner_client, product, action="deactivate", scope="selected", ids=few))
    for _ in range(20):
        make_sim(product)
    limited = bulk(owner_client, product, action="set_data_limit", data_limit_mb="40", scope="matching")
    assert "Set data limit: 25 done." in text_of(limited)
    reactivated = bulk(owner_client, product, action="reactivate", scope="matching")
    assert "Reactivate: 5 done, 20 refused." in text_of(reactivated)


def test_without_htmx_the_confirmation_is_a_page_of_the_console(owner_client, product, make_sim):
    for _ in range(6):
        make_sim(product)
    response = bulk(owner_client, product, htmx=False, action="deactivate", scope="matching")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<nav" in page and "Type 6 to deactivate 6 SIMs" in text_of(response)
    assert "hx-post" in page and 'action="/products/acme/sims/bulk/"' in page


@pytest.mark.parametrize(
    ("text", "number"),
    [("1,000,000", 1_000_000), ("1000000", 1_000_000), ("1 000 000", 1_000_000), ("1.000.000", 1_000_000),
     ("1'000'000", 1_000_000), ("1\u202f000\u202f000", 1_000_000), ("", None), ("1e6", None), ("-5", None), ("٦", None)],
)  # fmt: skip
def test_parse_typed_count(text, number):
    assert parse_typed_count(text) == number

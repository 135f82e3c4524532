from django.urls import reverse

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

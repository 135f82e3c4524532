from datetime import date

from django.urls import reverse

from lib.calendar import months_later
from imports.models import ImportJob
from sims.models import SimEvent, State
from tests.conftest import text_of


def act(client, sim, action, **data):
    return client.post(reverse("my_sim_action", args=[sim.iccid, action]), data, follow=True)


def test_my_sims_lists_only_my_own(owner_client, owner, teammate, product, make_sim):
    mine = make_sim(None, owner_user=owner)
    theirs = make_sim(None, owner_user=teammate)
    products = make_sim(product)
    page = text_of(owner_client.get(reverse("my_sims")))
    assert mine.iccid in page and theirs.iccid not in page and products.iccid not in page


def test_a_first_activation_gets_three_free_months(owner_client, owner, make_sim):
    sim = make_sim(None, owner_user=owner, state=State.ISSUED)
    page = text_of(act(owner_client, sim, "activate", country="GB"))
    sim.refresh_from_db()
    assert (sim.state, sim.home_country.code) == (State.ACTIVE, "GB")
    assert sim.promotion_ends_on is not None and "Free 1 MB plan until" in page
    assert SimEvent.objects.get(sim=sim).actor_user == owner


def test_activation_needs_a_home_country(owner_client, owner, make_sim):
    sim = make_sim(None, owner_user=owner, state=State.ISSUED)
    assert "choose the home country" in text_of(act(owner_client, sim, "activate", country=""))
    sim.refresh_from_db()
    assert sim.state == State.ISSUED


def test_deactivate_and_reactivate_my_sim(owner_client, owner, make_sim):
    sim = make_sim(None, owner_user=owner)
    act(owner_client, sim, "deactivate")
    sim.refresh_from_db()
    assert sim.state == State.SUSPENDED
    act(owner_client, sim, "reactivate")
    sim.refresh_from_db()
    assert sim.state == State.ACTIVE


def test_terminating_is_not_offered_to_a_developer(owner_client, owner, make_sim):
    sim = make_sim(None, owner_user=owner)
    assert "not something you can do" in text_of(act(owner_client, sim, "terminate"))
    sim.refresh_from_db()
    assert sim.state == State.ACTIVE


def test_moving_my_sim_into_a_product_opens_the_review_with_the_transfer(owner_client, owner, product, make_sim):
    sim = make_sim(None, owner_user=owner)
    response = owner_client.post(reverse("my_sim_to_product", args=[sim.iccid]), {"product": product.slug})
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("import_job", args=[product.slug, job.pk])
    assert "to be transferred and activated 1" in text_of(owner_client.get(response["Location"]))


def test_moving_into_a_product_i_am_not_in_is_404(owner_client, owner, other_product, make_sim):
    sim = make_sim(None, owner_user=owner)
    assert owner_client.post(reverse("my_sim_to_product", args=[sim.iccid]), {"product": other_product.slug}).status_code == 404
    assert not ImportJob.objects.exists()


def test_three_months_later_lands_on_a_real_day():
    assert months_later(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert months_later(date(2026, 1, 15), 3) == date(2026, 4, 15)

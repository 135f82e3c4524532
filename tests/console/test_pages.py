from django.urls import reverse

from tests.conftest import make_user, text_of


def test_home_lists_only_my_products(owner_client, product, other_product):
    page = text_of(owner_client.get(reverse("home")))
    assert "Acme Trackers" in page and "Other Fleet" not in page


def test_someone_in_no_team_is_told_how_to_join(client, db):
    client.force_login(make_user("newcomer"))
    page = text_of(client.get(reverse("home")))
    assert "You are not in any product's team yet" in page and "newcomer" in page


def test_sign_in_and_out(client, owner):
    response = client.post(reverse("login"), {"username": "owner", "password": "pw"})
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_a_wrong_password_says_so(client, owner):
    response = client.post(reverse("login"), {"username": "owner", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in text_of(response)


def test_the_password_can_be_changed(owner_client, owner):
    response = owner_client.post(
        reverse("password_change"),
        {"old_password": "pw", "new_password1": "a-much-longer-pass-22", "new_password2": "a-much-longer-pass-22"},
    )
    assert response["Location"] == reverse("password_change_done")
    owner.refresh_from_db()
    assert owner.check_password("a-much-longer-pass-22")


def test_a_product_address_leads_to_its_sims(owner_client, product):
    response = owner_client.get(reverse("product_home", args=[product.slug]))
    assert response["Location"] == reverse("sim_list", args=[product.slug])


def test_pages_fetch_nothing_from_outside_the_machine(owner_client, product, sim):
    for url in (reverse("home"), reverse("sim_list", args=[product.slug]), reverse("team", args=[product.slug])):
        page = owner_client.get(url).content.decode()
        for attribute in ('src="http', "src='http", 'href="http', "src=\"//", 'href="//'):
            assert attribute not in page, url


def test_a_signed_out_htmx_request_sends_the_whole_page_to_sign_in(client, product, sim):
    url = reverse("sim_action", args=[product.slug, sim.iccid, "deactivate"])
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("login") + "?next=")


def test_the_team_page_answers_htmx_with_the_team_fragment_only(owner_client, product):
    response = owner_client.get(reverse("team", args=[product.slug]), headers={"HX-Request": "true"})
    page = response.content.decode()
    assert page.lstrip().startswith('<section id="team"') and "<html" not in page

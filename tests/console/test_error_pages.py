"""The console's own 404, 403 and 500 pages: its top bar, what happened in words, and a way back home."""

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from tests.conftest import text_of


def test_a_page_that_is_not_there_says_so_in_the_consoles_look(owner_client, product):
    response = owner_client.get("/products/acme/no-such-tab/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'class="topbar"' in html and "console.css" in html
    page = text_of(response)
    assert "Page not found" in page and "Nothing is at this address" in page
    assert f'href="{reverse("home")}"' in html and "Back to your products" in page
    assert "My SIMs" in page  # signed in: the top bar keeps its links


def test_another_teams_product_is_a_404_that_does_not_say_it_exists(owner_client, other_product):
    response = owner_client.get(reverse("team", args=[other_product.slug]))
    assert response.status_code == 404
    assert "Page not found" in text_of(response)


def test_an_action_only_admins_may_take_says_whom_to_ask(teammate_client, product):
    response = teammate_client.post(reverse("product_settings", args=[product.slug]), {"trigger_sms": "3"})
    assert response.status_code == 403
    html = response.content.decode()
    page = text_of(response)
    assert 'class="topbar"' in html
    assert "Not allowed" in page and "Only a product admin can do this. Ask an admin of the product." in page
    assert f'href="{reverse("home")}"' in html


@pytest.mark.django_db
def test_the_500_page_needs_no_database_and_leads_home(django_assert_num_queries):
    request = RequestFactory().get("/products/acme/sims/")
    with django_assert_num_queries(0):
        response = server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert 'class="topbar"' in html and "console.css" in html
    page = text_of(response)
    assert "Something went wrong on the server" in page
    assert f'href="{reverse("home")}"' in html

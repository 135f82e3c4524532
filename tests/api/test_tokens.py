"""The Tokens page: create (the secret shown once), list with last use, revoke."""

from django.urls import reverse

from api.models import ApiToken
from api.tokens import find_token
from tests.conftest import text_of


def secret_in(response) -> str:
    return response.content.decode().split('readonly value="')[1].split('"')[0]


def test_a_member_creates_a_token_and_sees_its_secret_once(teammate_client, product, teammate):
    response = teammate_client.post(
        reverse("api_tokens"), {"name": "factory", "product": product.slug, "scopes": ["sims:list", "sims:get"]}
    )
    assert response.status_code == 200
    secret = secret_in(response)
    token = find_token(secret)
    assert (token.name, token.product, token.scopes, token.user) == ("factory", product, ["sims:get", "sims:list"], teammate)
    assert secret not in teammate_client.get(reverse("api_tokens")).content.decode()  # shown once
    assert ApiToken.objects.get().secret_hash != secret


def test_the_secret_is_kept_nowhere_but_the_answer_that_shows_it(teammate_client, product):
    response = teammate_client.post(reverse("api_tokens"), {"name": "factory", "product": product.slug, "scopes": ["sims:list"]})
    secret = secret_in(response)
    assert "no-store" in response["Cache-Control"]
    assert "no-store" in teammate_client.get(reverse("api_tokens"))["Cache-Control"]
    session = teammate_client.session
    assert all(secret not in str(value) for value in session.values())


def test_the_new_secret_is_a_readonly_field_with_a_copy_button(teammate_client, product):
    response = teammate_client.post(reverse("api_tokens"), {"name": "factory", "product": product.slug, "scopes": ["sims:list"]})
    html = response.content.decode()
    assert f'<input id="new-secret" class="mono secret" readonly value="{secret_in(response)}"' in html
    assert '<button type="button" class="button primary" data-copy="new-secret">Copy</button>' in html


def test_the_list_names_the_scopes_as_the_form_does(teammate_client, product):
    teammate_client.post(reverse("api_tokens"), {"name": "factory", "product": product.slug, "scopes": ["sims:list", "sims.usage:get"]})
    listed = text_of(teammate_client.get(reverse("api_tokens"))).split("Your tokens")[1].split("Create a token")[0]
    assert "List SIMs" in listed and "Read usage" in listed
    assert "sims:list" not in listed and "sims.usage:get" not in listed


def test_a_token_needs_a_name_a_scope_and_a_future_expiry(teammate_client, product):
    response = teammate_client.post(reverse("api_tokens"), {"name": "", "product": product.slug, "expires_on": "2001-01-01"})
    assert response.status_code == 400
    text = text_of(response)
    assert "This field is required" in text and "Choose a day after today" in text
    assert not ApiToken.objects.exists()


def test_a_product_the_member_is_not_in_cannot_be_chosen(teammate_client, other_product):
    response = teammate_client.post(reverse("api_tokens"), {"name": "x", "product": other_product.slug, "scopes": ["sims:list"]})
    assert response.status_code == 400 and not ApiToken.objects.exists()


def test_revoking_stops_the_token_at_once(teammate_client, product, teammate, client):
    secret = secret_in(teammate_client.post(reverse("api_tokens"), {"name": "t", "product": "", "scopes": ["sims:list"]}))
    assert client.get("/v1/sims", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    token = ApiToken.objects.get()
    assert token.last_used_at is not None
    assert "0 minutes ago" in text_of(teammate_client.get(reverse("api_tokens")))
    teammate_client.post(reverse("api_token_revoke", args=[token.pk]))
    assert client.get("/v1/sims", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
    assert "revoked" in text_of(teammate_client.get(reverse("api_tokens")))

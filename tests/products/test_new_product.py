"""Anyone signed in makes a product and becomes its admin; the home page offers it, and welcomes
a person who is in no product yet."""

from django.urls import reverse

from products.models import Membership, PricingModel, Product
from tests.conftest import make_user, text_of


def test_a_signed_in_person_creates_a_product_and_becomes_its_admin(client, db):
    dana = make_user("dana")
    client.force_login(dana)
    response = client.post(reverse("product_new"), {"name": "Cold Chain Sensors"})
    product = Product.objects.get(name="Cold Chain Sensors")
    assert response["Location"] == reverse("team", args=[product.slug])
    assert Membership.objects.get(product=product).user == dana
    assert Membership.objects.get(product=product).role == Membership.Role.ADMIN
    page = text_of(client.get(response["Location"]))
    assert "Cold Chain Sensors is ready and you are its admin" in page
    assert "Invite by email" in page


def test_a_new_product_starts_with_the_consoles_defaults(client, db):
    client.force_login(make_user("dana"))
    client.post(reverse("product_new"), {"name": "Meters"})
    product = Product.objects.get(name="Meters")
    assert product.pricing_model == PricingModel.PER_SIM
    assert product.default_data_limit_mb is None  # the console default
    assert (product.trigger_data_kb, product.trigger_sms, product.trigger_traffic_days, product.trigger_months) == (5, 2, 5, 6)


def test_the_slug_comes_from_the_name_and_is_never_taken_twice(client, product):
    client.force_login(make_user("dana"))
    for name in ["Acme", "Acme", "New", "!!!", "Ünïcode Fleet"]:
        client.post(reverse("product_new"), {"name": name})
    slugs = list(Product.objects.exclude(pk=product.pk).order_by("pk").values_list("slug", flat=True))
    # "acme" is the fixture's; "new" is the console's own URL (products/new/).
    assert slugs == ["acme-2", "acme-3", "new-2", "product", "unicode-fleet"]
    assert client.get(reverse("sim_list", args=["new-2"])).status_code == 200


def test_a_product_without_a_name_is_refused_saying_so(client, db):
    client.force_login(make_user("dana"))
    response = client.post(reverse("product_new"), {"name": "  "})
    assert response.status_code == 400
    assert "Give the product a name." in text_of(response)
    assert not Product.objects.exists()


def test_a_name_with_a_line_break_is_refused_saying_so(client, db):
    client.force_login(make_user("dana"))
    response = client.post(reverse("product_new"), {"name": "Evil\nBcc: x@evil.example"})
    assert response.status_code == 400
    assert "one line of text" in text_of(response)
    assert not Product.objects.exists()


def test_home_offers_a_new_product(owner_client):
    page = owner_client.get(reverse("home")).content.decode()
    assert f'href="{reverse("product_new")}"' in page


def test_someone_in_no_product_is_welcomed_and_offered_to_create_one(client, db):
    client.force_login(make_user("dana"))
    response = client.get(reverse("home"))
    page = text_of(response)
    assert "Welcome to SIM Console" in page
    assert "Create your first product" in page
    assert "ask one of its admins to invite dana@example.com" in page.lower()
    assert f'href="{reverse("product_new")}"' in response.content.decode()


def test_the_new_product_page_needs_a_sign_in(client, db):
    response = client.get(reverse("product_new"))
    assert response["Location"].startswith(reverse("login"))

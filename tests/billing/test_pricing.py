import pytest

from billing.models import RateZone, ZoneCountry, ZonePrice
from billing.pricing import NoPriceForCountry, plan_zone_of


def test_the_fleet_zone_of_a_console_without_any_rate_zone_says_an_admin_can_add_one(product):
    ZonePrice.objects.all().delete()
    ZoneCountry.objects.all().delete()
    RateZone.objects.all().delete()
    with pytest.raises(NoPriceForCountry, match="no rate zone yet: an admin can add one"):
        plan_zone_of(product)


def test_the_fleet_zone_is_the_products_own_else_the_first_by_code(product):
    first = RateZone.objects.order_by("code").first()
    assert plan_zone_of(product) == first
    product.plan_zone = RateZone.objects.order_by("code").last()
    assert plan_zone_of(product) == product.plan_zone

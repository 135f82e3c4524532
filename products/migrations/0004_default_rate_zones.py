from decimal import Decimal

from django.db import migrations
from django_countries import countries

from billing.default_prices import ZONES, zone_of_country


def fill(apps, schema_editor):
    """The zones with their prices as this migration's models hold them (0006 moves prices to versions)."""
    RateZone, ZoneCountry = apps.get_model("products", "RateZone"), apps.get_model("products", "ZoneCountry")
    if RateZone.objects.exists():
        return
    zones = {
        code: RateZone.objects.create(
            code=code, name=name, plan_monthly_price=Decimal(price), plan_included_mb=mb, overage_per_mb=Decimal(over)
        )
        for code, name, price, mb, over in ZONES
    }
    ZoneCountry.objects.bulk_create(ZoneCountry(country=code, zone=zones[zone_of_country(code)]) for code, _ in countries)


def empty(apps, schema_editor):
    apps.get_model("products", "ZoneCountry").objects.all().delete()
    apps.get_model("products", "RateZone").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("products", "0003_charge_accounts_and_zones")]
    operations = [migrations.RunPython(fill, empty)]

from django.db import migrations

from products.default_prices import fill_default_prices


def fill(apps, schema_editor):
    fill_default_prices(apps.get_model("products", "RateZone"), apps.get_model("products", "ZoneCountry"))


def empty(apps, schema_editor):
    apps.get_model("products", "ZoneCountry").objects.all().delete()
    apps.get_model("products", "RateZone").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("products", "0003_charge_accounts_and_zones")]
    operations = [migrations.RunPython(fill, empty)]

"""The moved models' content types follow them to billing, so their permissions and the admin's log
entries keep pointing at them (issue 14)."""

from django.db import migrations

MODELS = ["ratezone", "zoneprice", "zonecountry", "charge", "invoice", "invoiceline", "closedperiod"]


def relabel(apps, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = set(ContentType.objects.filter(app_label=new, model__in=MODELS).values_list("model", flat=True))
    ContentType.objects.filter(app_label=old, model__in=set(MODELS) - taken).update(app_label=new)


def to_billing(apps, schema_editor) -> None:
    relabel(apps, "products", "billing")


def to_products(apps, schema_editor) -> None:
    relabel(apps, "billing", "products")


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0001_initial'),
        ('products', '0010_billing_models_move_to_billing'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.RunPython(to_billing, to_products),
    ]

"""The billing models moved to the billing app (issue 14) with their tables: products forgets them
(state only: no table is dropped) and the product's plan zones point at billing's RateZone."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('products', '0009_charge_batch_in_imports'),
        ('billing', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='product',
                    name='plan_zone',
                    field=models.ForeignKey(blank=True, help_text='Pay as you go and pooled: the zone of the hosting fee and of the pool. Empty: the first zone.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.ratezone'),
                ),
                migrations.AlterField(
                    model_name='product',
                    name='pending_plan_zone',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.ratezone'),
                ),
                migrations.DeleteModel(name='InvoiceLine'),
                migrations.DeleteModel(name='Charge'),
                migrations.DeleteModel(name='Invoice'),
                migrations.DeleteModel(name='ZoneCountry'),
                migrations.DeleteModel(name='ZonePrice'),
                migrations.DeleteModel(name='ClosedPeriod'),
                migrations.DeleteModel(name='RateZone'),
            ],
            database_operations=[],
        ),
    ]

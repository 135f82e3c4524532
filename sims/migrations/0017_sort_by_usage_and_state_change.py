"""The SIMs page sorts by last state change and by usage this period: an index for each, and the
product on each SIM's period usage (filled from the SIMs' products) so that a product's usage is
read in order from its own index."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def fill_products(apps, schema_editor):
    schema_editor.execute(
        "UPDATE sims_simperiodusage SET product_id = (SELECT product_id FROM sims_sim WHERE sims_sim.id = sim_id)"
    )


class Migration(migrations.Migration):

    dependencies = [
        ('imports', '0001_initial'),
        ('products', '0010_billing_models_move_to_billing'),
        ('sims', '0016_bulk_jobs'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='simperiodusage',
            name='product',
            field=models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='products.product'),
        ),
        migrations.RunPython(fill_products, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name='simperiodusage',
            name='sim',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='period_usage', to='sims.sim'),
        ),
        migrations.AddIndex(
            model_name='sim',
            index=models.Index(fields=['product', 'state_changed_at', 'iccid'], name='sim_product_changed_iccid'),
        ),
        migrations.AddIndex(
            model_name='simperiodusage',
            index=models.Index(fields=['product', 'period', 'bytes'], name='simperiodusage_product_bytes'),
        ),
    ]

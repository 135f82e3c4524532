"""ImportJob and ImportBatch now live in imports (imports.0001), their tables kept: sims forgets them,
state only, and Sim.import_batch points there."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('imports', '0001_initial'),
        ('products', '0009_charge_batch_in_imports'),
        ('sims', '0014_domainevent'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(
                    model_name='importbatch',
                    name='importbatch_once_per_job',
                ),
                migrations.AlterField(
                    model_name='sim',
                    name='import_batch',
                    field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='imports.importbatch'),
                ),
                migrations.RemoveIndex(
                    model_name='importjob',
                    name='importjob_product_recent',
                ),
                migrations.RemoveField(
                    model_name='importjob',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='importjob',
                    name='product',
                ),
                migrations.DeleteModel(
                    name='ImportBatch',
                ),
                migrations.DeleteModel(
                    name='ImportJob',
                ),
            ],
        ),
    ]

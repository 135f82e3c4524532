from django.db import migrations


class Migration(migrations.Migration):
    """Apart from 0006: on PostgreSQL a table cannot be altered in the transaction that just wrote
    rows pointing at it (their foreign keys are checked at commit)."""

    dependencies = [("products", "0006_billing")]

    operations = [
        migrations.RemoveField(
            model_name='ratezone',
            name='overage_per_mb',
        ),
        migrations.RemoveField(
            model_name='ratezone',
            name='plan_included_mb',
        ),
        migrations.RemoveField(
            model_name='ratezone',
            name='plan_monthly_price',
        ),
    ]

# The rules about the product (its cost, its carrier accounts): firings with no SIM, each about a subject.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('rules', '0002_builtin_rules'),
        ('sims', '0025_counts_on_sqlite_and_connectivity_follows_its_sim'),
    ]

    operations = [
        migrations.AddField(
            model_name='rulefiring',
            name='subject',
            field=models.CharField(blank=True, db_default='', help_text='With no SIM: what fired, "" the product, "account:12" a carrier account.', max_length=40),
        ),
        migrations.AlterField(
            model_name='rule',
            name='condition_kind',
            field=models.CharField(choices=[('usage_day', 'uses more than an amount of data in a day'), ('usage_period', 'uses more than an amount of data in the billing period'), ('usage_rolling', 'uses more than an amount of data in the last hours'), ('sms_count', 'sends more than a number of SMS in a day'), ('spike', 'uses far more data in a day than usual (a spike)'), ('no_session', 'has had no data session for some hours'), ('imei_changed', 'is seen in a new device (its IMEI changed)'), ('country', 'attaches to a network in a country'), ('state_changed', 'changes state'), ('cost_over_budget', "the product's estimated cost this billing period goes over an amount or its budget"), ('carrier_failures', 'too many of the changes pushed to a carrier account fail'), ('data_limit', 'reaches its data limit (built in)'), ('test_trigger', "reaches its product's test trigger (built in)")], max_length=16),
        ),
        migrations.AlterField(
            model_name='rulefiring',
            name='sim',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='sims.sim'),
        ),
        migrations.AddConstraint(
            model_name='rulefiring',
            constraint=models.UniqueConstraint(condition=models.Q(('sim__isnull', True)), fields=('rule', 'subject', 'window_key'), name='rulefiring_product_once_per_window'),
        ),
    ]

"""Billing's models, moved from products (issue 14) with their tables: the state only, no table is
created (products' 0009 drops them from products' state)."""

import django.db.models.deletion
import django_countries.fields
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('products', '0009_charge_batch_in_imports'),
        ('imports', '0001_initial'),
        ('sims', '0014_domainevent'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ClosedPeriod',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('period_start', models.DateField(unique=True)),
                        ('closed_at', models.DateTimeField()),
                        ('summary', models.CharField(max_length=300)),
                    ],
                    options={
                        'db_table': 'products_closedperiod',
                    },
                ),
                migrations.CreateModel(
                    name='RateZone',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.CharField(max_length=10, unique=True)),
                        ('name', models.CharField(max_length=60)),
                    ],
                    options={
                        'db_table': 'products_ratezone',
                        'ordering': ['code'],
                    },
                ),
                migrations.CreateModel(
                    name='Invoice',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('number', models.CharField(max_length=30, unique=True)),
                        ('period_start', models.DateField(help_text='First day of the billing month invoiced.')),
                        ('pricing_model', models.CharField(choices=[('per_sim', 'Per-SIM plan'), ('payg', 'Pay as you go'), ('pooled', 'Pooled inclusive volume')], max_length=10)),
                        ('peak_sims', models.PositiveIntegerField(help_text='Peak SIMs billable at once, at 12-hour resolution.')),
                        ('total', models.DecimalField(decimal_places=2, max_digits=14)),
                        ('issued_at', models.DateTimeField()),
                        ('product', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='invoices', to='products.product')),
                        ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='invoices', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'products_invoice',
                        'ordering': ['-period_start', 'number'],
                    },
                ),
                migrations.CreateModel(
                    name='InvoiceLine',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('position', models.PositiveIntegerField()),
                        ('kind', models.CharField(max_length=20)),
                        ('description', models.CharField(max_length=200)),
                        ('quantity', models.DecimalField(decimal_places=4, max_digits=16)),
                        ('unit', models.CharField(help_text='What the quantity counts: SIMs, SIM-months, MB, SMS.', max_length=20)),
                        ('unit_price', models.DecimalField(decimal_places=4, max_digits=12)),
                        ('amount', models.DecimalField(decimal_places=2, max_digits=14)),
                        ('invoice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='lines', to='billing.invoice')),
                        ('zone', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.ratezone')),
                    ],
                    options={
                        'db_table': 'products_invoiceline',
                        'ordering': ['invoice', 'position'],
                    },
                ),
                migrations.CreateModel(
                    name='Charge',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('first_month', 'First month, prorated'), ('transfer_overage', 'Overage settled at a transfer'), ('credit', 'Credit (a correction)')], max_length=20)),
                        ('description', models.CharField(max_length=200)),
                        ('quantity', models.DecimalField(decimal_places=4, max_digits=16)),
                        ('unit_price', models.DecimalField(decimal_places=4, max_digits=12)),
                        ('amount', models.DecimalField(decimal_places=2, help_text='Negative for a credit.', max_digits=14)),
                        ('period_start', models.DateField(help_text='First day of the billing month the charge belongs to.')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('import_batch', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='charge', to='imports.importbatch')),
                        ('product', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='charges', to='products.product')),
                        ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='charges', to=settings.AUTH_USER_MODEL)),
                        ('invoice', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='charges', to='billing.invoice')),
                        ('zone', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.ratezone')),
                    ],
                    options={
                        'db_table': 'products_charge',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='ZoneCountry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('country', django_countries.fields.CountryField(max_length=2, unique=True)),
                        ('zone', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='countries', to='billing.ratezone')),
                    ],
                    options={
                        'verbose_name': "country's rate zone",
                        'verbose_name_plural': "countries' rate zones",
                        'db_table': 'products_zonecountry',
                        'ordering': ['country'],
                    },
                ),
                migrations.CreateModel(
                    name='ZonePrice',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('effective_from', models.DateTimeField(help_text='The prices apply from this moment (UTC) on.')),
                        ('plan_monthly_price', models.DecimalField(decimal_places=4, default=0, help_text='Per-SIM plan: per billable SIM per month, prorated in its first month.', max_digits=10)),
                        ('plan_included_mb', models.PositiveIntegerField(default=0, help_text='Per-SIM plan: MB included per SIM.')),
                        ('overage_per_mb', models.DecimalField(decimal_places=4, default=0, help_text="Per-SIM plan: per MB over a SIM's included data.", max_digits=10)),
                        ('payg_monthly_fee', models.DecimalField(decimal_places=4, default=0, help_text='Pay as you go: hosting fee per billable SIM per month (peak concurrency).', max_digits=10)),
                        ('payg_data_per_mb', models.DecimalField(decimal_places=4, default=0, help_text='Pay as you go: per MB used in this zone.', max_digits=10)),
                        ('payg_sms_price', models.DecimalField(decimal_places=4, default=0, help_text='Pay as you go: per SMS sent in this zone.', max_digits=10)),
                        ('pool_monthly_fee', models.DecimalField(decimal_places=4, default=0, help_text='Pooled: fee per billable SIM per month (peak concurrency).', max_digits=10)),
                        ('pool_included_mb', models.PositiveIntegerField(default=0, help_text='Pooled: MB each billable SIM adds to the pool.')),
                        ('pool_overage_per_mb', models.DecimalField(decimal_places=4, default=0, help_text="Pooled: per MB beyond the pool, and per MB used in this zone by a fleet whose plan is another zone's.", max_digits=10)),
                        ('suspension_fee_per_sim', models.DecimalField(decimal_places=4, default=0, help_text='Per-SIM plan: one-time fee per suspension.', max_digits=10)),
                        ('suspension_fee_payg', models.DecimalField(decimal_places=4, default=0, help_text='Pay as you go: one-time fee per suspension.', max_digits=10)),
                        ('suspension_fee_pooled', models.DecimalField(decimal_places=4, default=0, help_text='Pooled: one-time fee per suspension.', max_digits=10)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('zone', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='prices', to='billing.ratezone')),
                    ],
                    options={
                        'db_table': 'products_zoneprice',
                        'ordering': ['zone__code', '-effective_from'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='invoice',
                    constraint=models.CheckConstraint(condition=models.Q(('product__isnull', False), ('user__isnull', False), _connector='OR'), name='invoice_has_an_account'),
                ),
                migrations.AddConstraint(
                    model_name='invoice',
                    constraint=models.UniqueConstraint(condition=models.Q(('product__isnull', False)), fields=('product', 'period_start'), name='one_invoice_per_product_and_period'),
                ),
                migrations.AddConstraint(
                    model_name='invoice',
                    constraint=models.UniqueConstraint(condition=models.Q(('user__isnull', False)), fields=('user', 'period_start'), name='one_invoice_per_user_and_period'),
                ),
                migrations.AddConstraint(
                    model_name='invoiceline',
                    constraint=models.UniqueConstraint(fields=('invoice', 'position'), name='one_invoice_line_per_position'),
                ),
                migrations.AddConstraint(
                    model_name='charge',
                    constraint=models.CheckConstraint(condition=models.Q(('product__isnull', False), ('user__isnull', False), _connector='OR'), name='charge_has_an_account'),
                ),
                migrations.AddConstraint(
                    model_name='zoneprice',
                    constraint=models.UniqueConstraint(fields=('zone', 'effective_from'), name='one_zone_price_per_moment'),
                ),
            ],
            database_operations=[],
        ),
    ]

"""Webhook and WebhookDelivery move from api to this app, keeping their tables (api_webhook,
api_webhookdelivery): the state changes, the database does not, and no row is copied. api's
0003_webhooks_moved_out then drops them from api's state. Their content types follow them, so admin
log entries and permissions keep pointing at them."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MOVED = ["webhook", "webhookdelivery"]


def move_content_types(apps, schema_editor, source="api", target="webhooks"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    taken = set(ContentType.objects.using(db).filter(app_label=target, model__in=MOVED).values_list("model", flat=True))
    ContentType.objects.using(db).filter(app_label=source, model__in=set(MOVED) - taken).update(app_label=target)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, source="webhooks", target="api")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('api', '0002_webhooks'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('products', '0007_prices_only_in_versions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Webhook',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('url', models.URLField(max_length=500, verbose_name='URL')),
                        ('secret', models.CharField(max_length=80)),
                        ('is_active', models.BooleanField(default=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('product', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhooks', to='products.product')),
                    ],
                    options={
                        'db_table': 'api_webhook',
                        'ordering': ['created_at', 'id'],
                        'indexes': [models.Index(fields=['product', 'is_active'], name='webhook_product_active')],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookDelivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('uuid', models.UUIDField(unique=True)),
                        ('kind', models.CharField(choices=[('sim.events', 'SIM events'), ('import.finished', 'Import finished')], max_length=20)),
                        ('summary', models.CharField(max_length=200)),
                        ('event_count', models.PositiveIntegerField(default=0)),
                        ('body', models.TextField()),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('delivered', 'Delivered'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], default='pending', max_length=10)),
                        ('attempts', models.PositiveIntegerField(default=0)),
                        ('next_attempt_at', models.DateTimeField(blank=True, null=True)),
                        ('last_attempt_at', models.DateTimeField(blank=True, null=True)),
                        ('last_status_code', models.PositiveIntegerField(blank=True, null=True)),
                        ('last_error', models.CharField(blank=True, max_length=500)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('delivered_at', models.DateTimeField(blank=True, null=True)),
                        ('webhook', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='webhooks.webhook')),
                    ],
                    options={
                        'db_table': 'api_webhookdelivery',
                        'verbose_name_plural': 'webhook deliveries',
                        'ordering': ['-id'],
                        'indexes': [models.Index(fields=['webhook', '-id'], name='webhookdelivery_webhook_id')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]

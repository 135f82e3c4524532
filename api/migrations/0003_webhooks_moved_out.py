"""Webhook and WebhookDelivery now live in the webhooks app (webhooks/0001_initial), on the same
tables: they leave api's state only, and their tables stay."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('api', '0002_webhooks'),
        ('webhooks', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='WebhookDelivery'),
                migrations.DeleteModel(name='Webhook'),
            ],
            database_operations=[],
        ),
    ]

"""ImportJob and ImportBatch move here from sims, their tables kept (sims_importjob, sims_importbatch):
state only, no row copied. sims.0015 then forgets them; products.0009 points Charge at them here.
Their content types are renamed to this app, so admin log entries and permissions keep pointing at them."""

import django.db.models.deletion
import django.utils.timezone
import django_countries.fields
from django.conf import settings
from django.db import migrations, models


MODELS = ["importjob", "importbatch"]


def _move_content_types(apps, schema_editor, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.using(schema_editor.connection.alias)
    for model in MODELS:
        if not types.filter(app_label=new, model=model).exists():
            types.filter(app_label=old, model=model).update(app_label=new)


def content_types_to_imports(apps, schema_editor) -> None:
    _move_content_types(apps, schema_editor, "sims", "imports")


def content_types_to_sims(apps, schema_editor) -> None:
    _move_content_types(apps, schema_editor, "imports", "sims")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('products', '0008_closed_period'),
        ('sims', '0014_domainevent'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    state_operations = [
        migrations.CreateModel(
            name='ImportJob',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('token_name', models.CharField(blank=True, max_length=100)),
                ('status', models.CharField(choices=[('draft', 'Draft'), ('queued', 'Queued'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], default='draft', max_length=10)),
                ('country', django_countries.fields.CountryField(blank=True, max_length=2)),
                ('typed_text', models.TextField(blank=True)),
                ('input_file', models.FileField(blank=True, upload_to='imports/%Y/%m/')),
                ('input_filename', models.CharField(blank=True, max_length=200)),
                ('lines', models.PositiveIntegerField(default=0)),
                ('valid', models.PositiveIntegerField(default=0)),
                ('invalid', models.PositiveIntegerField(default=0)),
                ('duplicates', models.PositiveIntegerField(default=0)),
                ('ignored', models.PositiveIntegerField(default=0)),
                ('processed', models.PositiveIntegerField(default=0)),
                ('batch_size', models.PositiveIntegerField(default=5000)),
                ('batches_in_iccid_order', models.BooleanField(default=True)),
                ('batches_done', models.PositiveIntegerField(default=0)),
                ('activated', models.PositiveIntegerField(default=0)),
                ('transferred', models.PositiveIntegerField(default=0)),
                ('already_in_product', models.PositiveIntegerField(default=0)),
                ('other_owner', models.PositiveIntegerField(default=0)),
                ('terminated', models.PositiveIntegerField(default=0)),
                ('carrier_refused', models.PositiveIntegerField(default=0)),
                ('error', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('confirmed_at', models.DateTimeField(blank=True, null=True)),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='import_jobs', to=settings.AUTH_USER_MODEL)),
                ('product', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='import_jobs', to='products.product')),
            ],
            options={
                'db_table': 'sims_importjob',
            },
        ),
        migrations.CreateModel(
            name='ImportBatch',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField()),
                ('outcomes', models.TextField()),
                ('carrier_refusals', models.JSONField(blank=True, default=dict)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('job', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='batches', to='imports.importjob')),
            ],
            options={
                'db_table': 'sims_importbatch',
                'ordering': ['job', 'number'],
            },
        ),
        migrations.AddIndex(
            model_name='importjob',
            index=models.Index(fields=['product', '-created_at'], name='importjob_product_recent'),
        ),
        migrations.AddConstraint(
            model_name='importbatch',
            constraint=models.UniqueConstraint(fields=('job', 'number'), name='importbatch_once_per_job'),
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
        migrations.RunPython(content_types_to_imports, content_types_to_sims),
    ]

"""ImportJob and ImportBatch moved from sims to imports with their tables: a database at the schema
from before the move, with jobs, batches, the SIMs and charges that point at them, an admin log entry
and a permission, migrates forward without a row copied or lost."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from imports.models import ImportBatch, ImportJob
from billing.models import Charge
from sims.models import Sim

BEFORE_THE_MOVE = [("sims", "0014_domainevent"), ("products", "0008_closed_period"), ("imports", None)]


def migrate(targets):
    """Migrate the test database to `targets`; the historical models of every app as migrated."""
    return MigrationExecutor(connection).migrate(targets).apps


def rows_before_the_move(old) -> dict:
    """Rows written through the historical models of the schema before the move."""
    user = old.get_model("auth", "User").objects.create(username="importer")
    product = old.get_model("products", "Product").objects.create(name="Fleet", slug="fleet")
    Job, Batch = old.get_model("sims", "ImportJob"), old.get_model("sims", "ImportBatch")
    done = Job.objects.create(product=product, created_by=user, status="done", country="US", valid=2, activated=2)
    draft = Job.objects.create(product=product, created_by=user, typed_text="8901", token_name="ci")
    batches = [Batch.objects.create(job=done, number=n, outcomes="A", carrier_refusals={"x": n}) for n in range(2)]
    sim = old.get_model("sims", "Sim").objects.create(iccid="89012600000000000017", product=product, state="active", import_batch=batches[1])
    charge = old.get_model("products", "Charge").objects.create(
        product=product, kind="activation", description="2 SIMs", quantity=Decimal(2), unit_price=Decimal("1.5"),
        amount=Decimal(3), period_start=date(2026, 11, 1), import_batch=batches[0],
    )  # fmt: skip
    ContentTypes = old.get_model("contenttypes", "ContentType")
    job_type, _ = ContentTypes.objects.get_or_create(app_label="sims", model="importjob")
    permission = old.get_model("auth", "Permission").objects.create(name="Can view import job", codename="view_importjob_x", content_type=job_type)
    log = old.get_model("admin", "LogEntry").objects.create(user=user, content_type=job_type, object_id=str(done.pk), object_repr="x", action_flag=2)
    return {"jobs": [done.pk, draft.pk], "batches": [b.pk for b in batches], "sim": sim.pk, "charge": charge.pk,
            "job_type": job_type.pk, "permission": permission.pk, "log": log.pk, "user": user.pk}  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_import_jobs_and_batches_keep_every_row_and_every_link_through_the_move():
    before = rows_before_the_move(migrate(BEFORE_THE_MOVE))
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()

    done, draft = (ImportJob.objects.get(pk=pk) for pk in before["jobs"])
    assert (done.status, done.country.code, done.valid, done.activated, done.created_by.username) == ("done", "US", 2, 2, "importer")
    assert (draft.status, draft.typed_text, draft.token_name, draft.product.slug) == ("draft", "8901", "ci", "fleet")
    assert [(b.pk, b.number, b.carrier_refusals) for b in done.batches.all()] == [
        (before["batches"][0], 0, {"x": 0}), (before["batches"][1], 1, {"x": 1}),
    ]  # fmt: skip
    assert Sim.objects.get(pk=before["sim"]).import_batch == ImportBatch.objects.get(pk=before["batches"][1])
    assert Charge.objects.get(pk=before["charge"]).import_batch.job == done
    assert ImportBatch.objects.get(pk=before["batches"][0]).charge.pk == before["charge"]
    # The content type moved with the model: the admin's log and the permission still name it.
    assert ContentType.objects.get_for_model(ImportJob).pk == before["job_type"]
    assert LogEntry.objects.get(pk=before["log"]).get_edited_object() == done
    assert Permission.objects.get(pk=before["permission"]).content_type.model_class() is ImportJob
    # New rows go on from the old sequences.
    assert ImportJob.objects.create(product=done.product, created_by=done.created_by).pk > max(before["jobs"])

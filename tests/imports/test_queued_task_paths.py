"""Task rows queued before a task moved name it by its old dotted path; the migration that retired the
old paths renames them, so a worker still runs every one (imports/migrations/0002)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from imports.importing import confirm_import, count_input, run_import_job, start_import
from imports.models import ImportJob
from sims.models import Sim, UsageTick
from sims.periodic import run_usage_tick
from tests.conftest import make_iccid
from webhooks.delivery import deliver_webhook

BEFORE_THE_RENAME = [("imports", "0001_initial")]


def queued_under_an_old_path(result, old_path: str) -> int:
    DBTaskResult.objects.filter(pk=result.id).update(task_path=old_path)
    return result.id


def migrate(targets) -> None:
    MigrationExecutor(connection).migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_tasks_queued_under_their_old_paths_are_renamed_and_still_run(prices, product, owner):
    job = start_import(product=product, user=owner, typed_text=make_iccid())
    count_input(job)
    confirm_import(job=job, country="US", enqueue=False)
    tick = UsageTick.objects.create(slot=None)
    migrate(BEFORE_THE_RENAME)
    rows = {
        queued_under_an_old_path(run_import_job.enqueue(job.pk), "sims.tasks.run_import_job"): "imports.importing.run_import_job",
        queued_under_an_old_path(run_usage_tick.enqueue(tick.pk), "sims.tasks.run_usage_tick"): "sims.periodic.run_usage_tick",
        queued_under_an_old_path(deliver_webhook.enqueue(1), "api.tasks.deliver_webhook"): "webhooks.delivery.deliver_webhook",
        queued_under_an_old_path(deliver_webhook.enqueue(2), "api.webhooks.deliver_webhook"): "webhooks.delivery.deliver_webhook",
    }

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert {str(row.pk): row.task_path for row in DBTaskResult.objects.filter(pk__in=rows)} == rows
    assert all(import_string(path) for path in rows.values())
    for pk in list(rows)[:2]:
        row = DBTaskResult.objects.get(pk=pk)
        row.task.call(*row.task_result.args)
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DONE
    assert Sim.objects.filter(product=product, state="active").count() == 1
    assert UsageTick.objects.get(pk=tick.pk).finished_at is not None


"""Task rows queued before a task moved name it by its old dotted path: a worker must still run them."""

from django_tasks_db.models import DBTaskResult

from imports.importing import confirm_import, count_input, run_import_job, start_import
from imports.models import ImportJob
from sims.models import Sim, UsageTick
from sims.periodic import run_usage_tick
from tests.conftest import make_iccid


def run_as_queued_under(old_path: str, result: DBTaskResult) -> None:
    """What a worker does with a row whose task_path is `old_path`."""
    DBTaskResult.objects.filter(pk=result.pk).update(task_path=old_path)
    row = DBTaskResult.objects.get(pk=result.pk)
    row.task.call(*row.task_result.args)


def test_an_import_queued_as_sims_tasks_run_import_job_still_runs(prices, product, owner):
    job = start_import(product=product, user=owner, typed_text=make_iccid())
    count_input(job)
    confirm_import(job=job, country="US", enqueue=False)
    queued = run_import_job.enqueue(job.pk)

    run_as_queued_under("sims.tasks.run_import_job", DBTaskResult.objects.get(pk=queued.id))

    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DONE
    assert Sim.objects.filter(product=product, state="active").count() == 1


def test_a_usage_tick_queued_as_sims_tasks_run_usage_tick_still_runs(db):
    tick = UsageTick.objects.create(slot=None)
    queued = run_usage_tick.enqueue(tick.pk)

    run_as_queued_under("sims.tasks.run_usage_tick", DBTaskResult.objects.get(pk=queued.id))

    assert UsageTick.objects.get(pk=tick.pk).finished_at is not None

from django.tasks import task

from sims.importing import run_import
from sims.periodic import run_scheduled_tick


@task
def run_import_job(job_id: int) -> None:
    run_import(job_id=job_id)


@task
def run_usage_tick(tick_id: int) -> str:
    return run_scheduled_tick(tick_id=tick_id)

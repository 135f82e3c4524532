from django.tasks import task

from sims.importing import run_import


@task
def run_import_job(job_id: int) -> None:
    run_import(job_id=job_id)

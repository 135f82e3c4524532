"""A real worker process killed (SIGKILL) in the middle of an import: nothing half-done,
and the job finishes when a worker runs again, with the same result as an undisturbed run."""

import time

import pytest
from django.core.management import call_command

from billing.models import Charge
from imports.importing import confirm_import, count_input
from imports.models import ImportJob
from products.models import Product
from sims.models import Sim, SimEvent
from tests.conftest import make_iccid, make_user

pytestmark = pytest.mark.django_db(transaction=True)
SIMS, BATCH = 6000, 500


def wait_for(condition, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def job_state(job_id: int) -> ImportJob:
    return ImportJob.objects.get(pk=job_id)


def test_a_killed_worker_leaves_whole_batches_and_a_new_worker_finishes_the_job(prices, start_worker, settings):
    settings.IMPORT_BATCH_SIZE = BATCH
    product = Product.objects.create(name="Fleet", slug="fleet")
    job = ImportJob.objects.create(
        product=product, created_by=make_user("importer"), typed_text="\n".join(make_iccid() for _ in range(SIMS))
    )
    count_input(job)
    confirm_import(job=job, country="US")  # enqueued on commit: a task row for the workers

    slow = {"CARRIER_SIMULATOR_DELAY_MS": "150"}
    first = start_worker(**slow)
    wait_for(lambda: job_state(job.pk).batches_done >= 3)
    first.kill()  # SIGKILL: no cleanup, mid-batch
    first.wait()

    stopped = job_state(job.pk)
    assert stopped.status == "running" and stopped.batches_done < SIMS // BATCH
    committed = stopped.batches_done * BATCH
    assert stopped.processed == stopped.activated == committed
    assert Sim.objects.count() == SimEvent.objects.count() == committed  # no half batch
    assert sum(Charge.objects.values_list("quantity", flat=True)) == committed

    call_command("resume_imports", idle_minutes=0)
    start_worker()
    wait_for(lambda: job_state(job.pk).status == "done")

    done = job_state(job.pk)
    assert (done.activated, done.processed, done.batches_done) == (SIMS, SIMS, SIMS // BATCH)
    assert Sim.objects.filter(product=product, state="active").count() == SIMS
    assert SimEvent.objects.count() == SIMS and Sim.objects.filter(events__isnull=True).count() == 0
    assert Charge.objects.count() == SIMS // BATCH
    assert sum(Charge.objects.values_list("quantity", flat=True)) == SIMS

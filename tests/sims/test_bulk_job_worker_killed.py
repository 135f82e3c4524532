"""A real worker process killed (SIGKILL) in the middle of a bulk job: whole chunks only, and the job ends
when a worker runs again, each SIM changed once, the report counting each once."""

import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from lib.bulk_insert import bulk_insert, db_datetime
from products.models import Product
from sims.bulk_jobs import start_bulk_job
from sims.lifecycle import Action
from sims.models import BulkJob, Sim, SimEvent, State
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)
SIMS, CHUNK, ALREADY = 6000, 50, 600  # every tenth SIM is suspended already: skipped, once each
FIELDS = ["iccid", "product", "state", "state_changed_at", "home_country", "activations_count", "deactivations_count", "created_at"]


def wait_for(condition, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def job_state(job_id: int) -> BulkJob:
    return BulkJob.objects.get(pk=job_id)


def test_a_killed_worker_leaves_whole_chunks_and_a_new_worker_finishes_the_job(start_worker):
    product = Product.objects.create(name="Fleet", slug="fleet")
    now = db_datetime(timezone.now())
    bulk_insert(
        Sim, FIELDS,
        [(f"89012600{n:011d}", product.pk, "suspended" if n % 10 == 0 else "active", now, "US", 1, 0, now) for n in range(SIMS)],
    )  # fmt: skip
    job, _ = start_bulk_job(
        product=product, user=make_user("bulk"), submission="kill", action=Action.DEACTIVATE, confirmed_count=SIMS,
        described="every SIM of the product", filters={},
    )  # fmt: skip  (queued on commit: a task row for the workers)

    first = start_worker(BULK_JOB_CHUNK_SIMS=str(CHUNK))
    wait_for(lambda: job_state(job.pk).chunks_done >= 3)
    first.kill()  # SIGKILL: no cleanup, maybe mid-chunk
    first.wait()

    stopped = job_state(job.pk)
    assert stopped.status == "running" and stopped.chunks_done < SIMS // CHUNK
    committed = stopped.chunks_done * CHUNK
    assert stopped.processed == committed == stopped.changed + stopped.skipped_count
    assert Sim.objects.filter(state=State.SUSPENDED).count() == ALREADY + stopped.changed  # no half chunk
    assert SimEvent.objects.count() == stopped.changed

    call_command("resume_bulk_jobs", idle_minutes=0)
    start_worker(BULK_JOB_CHUNK_SIMS=str(CHUNK))
    wait_for(lambda: job_state(job.pk).status == "done")

    done = job_state(job.pk)
    assert (done.processed, done.changed, done.skipped_count) == (SIMS, SIMS - ALREADY, ALREADY)
    assert not Sim.objects.exclude(state=State.SUSPENDED).exists()
    assert SimEvent.objects.count() == SIMS - ALREADY
    assert SimEvent.objects.values("sim_id").distinct().count() == SIMS - ALREADY

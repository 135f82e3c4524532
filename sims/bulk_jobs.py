"""Bulk actions on more SIMs than a request should change (settings.BULK_JOB_ABOVE_SIMS), as background
jobs with progress and a stored report, as imports run.

The worker lists the SIMs the job acts on when it begins (those matching the filter then, or the ids
ticked), in id order. If the person typed a number to confirm and the SIMs listed are not that many, it
acts on none and says so: the SIMs changed since they were counted. Otherwise it changes them
BULK_JOB_CHUNK_SIMS at a time through `change_sims`, the one function every path takes. A chunk's
changes, events and the job's counters (its last SIM id among them) commit together or not at all: a
worker that dies leaves whole chunks, and whoever runs the job next starts after the last one committed
(`manage.py resume_bulk_jobs`), so no SIM is acted on twice and the report counts each once.
"""

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, reset_queries, transaction
from django.db.models import F, Q
from django.tasks import task
from django.utils import timezone

from products.models import Product
from sims.lifecycle import Action, Actor
from sims.limits import change_sims
from sims.listing import select_sims, ticked_sims
from sims.models import BulkJob

# The SIMs page lists the product's bulk jobs under way, and those that ended this long ago at most.
RECENT_JOBS = timedelta(hours=1)


def start_bulk_job(
    *,
    product: Product,
    user: Any,
    submission: str,
    action: Action,
    confirmed_count: int | None,
    described: str,
    filters: dict[str, str] | None = None,
    sim_ids: list[int] | None = None,
    data_limit_mb: int | None = None,
    unpause: bool = False,
) -> tuple[BulkJob, bool]:
    """Queue a bulk action for the worker: the SIMs matching `filters` (the SIMs page's state, country,
    q and spiking_on) or the ticked `sim_ids`; `confirmed_count`, the number of SIMs typed to confirm it
    (the worker checks it when it lists them). A second submission of the same form (`submission`, a
    double click) starts nothing and gives the first job: (job, whether it is new)."""
    try:
        with transaction.atomic():
            job = BulkJob.objects.create(
                product=product, created_by=user, submission=submission, action=action.value,
                data_limit_mb=data_limit_mb, unpause=unpause, filters=filters or {}, sim_ids=sim_ids,
                described=described[:300], confirmed_count=confirmed_count,
            )  # fmt: skip
            transaction.on_commit(lambda: enqueue_bulk_job(job.pk))
    except IntegrityError:
        first = BulkJob.objects.get(product=product, submission=submission)
        asked = (action.value, data_limit_mb, unpause, filters or {}, sim_ids)
        if (first.action, first.data_limit_mb, first.unpause, first.filters, first.sim_ids) != asked:
            raise FormAlreadyUsed(first) from None
        return first, False
    return job, True


class FormAlreadyUsed(Exception):
    """The form's one-time token started another job (the page came back from the browser's history and
    asked for something else): nothing new is started, and the person reloads to ask again."""

    def __init__(self, job: BulkJob) -> None:
        self.job = job
        super().__init__(
            f"Nothing was started: this form already started bulk job #{job.pk} ({job.described}). "
            "Reload the SIMs page to apply another action."
        )


# The task lives beside what queues it and what it runs, as imports' does.
@task
def run_bulk_job_task(job_id: int) -> None:
    run_bulk_job(job_id=job_id)


def enqueue_bulk_job(job_id: int) -> None:
    run_bulk_job_task.enqueue(job_id)


def run_bulk_job(*, job_id: int) -> BulkJob:
    """Run (or resume) a job to its end: the SIMs it acts on after its last committed chunk."""
    job = BulkJob.objects.select_related("product", "created_by").get(pk=job_id)
    if job.status == BulkJob.Status.DONE:
        return job
    now = timezone.now()
    BulkJob.objects.filter(pk=job.pk).update(status=BulkJob.Status.RUNNING, started_at=job.started_at or now, error="", updated_at=now)
    try:
        ids = _sims_after(job, job.last_sim_id)
        if not job.processed and job.confirmed_count is not None and len(ids) != job.confirmed_count:
            _refuse(job, matching=len(ids))
            return job
        BulkJob.objects.filter(pk=job.pk).update(total=job.processed + len(ids), updated_at=timezone.now())
        # One transaction per chunk (the lifecycle's own chunks of 1,000 are savepoints in it).
        size = settings.BULK_JOB_CHUNK_SIMS
        for start in range(0, len(ids), size):
            _run_chunk(job, ids[start : start + size])
            reset_queries()  # under DEBUG every statement is kept
    except Exception as error:
        _finish(job, status=BulkJob.Status.FAILED, error=f"{type(error).__name__}: {error}")
        raise
    _finish(job, status=BulkJob.Status.DONE, finished_at=timezone.now())
    job.refresh_from_db()
    return job


def _sims_after(job: BulkJob, last_sim_id: int) -> list[int]:
    """The ids of the job's SIMs above `last_sim_id`, in order: the ticked ones still in the product,
    or those matching the filter now."""
    if job.sim_ids is not None:
        return [pk for pk in ticked_sims(job.product, job.sim_ids) if pk > last_sim_id]
    spiking_on = job.filters.get("spiking_on")
    selection = select_sims(
        product=job.product,
        state=job.filters.get("state", ""),
        country=job.filters.get("country", ""),
        fragment=job.filters.get("q", ""),
        network=job.filters.get("network", ""),
        connectivity=job.filters.get("connectivity", ""),
        spiking_on=date.fromisoformat(spiking_on) if spiking_on else None,
    )
    return list(selection.queryset.filter(pk__gt=last_sim_id).order_by("pk").values_list("pk", flat=True))


def _run_chunk(job: BulkJob, ids: list[int]) -> None:
    with transaction.atomic():
        # One runner per chunk: a second worker on the same job waits here, then skips what is done.
        locked = BulkJob.objects.select_for_update().get(pk=job.pk)
        todo = [pk for pk in ids if pk > locked.last_sim_id]
        if locked.is_finished or not todo:
            return
        change = change_sims(
            sims=todo, action=Action(job.action), actor=Actor.for_user(job.created_by),
            data_limit_mb=job.data_limit_mb, unpause=job.unpause, product_id=job.product_id,
        )  # fmt: skip
        skipped = Counter(locked.skipped)
        skipped.update(change.report.refused_by_reason)
        BulkJob.objects.filter(pk=job.pk).update(
            last_sim_id=todo[-1],
            chunks_done=F("chunks_done") + 1,
            processed=F("processed") + len(todo),
            changed=F("changed") + len(change.report.done),
            paused=F("paused") + change.paused,
            unpaused=F("unpaused") + change.unpaused,
            skipped=dict(skipped),
            updated_at=timezone.now(),
        )


def _refuse(job: BulkJob, *, matching: int) -> None:
    """The SIMs changed between the number typed and the job's start: act on none rather than on another number."""
    _finish(
        job,
        status=BulkJob.Status.REFUSED,
        total=matching,
        finished_at=timezone.now(),
        error=(
            f"Nothing was changed: {matching:,} SIMs match now, not the {job.confirmed_count:,} you confirmed "
            "(the SIMs changed in between). Apply the action again from the SIMs page to confirm the new number."
        ),
    )
    job.refresh_from_db()


def _finish(job: BulkJob, **fields: object) -> None:
    """Only a job still under way ends: a second runner reaching an end already written changes nothing."""
    under_way = [BulkJob.Status.QUEUED, BulkJob.Status.RUNNING]
    BulkJob.objects.filter(pk=job.pk, status__in=under_way).update(updated_at=timezone.now(), **fields)


def skipped_by_reason(job: BulkJob) -> list[tuple[str, int]]:
    """The report's skipped SIMs by reason, the most common first."""
    return Counter(job.skipped).most_common()


def seconds_left(job: BulkJob) -> float | None:
    """Time left at the pace so far; None until there is a pace."""
    if job.status != BulkJob.Status.RUNNING or not job.started_at or not job.processed:
        return None
    elapsed = (timezone.now() - job.started_at).total_seconds()
    return elapsed / job.processed * max(0, job.total - job.processed)


def recent_bulk_jobs(product: Product, *, now: datetime) -> list[tuple[BulkJob, str]]:
    """The product's bulk jobs under way or just ended, newest first, with their action's label: the SIMs
    page links to them."""
    under_way = Q(status__in=[BulkJob.Status.QUEUED, BulkJob.Status.RUNNING])
    jobs = BulkJob.objects.filter(under_way | Q(finished_at__gte=now - RECENT_JOBS), product=product)
    return [(job, Action(job.action).label) for job in jobs.order_by("-created_at")[:3]]

"""An import's domain events: the SIMs a batch inserted and the job's end, written to sims' outbox
(sims.events) in the transaction of the batch or of the job's end."""

from django.utils import timezone

from imports.models import ImportBatch, ImportJob
from sims.events import iso, write_events
from sims.models import DomainEvent

IMPORT_COUNTS = [
    "lines", "valid", "invalid", "duplicates", "ignored", "processed",
    "activated", "transferred", "already_in_product", "other_owner", "terminated", "carrier_refused",
]  # fmt: skip


def record_import_batch(*, job: ImportJob, batch: ImportBatch, iccids: list[str]) -> None:
    """The SIMs an import batch inserted (those it took from inventory or a developer's account went
    through the lifecycle, which recorded theirs)."""
    if not iccids:
        return
    now = timezone.now()
    data = {
        "action": "import",
        "actor": {"kind": job.actor_kind, "name": job.actor_name},
        "occurred_at": iso(now),
        "event_count": len(iccids),
        "import": {"id": job.pk, "batch": batch.number + 1},
        "changes": [{"from_state": "issued", "to_state": "active", "reason": f"Import #{job.pk}", "iccids": iccids}],
    }
    write_events([DomainEvent(kind=DomainEvent.Kind.SIMS_CHANGED, product_id=job.product_id, data=data, created_at=now)])


def record_import_finished(*, job_id: int) -> None:
    """A job that ended, done or failed, with its counts as committed (call it in the transaction
    that ends the job)."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    data = {
        "actor": {"kind": job.actor_kind, "name": job.actor_name},
        "import": {
            "id": job.pk,
            "status": job.status,
            "country": job.country.code or None,  # type: ignore[attr-defined]  # a Country: django-stubs types django-countries' CountryField as a str
            "started_at": iso(job.started_at),
            "finished_at": iso(job.finished_at),
            "error": job.error or None,
            **{name: getattr(job, name) for name in IMPORT_COUNTS},
        },
    }
    write_events([DomainEvent(kind=DomainEvent.Kind.IMPORT_FINISHED, product_id=job.product_id, data=data)])

"""Queue again the bulk jobs a worker left unfinished (killed, or the machine restarted).

Safe to run any time, with workers running: a chunk already committed is never redone.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from sims.bulk_jobs import enqueue_bulk_job
from sims.models import BulkJob


class Command(BaseCommand):
    help = "Re-queue bulk jobs that stopped making progress (a worker died or failed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--idle-minutes", type=int, default=2, help="No progress for this long counts as stuck.")

    def handle(self, *args, idle_minutes: int, **options) -> None:
        cutoff = timezone.now() - timedelta(minutes=idle_minutes)
        stuck = BulkJob.objects.filter(
            status__in=[BulkJob.Status.QUEUED, BulkJob.Status.RUNNING, BulkJob.Status.FAILED], updated_at__lt=cutoff
        )
        for job in stuck:
            BulkJob.objects.filter(pk=job.pk).update(status=BulkJob.Status.QUEUED, error="", updated_at=timezone.now())
            enqueue_bulk_job(job.pk)
            self.stdout.write(f"Queued bulk job #{job.pk} again ({job.processed:,} SIMs done).")
        if not stuck:
            self.stdout.write("No bulk job is stuck.")

"""Queue again the imports a worker left unfinished (killed, or the machine restarted).

Safe to run any time, with workers running: a batch already committed is never redone.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from imports.importing import enqueue_import
from imports.models import ImportJob


class Command(BaseCommand):
    help = "Re-queue import jobs that stopped making progress (a worker died or failed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--idle-minutes", type=int, default=2, help="No progress for this long counts as stuck.")

    def handle(self, *args, idle_minutes: int, **options) -> None:
        cutoff = timezone.now() - timedelta(minutes=idle_minutes)
        stuck = ImportJob.objects.filter(
            status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING, ImportJob.Status.FAILED], updated_at__lt=cutoff
        )
        for job in stuck:
            ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED, error="", updated_at=timezone.now())
            enqueue_import(job.pk)
            self.stdout.write(f"Queued import #{job.pk} again ({job.processed} of {job.valid} done).")
        if not stuck:
            self.stdout.write("No import is stuck.")

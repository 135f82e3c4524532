"""Run the periodic work once, now (what the task worker does every USAGE_FETCH_MINUTES), or
only make sure the worker has its ticks queued (./run does this at start)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from sims.periodic import ensure_ticks_queued, run_periodic_work


class Command(BaseCommand):
    help = "Fetch usage from the carrier and run the periodic rules once; --schedule only queues the worker's ticks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--schedule", action="store_true", help="Queue the current and next tick for the task worker, if not queued."
        )

    def handle(self, *args, schedule: bool, **options) -> None:
        if schedule:
            queued = ensure_ticks_queued()
            self.stdout.write(f"{queued} usage tick(s) queued; the task worker runs one every {settings.USAGE_FETCH_MINUTES} minutes.")
            return
        self.stdout.write(run_periodic_work())

"""Ingest usage CSV files from the command line, as the carrier push does; `-` reads stdin."""

import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sims.usage import IngestReport
from sims.usage_csv import HEADER, UsageFileError
from sims.usage_file import ingest_usage_csv

REJECTIONS_SHOWN = 50


class Command(BaseCommand):
    help = (
        f"Ingest usage records from CSV files with the header {HEADER} (- reads stdin). "
        "Prints a summary line per file, then each rejected row as 'line N: reason'."
    )
    # The checks load every URL and so the webcam decoder (OpenCV): 60 MB an ingestion does not need.
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="A usage CSV, or - for stdin.")

    def handle(self, *args, files: list[str], **options) -> None:
        ingested = rejected = 0
        unreadable = []
        for name in files:
            try:
                report = self._ingest(name)
            except (OSError, UsageFileError) as error:
                unreadable.append(name)
                self.stderr.write(f"{name}: {error}")
                continue
            self._print(name, report)
            ingested += report.ingested + report.duplicates
            rejected += report.rejected_count
        if unreadable:
            raise CommandError(f"Could not read {', '.join(unreadable)}: nothing in {'them' if len(unreadable) > 1 else 'it'} was ingested.")
        # Records ingested before (a re-run) are not a failure; a file of nothing but bad rows is.
        if rejected and not ingested:
            raise CommandError("Nothing could be ingested: every record was rejected.")

    def _ingest(self, name: str) -> IngestReport:
        if name == "-":
            return ingest_usage_csv(sys.stdin.buffer)
        try:
            with open(name, "rb") as stream:
                return ingest_usage_csv(stream)
        except OSError as error:
            raise UsageFileError(f"cannot read it ({error.strerror}).") from None

    def _print(self, name: str, report: IngestReport) -> None:
        self.stdout.write(f"{name}: {report.summary()}")
        for rejection in report.rejected[:REJECTIONS_SHOWN]:
            self.stdout.write(f"line {rejection.line}: {rejection.reason}")
        hidden = report.rejected_count - min(len(report.rejected), REJECTIONS_SHOWN)
        if hidden > 0:
            self.stdout.write(f"and {hidden:,} more rejected rows.")

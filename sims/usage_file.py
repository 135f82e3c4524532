"""Ingesting a usage CSV file: on PostgreSQL the file goes to the database as it is (usage_csv_sql),
elsewhere its rows are read in Python (usage_csv) and ingested like any others."""

from datetime import datetime
from typing import BinaryIO

from django.db import connection
from django.utils import timezone

from sims import usage as usage_module
from sims.usage import IngestReport, ingest_usage
from sims.usage_csv import UsageCsv
from sims.usage_csv_sql import ingest_csv_in_sql


def ingest_usage_csv(stream: BinaryIO, *, now: datetime | None = None) -> IngestReport:
    """Ingest a usage CSV; the report's rejections, unreadable rows included, are in line order.

    Raises UsageFileError, before anything is ingested, when the file as a whole cannot be read.
    """
    usage = UsageCsv(stream)
    if connection.vendor == "postgresql":
        report = ingest_csv_in_sql(usage, now=now or timezone.now())
    else:
        report = ingest_usage(usage.rows(), now=now)
    report.received += usage.rejected_count
    report.rejected_count += usage.rejected_count
    listed = sorted(report.rejected + usage.rejected, key=lambda rejection: rejection.line)
    report.rejected = listed[: usage_module.MAX_LISTED_REJECTIONS]
    return report

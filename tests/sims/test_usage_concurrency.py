"""Two deliveries of overlapping records ingested at once count every record exactly once."""

import io
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Sum

from sims.models import ProductDailyUsage, Sim, SimDailyUsage, SimPeriodUsage, State, UsageRecord
from sims.usage import UsageRow, ingest_usage
from sims.usage_file import ingest_usage_csv
from tests.conftest import make_iccid
from tests.sims.test_usage import NOW

pytestmark = pytest.mark.django_db(transaction=True)


def _deliver(rows: list[UsageRow], reports: list, errors: list) -> None:
    try:
        reports.append(ingest_usage(rows, now=NOW))
    except Exception as error:  # surfaced by the test below
        errors.append(error)
    finally:
        connection.close()


def test_overlapping_deliveries_at_once_count_each_record_once(product, monkeypatch):
    monkeypatch.setattr("sims.usage.CHUNK_SIZE", 40)  # many small transactions interleave
    sims = Sim.objects.bulk_create(
        [Sim(iccid=make_iccid(), product=product, state=State.ACTIVE, data_limit_mb=1000) for _ in range(30)]
    )
    at = NOW - timedelta(hours=3)
    rows = [
        UsageRow(f"r-{sim.iccid}-{hour}", sim.iccid, at + timedelta(minutes=hour), at + timedelta(minutes=hour + 1), 100, 900, 0, "DE")
        for sim in sims
        for hour in range(10)
    ]
    reports: list = []
    errors: list = []
    threads = [
        threading.Thread(target=_deliver, args=(rows, reports, errors)),
        threading.Thread(target=_deliver, args=(list(reversed(rows)), reports, errors)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors

    assert sum(report.ingested for report in reports) == len(rows) == UsageRecord.objects.count()
    assert sum(report.duplicates for report in reports) == len(rows)
    total = len(rows) * 1000
    assert SimDailyUsage.objects.aggregate(total=Sum("bytes"))["total"] == total
    assert SimPeriodUsage.objects.aggregate(total=Sum("bytes"))["total"] == total
    assert ProductDailyUsage.objects.aggregate(total=Sum("records"))["total"] == len(rows)


def _deliver_file(data: bytes, reports: list, errors: list) -> None:
    try:
        reports.append(ingest_usage_csv(io.BytesIO(data), now=NOW))
    except Exception as error:  # surfaced by the test below
        errors.append(error)
    finally:
        connection.close()


def test_overlapping_files_at_once_count_each_record_once(product):
    sims = Sim.objects.bulk_create(
        [Sim(iccid=make_iccid(), product=product, state=State.ACTIVE, data_limit_mb=1000) for _ in range(30)]
    )
    at = NOW - timedelta(hours=3)
    lines = [
        f"r-{sim.iccid}-{minute},{sim.iccid},{at + timedelta(minutes=minute):%Y-%m-%dT%H:%M:%SZ},"
        f"{at + timedelta(minutes=minute + 1):%Y-%m-%dT%H:%M:%SZ},100,900,0,DE"
        for sim in sims
        for minute in range(10)
    ]
    header = "record_id,iccid,start,end,bytes_up,bytes_down,sms,country\n"
    files = [header + "\n".join(lines[:200]), header + "\n".join(reversed(lines[100:]))]
    reports: list = []
    errors: list = []
    threads = [threading.Thread(target=_deliver_file, args=(data.encode(), reports, errors)) for data in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors

    assert sum(report.ingested for report in reports) == len(lines) == UsageRecord.objects.count()
    assert sum(report.duplicates for report in reports) == 100
    assert SimPeriodUsage.objects.aggregate(total=Sum("bytes"))["total"] == len(lines) * 1000
    assert ProductDailyUsage.objects.aggregate(total=Sum("records"))["total"] == len(lines)

"""Parsing a usage CSV (sims.usage_csv.UsageCsv): rows per second and memory, no database.

Standalone, not part of the pytest run. Writes a file of N records for S SIMs (default: the
issue's 1,000,000 records for 100,000 SIMs; about 85 MB) to /tmp, then reads it the way
`manage.py ingest_usage` does, without ingesting, and prints wall and CPU time for decoding and
CSV splitting alone and for the whole parse into UsageRows, with the peak memory traced.

    .venv/bin/python bench/usage_csv.py                    # 1M rows, 100k SIMs
    .venv/bin/python bench/usage_csv.py --rows 200000 --sims 1000

Prints the load average: other processes skew the timings (CPU time less than wall time).
"""

import argparse
import csv
import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
os.environ.setdefault("DEBUG", "1")

import django

django.setup()

from sims.iccid import luhn_check_digit
from sims.text import open_text
from sims import usage_fields
from sims.usage_csv import HEADER, UsageCsv


def write_file(path: Path, rows: int, sims: int) -> None:
    iccids = [body + luhn_check_digit(body) for body in (f"8901260{n:011d}" for n in range(1, sims + 1))]
    with path.open("w") as out:
        out.write(HEADER + "\n")
        for n in range(rows):
            minute = n * 1440 // rows
            start = f"2026-11-20T{minute // 60:02d}:{minute % 60:02d}:00Z"
            end = f"2026-11-20T{minute // 60:02d}:{minute % 60:02d}:59Z"
            out.write(f"rec-{n},{iccids[n % sims]},{start},{end},{n % 9000},{n % 70000},{n % 3},DE\n")


def timed(label: str, rows: int, work) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    count = work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<34} {count:>10,} rows  {wall:6.2f} s wall  {cpu:6.2f} s CPU  {rows / cpu:>10,.0f} rows/s of CPU")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sims", type=int, default=100_000)
    options = parser.parse_args()
    path = Path(f"/tmp/usage-bench-{options.rows}-{options.sims}.csv")
    if not path.exists():
        write_file(path, options.rows, options.sims)
    print(f"{path}: {path.stat().st_size / 1e6:.0f} MB, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    def split_only() -> int:
        with path.open("rb") as stream:
            return sum(1 for _ in csv.reader(open_text(stream))) - 1

    def parse() -> int:
        with path.open("rb") as stream:
            usage = UsageCsv(stream)
            count = sum(1 for _ in usage.rows())
        assert not usage.rejected, usage.rejected[:3]
        return count

    timed("decode and split (csv module)", options.rows, split_only)
    timed("parse into UsageRows", options.rows, parse)
    usage_fields._checked_iccids.clear()  # count the cache of checked ICCIDs as it fills
    tracemalloc.start()
    parse()
    print(f"peak memory traced while parsing: {tracemalloc.get_traced_memory()[1] / 1e6:.1f} MB")
    tracemalloc.stop()


if __name__ == "__main__":
    main()

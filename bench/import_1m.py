"""Importing a million-line ICCID file with `manage.py import_sims`, against a raw bulk load.

Standalone, not part of the pytest run. It writes a file of --lines lines to /tmp
(about 97% valid unique ICCIDs, 1% junk text, 1% Luhn-invalid, 1% duplicates, in random
order: the worst case for the ICCID indexes; carriers' files are often in ICCID order),
then, on a database it drops and re-creates for each run:

- run 1: imports the file into an empty product;
- run 2: imports it into a product already holding --lines SIMs, half of them from
  the file (skip with --skip-second).

Each import is a subprocess, so its wall time and peak RSS are its own. The
baseline is a raw load of the same valid ICCIDs into a bare table with a unique
index (PostgreSQL: COPY; SQLite: one executemany in one transaction). After each
import the database is checked: SIMs, import events, charged quantities, no
duplicate ICCIDs, and the job's counts.

    .venv/bin/python bench/import_1m.py                    # SQLite in /tmp
    .venv/bin/python bench/import_1m.py --database-url postgres://postgres@127.0.0.1:5432/bench_import

The PostgreSQL database is dropped and created with psql (trust auth). Target for
run 1: within 4x of the raw load, peak RSS under 300 MB.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite:////tmp/bench_import.sqlite3"
MEDIA_ROOT = Path("/tmp/bench_import_media")  # import jobs keep a copy of their file here
FILE_PREFIX = "8901260"  # the file's ICCIDs (19 digits: prefix, 11-digit serial, check digit)
OTHER_PREFIX = "8949000"  # SIMs pre-loaded for run 2 that are not in the file
USERNAME = "bench"
COUNTRY = "US"
SEED = 7
PRELOAD_CHUNK = 100_000
TARGET_RATIO = 4.0
TARGET_PEAK_MB = 300.0
JUNK_LINES = ["ICCID", "", "   ", "# carrier export, box 12", "n/a", "-----", "SIM card;status", "Order 4711 (pallet 3)"]


@dataclass
class InputFile:
    path: Path
    lines: int
    valid: list[str]  # the unique valid ICCIDs, in the order of their first line
    invalid: int
    duplicates: int
    ignored: int


@dataclass
class Measured:
    seconds: float
    peak_mb: float
    output: str


@dataclass
class Result:
    run: str
    valid: int
    measured: Measured
    raw_seconds: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    checks_ok: bool

    @property
    def ratio(self) -> float:
        return self.measured.seconds / self.raw_seconds


# --- the input file ---------------------------------------------------------


def with_check_digit(body: str) -> str:
    from sims.iccid import luhn_check_digit

    return body + luhn_check_digit(body)


def wrong_check_digit(body: str, rng: random.Random) -> str:
    from sims.iccid import luhn_check_digit

    return body + str((int(luhn_check_digit(body)) + rng.randrange(1, 10)) % 10)


def unique_iccids(prefix: str, count: int, rng: random.Random) -> list[str]:
    return [with_check_digit(f"{prefix}{serial:011d}") for serial in rng.sample(range(10**11), count)]


def write_input(path: Path, lines: int, rng: random.Random) -> InputFile:
    junk = invalid = duplicates = lines // 100
    valid = unique_iccids(FILE_PREFIX, lines - junk - invalid - duplicates, rng)
    tagged = [("valid", iccid) for iccid in valid]
    tagged += [("invalid", wrong_check_digit(f"{FILE_PREFIX}{rng.randrange(10**11):011d}", rng)) for _ in range(invalid)]
    tagged += [("duplicate", iccid) for iccid in rng.choices(valid, k=duplicates)]
    tagged += [("junk", rng.choice(JUNK_LINES)) for _ in range(junk)]
    rng.shuffle(tagged)
    path.write_text("".join(f"{text}\n" for _, text in tagged))
    in_order = list(dict.fromkeys(text for kind, text in tagged if kind in ("valid", "duplicate")))
    return InputFile(path, lines, in_order, invalid, duplicates, junk)


# --- databases --------------------------------------------------------------


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "console.settings"
    os.environ["DEBUG"] = "1"
    os.environ["MEDIA_ROOT"] = str(MEDIA_ROOT)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    if "bench" not in Path(str(connection.settings_dict["NAME"])).name:
        sys.exit("This drops and re-creates the database: give one whose name contains 'bench'.")


def close_connections() -> None:
    """Before a subprocess or a drop: no connection of ours may hold a lock or the database."""
    from django.db import connections

    connections.close_all()


def reset_database() -> None:
    from django.db import connection

    close_connections()
    shutil.rmtree(MEDIA_ROOT, ignore_errors=True)
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)
    else:
        for sql in (f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'):
            subprocess.run([*psql_command(), "-d", "postgres", "-c", sql], check=True, capture_output=True)
    run_manage(["migrate", "--verbosity", "0", "--skip-checks"])


def psql_command() -> list[str]:
    from django.db import connection

    settings = connection.settings_dict
    command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", settings["HOST"] or "127.0.0.1"]
    command += ["-p", str(settings["PORT"] or 5432), "-U", settings["USER"] or "postgres"]
    return command


def run_manage(arguments: list[str]) -> None:
    subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, check=True)


def create_product(slug: str) -> int:
    from django.contrib.auth import get_user_model

    from products.models import Membership, Product

    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    product = Product.objects.create(name=f"Bench {slug}", slug=slug)
    Membership.objects.create(product=product, user=user, role=Membership.Role.ADMIN)
    return product.pk


def database_label() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT current_setting('server_version'), current_setting('autovacuum'), current_setting('shared_buffers')")
            version, autovacuum, shared_buffers = cursor.fetchone()
            # With autovacuum off, run 1's SIM table is never analyzed while it grows.
            return f"PostgreSQL {version} (autovacuum {autovacuum}, shared_buffers {shared_buffers})"
        cursor.execute("SELECT sqlite_version()")
        return f"SQLite {cursor.fetchone()[0]} (WAL)"


# --- the raw baseline ------------------------------------------------------


def raw_load(iccids: list[str], product_id: int) -> float:
    """Seconds to load the ICCIDs into a bare table with a unique index, commit included."""
    from django.db import connection, transaction

    from lib.bulk_insert import db_datetime

    now = datetime.now(UTC)
    rows = [(iccid, product_id, "active", db_datetime(now)) for iccid in iccids]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_raw_sim (iccid text NOT NULL, product_id integer, state text, created_at timestamptz)")
        cursor.execute("CREATE UNIQUE INDEX bench_raw_sim_iccid ON bench_raw_sim (iccid)")
    # The driver's own cursor (psycopg, sqlite3): no Django wrapper in the timed part.
    driver = connection.cursor().cursor if connection.vendor == "postgresql" else connection.connection.cursor()
    started = time.perf_counter()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with driver.copy("COPY bench_raw_sim (iccid, product_id, state, created_at) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            driver.executemany("INSERT INTO bench_raw_sim (iccid, product_id, state, created_at) VALUES (?, ?, ?, ?)", rows)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_raw_sim")
        assert cursor.fetchone()[0] == len(rows)
        cursor.execute("DROP TABLE bench_raw_sim")
        # Leave the database as migrate left it: no WAL backlog, no free pages.
        cursor.execute("CHECKPOINT" if connection.vendor == "postgresql" else "VACUUM")
    close_connections()
    return seconds


# --- run 2's existing fleet -----------------------------------------------


def preload(product_id: int, iccids: list[str]) -> float:
    from django.db import connection, transaction
    from django.utils import timezone

    from lib.bulk_insert import bulk_insert, db_datetime
    from sims.models import Sim, State

    now = db_datetime(timezone.now())
    fields = ["iccid", "product", "state", "state_changed_at", "home_country", "activations_count", "deactivations_count", "created_at"]
    started = time.perf_counter()
    with transaction.atomic():
        for start in range(0, len(iccids), PRELOAD_CHUNK):
            chunk = iccids[start : start + PRELOAD_CHUNK]
            bulk_insert(Sim, fields, [(iccid, product_id, State.ACTIVE.value, now, COUNTRY, 1, 0, now) for iccid in chunk])
    with connection.cursor() as cursor:  # an established database has statistics, as in bench/sim_list.py
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    close_connections()
    return time.perf_counter() - started


# --- the import ---------------------------------------------------------------


# Linux records, at exec, the peak memory of the process a child was forked from: a child of
# this process (which holds the whole file) reported this process's peak, not its own (a bare
# `python -c pass` "used" 217 MB). So a small launcher forks the command, and reports its child's.
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as peak:
    peak.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measure(command: list[str]) -> Measured:
    """Run a command; its wall time and its own peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile() as peak:
        started = time.perf_counter()
        process = subprocess.run([sys.executable, "-c", LAUNCHER, peak.name, *command], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        seconds = time.perf_counter() - started
        out.seek(0)
        output = out.read().decode(errors="replace").strip()
        peak_kib = int(Path(peak.name).read_text() or 0)
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({process.returncode}):\n{output}")
    return Measured(seconds, peak_kib / 1024, output)  # ru_maxrss is in KiB on Linux


def import_command(path: Path, slug: str, profile: Path | None) -> list[str]:
    python = [sys.executable, "-m", "cProfile", "-o", str(profile)] if profile else [sys.executable]
    return [*python, "manage.py", "import_sims", str(path), "--product", slug, "--country", COUNTRY]


def run_import(path: Path, slug: str, profile: Path | None) -> tuple[Measured, tuple, tuple]:
    command = import_command(path, slug, profile)
    print("$", " ".join(command).replace(sys.executable, ".venv/bin/python"), flush=True)
    before = os.getloadavg()
    measured = measure(command)
    print(measured.output)
    return measured, before, os.getloadavg()


# --- checks -------------------------------------------------------------------


def check(product_id: int, expected: dict[str, int]) -> bool:
    """Compare the database with what the import should have done; print every figure."""
    from django.db.models import Count, Sum

    from billing.models import Charge
    from imports.models import ImportJob
    from sims.models import Sim, SimEvent

    job = ImportJob.objects.filter(product_id=product_id).latest("pk")
    found = {
        "SIMs in the product": Sim.objects.filter(product_id=product_id).count(),
        "import events": SimEvent.objects.filter(product_id=product_id, action="import").count(),
        "charged quantity": Charge.objects.filter(product_id=product_id).aggregate(total=Sum("quantity"))["total"] or 0,
        "duplicate ICCIDs": Sim.objects.values("iccid").annotate(n=Count("id")).filter(n__gt=1).count(),
        "job: valid": job.valid,
        "job: invalid": job.invalid,
        "job: duplicates": job.duplicates,
        "job: ignored": job.ignored,
        "job: activated": job.activated,
        "job: already in product": job.already_in_product,
        "job: status done": int(job.status == ImportJob.Status.DONE),
    }
    close_connections()
    print(f"  {'check':<26} {'expected':>12} {'found':>12}")
    for name, value in found.items():
        mark = "ok" if value == expected[name] else "WRONG"
        print(f"  {name:<26} {expected[name]:>12,} {value:>12,}  {mark}")
    return all(found[name] == expected[name] for name in found)


def expected_counts(data: InputFile, *, existing: int, from_file: int) -> dict[str, int]:
    activated = len(data.valid) - from_file
    return {
        "SIMs in the product": existing + activated,
        "import events": activated,
        "charged quantity": activated,
        "duplicate ICCIDs": 0,
        "job: valid": len(data.valid),
        "job: invalid": data.invalid,
        "job: duplicates": data.duplicates,
        "job: ignored": data.ignored,
        "job: activated": activated,
        "job: already in product": from_file,
        "job: status done": 1,
    }


# --- the two runs -------------------------------------------------------------


def run_empty(data: InputFile, profile: Path | None) -> Result:
    print("\n== Run 1: into an empty product ==", flush=True)
    reset_database()
    product_id = create_product("bench-empty")
    raw = raw_load(data.valid, product_id)
    print(f"Raw load of {len(data.valid):,} rows: {raw:.2f} s ({len(data.valid) / raw:,.0f} rows/s)")
    measured, before, after = run_import(data.path, "bench-empty", profile)
    ok = check(product_id, expected_counts(data, existing=0, from_file=0))
    return announce(Result("1: empty product", len(data.valid), measured, raw, before, after, ok))


def run_existing(data: InputFile, raw: float, rng: random.Random) -> Result:
    from_file = data.lines // 2
    others = data.lines - from_file
    print(f"\n== Run 2: into a product holding {data.lines:,} SIMs, {from_file:,} of them in the file ==", flush=True)
    reset_database()
    product_id = create_product("bench-full")
    existing = rng.sample(data.valid, from_file) + unique_iccids(OTHER_PREFIX, others, rng)
    rng.shuffle(existing)
    print(f"Pre-loaded {len(existing):,} SIMs in {preload(product_id, existing):.1f} s (ANALYZE included)")
    measured, before, after = run_import(data.path, "bench-full", None)
    ok = check(product_id, expected_counts(data, existing=len(existing), from_file=from_file))
    return announce(Result(f"2: product with {len(existing):,} SIMs", len(data.valid), measured, raw, before, after, ok))


def announce(result: Result) -> Result:
    """Print a run's row as soon as it is known: a later run may fail."""
    print(TABLE_HEADER, table_row(result), sep="\n")
    return result


TABLE_HEADER = (
    "| run | wall s | valid ICCIDs/s | peak RSS MB | raw load s | import/raw | target (<=4x, <300 MB) | checks | load avg before -> after |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |"
)


def table_row(result: Result) -> str:
    met = result.ratio <= TARGET_RATIO and result.measured.peak_mb < TARGET_PEAK_MB
    load = f"{result.load_before[0]:.2f} -> {result.load_after[0]:.2f}"
    return (
        f"| {result.run} | {result.measured.seconds:.1f} | {result.valid / result.measured.seconds:,.0f} | "
        f"{result.measured.peak_mb:.0f} | {result.raw_seconds:.2f} | {result.ratio:.1f}x | "
        f"{'met' if met else 'MISSED'} | {'ok' if result.checks_ok else 'WRONG'} | {load} |"
    )


def print_table(label: str, data: InputFile, results: list[Result]) -> None:
    print(f"\n{label}: {data.lines:,} lines, {len(data.valid):,} valid unique ICCIDs, "
          f"{data.invalid:,} invalid, {data.duplicates:,} duplicates, {data.ignored:,} junk; {os.cpu_count()} CPUs")
    print(TABLE_HEADER)
    for result in results:
        print(table_row(result))


def code_version() -> str:
    """The commit, and the files changed since: others may be editing the app while this runs."""

    def git(*arguments: str) -> str:
        return subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    changed = git("status", "--short", "--untracked-files=no").replace("\n", ";")
    return f"code: {git('rev-parse', '--short', 'HEAD')}" + (f", uncommitted changes: {changed}" if changed else ", clean")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help=f"default: {DEFAULT_DATABASE_URL}")
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines in the file (default 1,000,000)")
    parser.add_argument("--skip-second", action="store_true", help="skip run 2 (the product with existing SIMs)")
    parser.add_argument("--profile", type=Path, help="run 1's import under cProfile, writing this file (slower)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    setup_django(args.database_url)
    print(code_version())
    rng = random.Random(SEED)
    started = time.perf_counter()
    data = write_input(Path(f"/tmp/bench_import_{args.lines}.txt"), args.lines, rng)
    print(f"Wrote {data.path} ({data.path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")
    results = [run_empty(data, args.profile)]
    if not args.skip_second:
        results.append(run_existing(data, results[0].raw_seconds, rng))
    print_table(database_label(), data, results)
    close_connections()
    if args.profile:
        print(f"\nProfile of run 1: {args.profile} (the import is slower under cProfile: its times above are not figures)")
    if not all(result.checks_ok for result in results):
        sys.exit("Some checks failed: see above.")


if __name__ == "__main__":
    main()

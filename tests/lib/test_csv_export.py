"""lib/csv_export.py: the one way the console writes CSV, with no text cell a spreadsheet would run."""

import csv
import io
from decimal import Decimal
from pathlib import Path

from lib.csv_export import csv_lines

ROOT = Path(__file__).resolve().parents[2]


def test_text_starting_like_a_formula_is_quoted_and_numbers_stay_numbers():
    hostile = ["=1+2", "+1", "-1", "@SUM(A1)", "\t=1+2", "\r=1+2"]
    text = "".join(csv_lines([[*hostile, "plain", Decimal("-1.50"), -3]]))
    assert next(csv.reader(io.StringIO(text, newline=""))) == [*("'" + cell for cell in hostile), "plain", "-1.50", "-3"]


def test_every_csv_the_console_exports_is_written_by_the_one_helper():
    writers = [
        path.relative_to(ROOT).as_posix()
        for folder in ("lib", "console", "products", "sims", "imports", "billing", "webhooks", "api")
        for path in (ROOT / folder).rglob("*.py")
        if "csv.writer(" in path.read_text()
    ]
    assert writers == ["lib/csv_export.py"]

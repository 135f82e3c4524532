"""Every CSV the console exports is written here, so that no text cell runs as a formula.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula, and some skip a
leading tab or carriage return first (OWASP's list of the six). Such a text cell gets a leading `'`,
which spreadsheets show as text. Numbers are passed as numbers (int, Decimal) and written as they
are: a credit's amount of -1.50 must stay a number the spreadsheet can add up.
"""

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal

type Cell = str | int | Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(text: str) -> str:
    """The text, quoted if a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[Cell]]) -> Iterator[str]:
    """Each row as one CSV line: text cells made inert, numbers written as they are."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([str(cell) if isinstance(cell, int | Decimal) else inert(cell) for cell in row])

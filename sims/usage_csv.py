"""Usage records from a CSV file, read as a stream: a file of a million rows is never held in memory.

The header row names the columns (any order, extra ones ignored):
record_id,iccid,start,end,bytes_up,bytes_down,sms,country (country may be left out).
A row that cannot be read becomes a rejection with its line number; the rest go to `ingest_usage`
(`sims.usage_file.ingest_usage_csv` reads a whole file, on either database).
"""

import csv
import io
from _csv import Reader
from collections.abc import Iterator
from operator import itemgetter
from typing import BinaryIO

from sims import usage as usage_module
from sims.text import NotText, open_text
from sims.usage import Rejection, UsageRow
from sims.usage_fields import FIELDS, REQUIRED_FIELDS, FieldError, usage_row

HEADER = ",".join(FIELDS)


class UsageFileError(Exception):
    """The file as a whole cannot be read (not text, empty, a required column missing)."""


class UsageCsv:
    """An open usage CSV whose header has been checked; `rows()` yields its records once."""

    def __init__(self, stream: BinaryIO) -> None:
        try:
            self.text = open_text(stream)
        except NotText:
            raise UsageFileError(f"This file is not text (it holds binary data): export the usage as CSV with the header {HEADER}.") from None
        self._reader = csv.reader(self.text)
        self.rejected: list[Rejection] = []
        self.rejected_count = 0
        self._values = self._read_header()
        # The lines read so far: the header, and any blank lines before it.
        self.header_lines = self._reader.line_num

    def _read_header(self) -> itemgetter:
        try:
            header = next(self._reader, None)
            while header == []:  # blank lines before the header
                header = next(self._reader, None)
        except csv.Error as error:  # a quoted field over csv's field size limit (128 KB)
            raise UsageFileError(f"The first line is not a CSV header row ({error}): it must be {HEADER}.") from None
        if header is None:
            raise UsageFileError(f"The file is empty: a usage CSV starts with the header row {HEADER}.")
        names = [name.strip().lower() for name in header]
        missing = [name for name in REQUIRED_FIELDS if name not in names]
        if missing:
            raise UsageFileError(
                f"The header row has no {', '.join(missing)} column{'s' if len(missing) > 1 else ''}: "
                f"it must name {HEADER} (in any order; country may be left out)."
            )
        twice = sorted({name for name in names if name in FIELDS and names.count(name) > 1})
        if twice:
            raise UsageFileError(f"The header row names {', '.join(twice)} more than once: keep one column of each.")
        self.width = len(header)
        # Each field's column; "country" is missing when the file has none.
        self.columns = {name: names.index(name) for name in FIELDS if name in names}
        self._has_country = "country" in names
        return itemgetter(*self.columns.values())

    def rows(self) -> Iterator[UsageRow]:
        """Each readable row as a UsageRow; each unreadable one joins `rejected`."""
        return self._rows(self._reader, 0)

    def rows_of(self, text: str, *, first_line: int) -> Iterator[UsageRow]:
        """The rows of a piece of this file that begins on line `first_line`, read as `rows()` reads them."""
        return self._rows(csv.reader(io.StringIO(text)), first_line - 1)

    def _rows(self, reader: Reader, lines_before: int) -> Iterator[UsageRow]:
        values, width, has_country = self._values, self.width, self._has_country
        line = reader.line_num + lines_before
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                line = reader.line_num + lines_before
                self._reject(line, f"This line is not valid CSV ({error}); check its quotes.")
                continue
            first_line, line = line + 1, reader.line_num + lines_before
            if len(fields) != width:
                if any(field.strip() for field in fields):
                    self._reject(
                        first_line,
                        f"This row has {len(fields)} fields where the header has {width}: "
                        "check for a missing or extra comma, and quote fields that contain one.",
                    )
                continue  # a blank line is not a record
            picked = values(fields)
            try:
                yield usage_row(picked if has_country else (*picked, ""), line=first_line)
            except FieldError as error:
                if any(field.strip() for field in fields):  # a row of empty cells is not a record either
                    self._reject(first_line, str(error), record_id=picked[0].strip())

    def _reject(self, line: int, reason: str, *, record_id: str = "") -> None:
        self.rejected_count += 1
        if len(self.rejected) < usage_module.MAX_LISTED_REJECTIONS:
            self.rejected.append(Rejection(line, usage_module.listed_id(record_id), reason))

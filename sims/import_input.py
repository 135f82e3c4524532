"""Reading ICCIDs from what people give us: typed, pasted, or a .txt file with one per line.

Every line gets a verdict (valid, invalid with the reason, a duplicate, or
ignored because it holds no ICCID), so a bad line is reported, never lost.
"""

import codecs
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, NamedTuple, TextIO

from sims.iccid import InvalidIccid, luhn_is_valid, validate_iccid

# A run of digits, single spaces or dashes allowed inside (8901 2600 0000 ... as printed on cards).
_DIGIT_RUN = re.compile(r"\d(?:[ \-]?\d)*")
_LINE = re.compile(r"([^\r\n]*)(?:\r\n|\r|\n)|([^\r\n]+)\Z")
# Between ICCIDs in pasted text: new lines, commas, semicolons, tabs, pipes.
_STRONG_SEPARATORS = re.compile(r"[\r\n,;\t|]+")
_SPACES_DASHES = re.compile(r"[ \-]")
_BLOCK = 1 << 20  # characters of the file split at a time

VALID, INVALID, DUPLICATE, IGNORED = "valid", "invalid", "duplicate", "ignored"
INVALID_SHOWN = 200
SNIFF_BYTES = 65536


class ImportInputError(Exception):
    """The input as a whole cannot be read (not text, empty, too big)."""


class NotText(ImportInputError):
    """Binary data where text was expected."""


class LineVerdict(NamedTuple):
    line_no: int
    text: str
    iccid: str | None
    verdict: str
    reason: str = ""


@dataclass
class ParsedInput:
    iccids: list[str] = field(default_factory=list)
    lines: int = 0
    invalid: int = 0
    duplicates: int = 0
    ignored: int = 0
    invalid_examples: list[LineVerdict] = field(default_factory=list)

    def add(self, verdict: LineVerdict) -> None:
        self.lines += 1
        if verdict.verdict == VALID:
            assert verdict.iccid is not None  # a valid line has its ICCID
            self.iccids.append(verdict.iccid)
        elif verdict.verdict == INVALID:
            self.invalid += 1
            if len(self.invalid_examples) < INVALID_SHOWN:
                self.invalid_examples.append(verdict)
        elif verdict.verdict == DUPLICATE:
            self.duplicates += 1
        else:
            self.ignored += 1


def decode_text(data: bytes) -> str:
    """Bytes of an uploaded file as text: UTF-8 or UTF-16 (with or without a byte-order mark)."""
    encoding = sniff_encoding(data)
    if encoding is None:
        raise ImportInputError("This file is not text (it holds binary data). Export the ICCIDs as a .txt file, one per line.")
    if encoding == "utf-8-sig":
        return _decode(data[len(codecs.BOM_UTF8) :], "utf-8")
    if encoding != "utf-8":
        return _decode(data, encoding)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Spreadsheet exports in Windows-1252 still carry plain ASCII digits.
        return data.decode("cp1252", errors="replace")


def sniff_encoding(head: bytes) -> str | None:
    """The encoding of a file that starts with `head` (None: binary, not text). "utf-8" means
    UTF-8 with a Windows-1252 fallback for bytes that are not UTF-8."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _looks_like_utf16(head):
        return "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
    if b"\x00" in head[:SNIFF_BYTES]:
        return None
    return "utf-8"


def open_text(stream: BinaryIO) -> TextIO:
    """A binary stream as text, decoded as `decode_text` would, without reading it all into memory.

    Raises NotText for binary data. A byte the encoding cannot decode becomes a replacement
    character (UTF-16) or its Windows-1252 character (UTF-8), so a bad line is reported as a bad
    line instead of failing the whole file halfway through.
    """
    head = stream.read(SNIFF_BYTES)
    encoding = sniff_encoding(head)
    if encoding is None:
        raise NotText("This file is not text (it holds binary data).")
    errors = CP1252_FALLBACK if encoding in ("utf-8", "utf-8-sig") else "replace"
    replayed = io.BufferedReader(_Replay(head, stream), buffer_size=1 << 20)
    return io.TextIOWrapper(replayed, encoding=encoding, errors=errors, newline="")


class _Replay(io.RawIOBase):
    """The bytes already read to sniff the encoding, then the rest of the stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("cp1252", errors="replace"), error.end


CP1252_FALLBACK = "sims.cp1252-fallback"
codecs.register_error(CP1252_FALLBACK, _cp1252_fallback)


def _looks_like_utf16(data: bytes) -> bool:
    sample = data[:4096]
    return len(sample) >= 4 and (sample[1::2].count(0) > len(sample) * 0.4 or sample[0::2].count(0) > len(sample) * 0.4)


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise ImportInputError(f"This file is not valid {encoding.upper()} text ({error.reason}). Save it as UTF-8 text.") from error


def candidates_in(text: str) -> list[str]:
    """ICCID-like numbers in a piece of text, spaces and dashes removed (10+ digits: shorter ones are other data)."""
    found = []
    for run in _DIGIT_RUN.findall(text):
        digits = _SPACES_DASHES.sub("", run)
        if len(digits) in (19, 20) or len(digits) >= 10 and " " not in run:
            found.append(digits)
        elif len(digits) >= 10:
            # "8901... 8901..." on one pasted line: two numbers separated by a space.
            found.extend(piece for piece in (_SPACES_DASHES.sub("", p) for p in run.split(" ")) if len(piece) >= 10)
    return found


def file_line_verdicts(text: str, seen: set[str] | None = None) -> Iterator[LineVerdict]:
    """One verdict per line of a file: its first ICCID-like number counts, anything else is ignored."""
    seen = set() if seen is None else seen
    for line_no, line in enumerate(_lines(text), start=1):
        yield _line_verdict(line_no, line, seen)


def summarise_file(text: str, seen: set[str] | None = None, parsed: ParsedInput | None = None) -> ParsedInput:
    """`summarise(file_line_verdicts(text, seen), parsed)` at twice the speed: a line that is just a
    valid ICCID (most lines of a carrier's file) is counted in place, without a verdict of its own."""
    seen = set() if seen is None else seen
    parsed = ParsedInput() if parsed is None else parsed
    for line_no, line in enumerate(_lines(text), start=1):
        # validate_iccid's own first test: such a line is the ICCID, as it is.
        if len(line) in (19, 20) and line.isascii() and line.isdigit() and line.startswith("89") and luhn_is_valid(line):
            parsed.lines += 1
            if line in seen:
                parsed.duplicates += 1
            else:
                seen.add(line)
                parsed.iccids.append(line)
        else:
            parsed.add(_line_verdict(line_no, line, seen))
    return parsed


def _line_verdict(line_no: int, line: str, seen: set[str]) -> LineVerdict:
    bare = line.strip()
    if bare.isdigit():  # most lines: just the ICCID
        return _verdict(line_no, line, bare, seen)
    candidates = candidates_in(line)
    if not candidates:
        return LineVerdict(line_no, line, None, IGNORED)
    return _verdict(line_no, line, candidates[0], seen)


def _lines(text: str) -> Iterator[str]:
    """Lines ended by CR, LF or CRLF, one at a time: never a list of a million lines in memory
    (nor a copy of the text, which io.StringIO would make). A block of whole lines at a time
    without a CR is split on LF in C: three times faster than the regular expression."""
    start = 0
    while start < len(text):
        end = text.find("\n", start + _BLOCK)
        end = len(text) if end == -1 else end + 1
        block = text[start:end]
        start = end
        if "\r" in block:
            for match in _LINE.finditer(block):
                yield match.group(1) if match.group(1) is not None else match.group(2)
            continue
        lines = block.split("\n")
        if block.endswith("\n"):
            lines.pop()  # the empty string after the last line end
        yield from lines


def pasted_verdicts(text: str, seen: set[str] | None = None) -> Iterator[LineVerdict]:
    """One verdict per ICCID-like number in pasted text, whatever separates them."""
    seen = set() if seen is None else seen
    number = 0
    for chunk in _STRONG_SEPARATORS.split(text):
        candidates = candidates_in(chunk)
        if not candidates and any(char.isdigit() for char in chunk):
            candidates = [chunk.strip()]  # too short to be an ICCID: its verdict says so
        for candidate in candidates:
            number += 1
            yield _verdict(number, candidate, candidate, seen)


def _verdict(line_no: int, line: str, candidate: str, seen: set[str]) -> LineVerdict:
    try:
        iccid = validate_iccid(candidate)
    except InvalidIccid as error:
        return LineVerdict(line_no, line, None, INVALID, error.messages[0])
    if iccid in seen:
        return LineVerdict(line_no, line, iccid, DUPLICATE, "Already earlier in this import.")
    seen.add(iccid)
    return LineVerdict(line_no, line, iccid, VALID)


def summarise(verdicts: Iterator[LineVerdict], parsed: ParsedInput | None = None) -> ParsedInput:
    """The verdicts counted (into `parsed`, if given)."""
    parsed = ParsedInput() if parsed is None else parsed
    for verdict in verdicts:
        parsed.add(verdict)
    return parsed

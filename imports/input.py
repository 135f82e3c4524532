"""Reading ICCIDs from what people give us: typed, pasted, or a .txt file with one per line.

Every line gets a verdict (valid, invalid with the reason, a duplicate, or
ignored because it holds no ICCID), so a bad line is reported, never lost.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from sims.iccid import InvalidIccid, luhn_is_valid, validate_iccid

# Decoding lives in sims.text (the usage CSV reads text too); importers know it by these names.
from sims.text import NotText, decode_text, open_text, sniff_encoding  # noqa: F401  (re-exported)
from sims.text import UnreadableText as ImportInputError

# A run of digits, single spaces or dashes allowed inside (8901 2600 0000 ... as printed on cards).
_DIGIT_RUN = re.compile(r"\d(?:[ \-]?\d)*")
_LINE = re.compile(r"([^\r\n]*)(?:\r\n|\r|\n)|([^\r\n]+)\Z")
# Between ICCIDs in pasted text: new lines, commas, semicolons, tabs, pipes.
_STRONG_SEPARATORS = re.compile(r"[\r\n,;\t|]+")
_SPACES_DASHES = re.compile(r"[ \-]")
_BLOCK = 1 << 20
# "ICCID,CODE" (or a semicolon, a tab, a space between): a registration code of letters and digits
# after the ICCID. A second ICCID (18 digits or more) is no code: it stays an ICCID of its own.
_WITH_CODE = re.compile(r"^\s*(\d(?:[ \-]?\d)*)\s*[,;\t| ]\s*([A-Za-z0-9][A-Za-z0-9\-]{2,39})\s*$")  # characters of the file split at a time

VALID, INVALID, DUPLICATE, IGNORED = "valid", "invalid", "duplicate", "ignored"
INVALID_SHOWN = 200


class LineVerdict(NamedTuple):
    line_no: int
    text: str
    iccid: str | None
    verdict: str
    reason: str = ""
    # The registration code given after the ICCID ("ICCID,CODE"), for carriers that ask for one.
    code: str = ""


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


def code_in(line: str) -> tuple[str, str] | None:
    """(ICCID-like number, code) when the line is "ICCID,CODE"; None otherwise."""
    match = _WITH_CODE.match(line)
    if match is None:
        return None
    number, code = _SPACES_DASHES.sub("", match.group(1)), match.group(2)
    if code.isdigit() and len(code) >= 18 or len(number) < 18:
        return None
    return number, code


def _line_verdict(line_no: int, line: str, seen: set[str]) -> LineVerdict:
    bare = line.strip()
    if bare.isdigit():  # most lines: just the ICCID
        return _verdict(line_no, line, bare, seen)
    with_code = code_in(line)
    if with_code is not None:
        return _verdict(line_no, line, with_code[0], seen)._replace(code=with_code[1])
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
    for chunk in _pasted_chunks(text):
        with_code = code_in(chunk)
        if with_code is not None:
            number += 1
            yield _verdict(number, chunk.strip(), with_code[0], seen)._replace(code=with_code[1])
            continue
        candidates = candidates_in(chunk)
        if not candidates and any(char.isdigit() for char in chunk):
            candidates = [chunk.strip()]  # too short to be an ICCID: its verdict says so
        for candidate in candidates:
            number += 1
            yield _verdict(number, candidate, candidate, seen)


def _pasted_chunks(text: str) -> Iterator[str]:
    """Pasted text cut at its strong separators, but a line that is "ICCID,CODE" kept whole."""
    for line in _LINE_ENDS.split(text):
        if code_in(line) is not None:
            yield line
        else:
            yield from _STRONG_SEPARATORS.split(line)


_LINE_ENDS = re.compile(r"\r\n|\r|\n")


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

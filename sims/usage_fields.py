"""A usage record's fields from what a sender wrote, shared by the CSV file and the carrier push.

Parsing only turns text (or JSON values) into a `UsageRow` and says which field could not be
read. Whether a readable record is acceptable (negative counts, a time in the future, an
unknown ICCID, a record id seen before) is `sims.usage`'s business, for every source alike.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from sims.iccid import InvalidIccid, validate_iccid
from sims.usage import UsageRow

# The order `usage_row` takes them in; `country` may be absent.
FIELDS = ("record_id", "iccid", "start", "end", "bytes_up", "bytes_down", "sms", "country")
REQUIRED_FIELDS = FIELDS[:-1]
COUNT_FIELDS = ("bytes_up", "bytes_down", "sms")
# Before this, a time is a typo in the year (0226 for 2026), not a usage record.
EARLIEST_YEAR = 2000


class FieldError(ValueError):
    """One field of a record cannot be read; the message says what was wrong and what to write."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def usage_row(values: Sequence, *, line: int) -> UsageRow:
    """A record from its values in FIELDS order: text from a file, or JSON strings and integers.

    Raises FieldError naming the first field that cannot be read.
    """
    record_id, iccid, start, end, bytes_up, bytes_down, sms, country = values
    # The common case in as few calls as possible: every row of a million-row file comes here;
    # anything unusual goes through the field parsers, which also say what is wrong.
    started_at: datetime | None
    ended_at: datetime | None
    try:
        started_at, ended_at = _fromisoformat(start), _fromisoformat(end)
        counts = (int(bytes_up), int(bytes_down), int(sms))
    except (ValueError, TypeError):
        started_at = ended_at = None
    if started_at is None or ended_at is None or not (_in_utc(started_at) and _in_utc(ended_at)):
        started_at, ended_at = parse_time("start", start), parse_time("end", end)
        counts = (parse_count("bytes_up", bytes_up), parse_count("bytes_down", bytes_down), parse_count("sms", sms))
    else:
        if started_at.tzinfo is None:
            started_at = started_at.replace(tzinfo=UTC)
        if ended_at.tzinfo is None:
            ended_at = ended_at.replace(tzinfo=UTC)
    stripped_id = record_id.strip()
    if not stripped_id.isprintable():
        parse_record_id(record_id)  # says what is wrong
    try:
        iccid = _valid_iccid(iccid)
    except InvalidIccid as error:
        raise FieldError("iccid", error.messages[0]) from None
    return UsageRow(
        stripped_id,
        iccid,
        started_at,
        ended_at,
        *counts,
        country.strip().upper() if country else "",
        line,
    )


def parse_record_id(text: str) -> str:
    record_id = text.strip()
    # PostgreSQL cannot store a NUL, and a tab or line break in an id is a broken export.
    if not record_id.isprintable():
        raise FieldError("record_id", f"{_shown(record_id)} contains a control character: use letters, digits and punctuation.")
    return record_id


def parse_iccid(text: str) -> str:
    try:
        return _valid_iccid(text)
    except InvalidIccid as error:
        raise FieldError("iccid", error.messages[0]) from None


_fromisoformat = datetime.fromisoformat


def _in_utc(moment: datetime) -> bool:
    """UTC (or naive, which means UTC) and in a plausible year: nothing more to check."""
    return (moment.tzinfo is UTC or moment.tzinfo is None) and moment.year >= EARLIEST_YEAR


# A SIM sends many records: its ICCID is checked once, then found here. A plain dict emptied
# when full (about 15 MB then) rather than an LRU cache: cheaper to look up, and a file that
# cycles through more SIMs than an LRU holds would miss every time.
_checked_iccids: dict[str, str] = {}
CHECKED_ICCIDS_MAX = 131_072


def _valid_iccid(text: str) -> str:
    iccid = _checked_iccids.get(text)
    if iccid is None:
        iccid = validate_iccid(text.strip())
        if len(_checked_iccids) >= CHECKED_ICCIDS_MAX:
            _checked_iccids.clear()
        _checked_iccids[text] = iccid
    return iccid


def parse_time(field: str, text: str) -> datetime:
    """ISO 8601, with an offset or Z; a time without one is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            raise FieldError(
                field,
                f"{_shown(text)} is not an ISO 8601 time: write it as 2026-11-20T14:05:00Z "
                "(or with an offset, +01:00; without one it is taken as UTC).",
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    elif moment.tzinfo is not UTC:
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+01:00 has no UTC time
            raise FieldError(field, f"{_shown(text)} is outside the calendar once moved to UTC.") from None
    if moment.year < EARLIEST_YEAR:
        raise FieldError(field, f"{_shown(text)} is before {EARLIEST_YEAR}: check the year.")
    return moment


def parse_count(field: str, value: str | int) -> int:
    """A count as digits (a file) or an integer (JSON). A negative one is read here and refused later."""
    if type(value) is int:
        return value
    try:
        return int(value)
    except ValueError:
        raise FieldError(field, f"{_shown(str(value))} is not a whole number: write the count in digits, such as 1024.") from None


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "...")

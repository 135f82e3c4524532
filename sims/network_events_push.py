"""Network events from the carrier's push: a JSON body {"events": [{...}, ...]}.

Each event: `event_id`, `iccid`, `kind` (attach, detach, session_start, session_end, location,
auth_reject) and `at` (ISO 8601; UTC without an offset) are required strings; `imei`, `operator`,
`country`, `rat`, `cell`, `cause` optional strings (or null); `bytes` an optional integer (a session's
data, on session_end). As with usage, a push is read whole first: if any event cannot be read,
nothing is ingested; events that can be read but are not acceptable (an unknown ICCID or kind, a
time in the future, a malformed IMEI) are rejected one by one by `ingest_network_events`.
"""

from sims.network_events import NetworkEventRow
from sims.usage_fields import FieldError, parse_iccid, parse_time
from sims.usage_push import PROBLEMS_SHOWN, PushError, _type_name

REQUIRED = ("event_id", "iccid", "kind", "at")
OPTIONAL = ("imei", "operator", "country", "rat", "cell", "cause")


def rows_from_events_push(payload: object) -> list[NetworkEventRow]:
    """Every event of a decoded push body as a NetworkEventRow (its `line` is its index + 1), or PushError."""
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        raise PushError('The body must be a JSON object with an "events" array: {"events": [{"event_id": ..., ...}]}.')
    rows: list[NetworkEventRow] = []
    problems: list[dict] = []
    wrong = 0
    for index, event in enumerate(events):
        try:
            rows.append(_row(event, line=index + 1))
        except FieldError as error:
            wrong += 1
            if len(problems) < PROBLEMS_SHOWN:
                problems.append({"index": index, "field": error.field, "error": error.message})
    if wrong:
        raise PushError(
            f"{wrong:,} of {len(events):,} events cannot be read, so none was ingested: fix them and push the whole batch again.",
            problems,
            wrong,
        )
    return rows


def _row(event: object, *, line: int) -> NetworkEventRow:
    if not isinstance(event, dict):
        raise FieldError("event", f"must be a JSON object with the fields {', '.join(REQUIRED + OPTIONAL)}, bytes, not {_type_name(event)}.")
    for name in REQUIRED:
        if name not in event:
            raise FieldError(name, "is missing: every event needs " + ", ".join(REQUIRED) + " (the others are optional).")
        if type(event[name]) is not str:
            raise FieldError(name, f"must be a string, not {_type_name(event[name])}.")
    optional = {}
    for name in OPTIONAL:
        value = event.get(name)
        if value is not None and type(value) is not str:
            raise FieldError(name, f"must be a string (or null), not {_type_name(value)}.")
        optional[name] = (value or "").strip()
    size = event.get("bytes")
    if size is not None and type(size) is not int:
        raise FieldError("bytes", f"must be an integer (or null), not {_type_name(size)}.")
    return NetworkEventRow(
        event["event_id"].strip(),
        parse_iccid(event["iccid"]),
        event["kind"].strip(),
        parse_time("at", event["at"]),
        bytes=size or 0,
        line=line,
        **optional,
    )

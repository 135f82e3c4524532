"""Usage records from the carrier's push: a JSON body {"records": [{...}, ...]}.

The fields are the CSV's (`sims.usage_fields`), as JSON strings and integers. A push is read
whole before anything is ingested: if any record cannot be read, nothing is, so the sender can
fix its records and push the same batch again. Records that can be read but are not acceptable
(an unknown ICCID, a time in the future, ...) are rejected one by one by `ingest_usage`.
"""

from sims.usage import UsageRow
from sims.usage_fields import FIELDS, FieldError, usage_row

# The JSON type of each field; country may be missing, null or "".
JSON_TYPES: dict[str, type] = {
    "record_id": str, "iccid": str, "start": str, "end": str, "bytes_up": int, "bytes_down": int, "sms": int,
}  # fmt: skip
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "an array", dict: "an object"}
PROBLEMS_SHOWN = 50


class PushError(Exception):
    """The push cannot be read; `problems` lists the first records and fields that are wrong, of `problem_count`."""

    def __init__(self, message: str, problems: list[dict] | None = None, problem_count: int = 0) -> None:
        super().__init__(message)
        self.problems = problems or []
        self.problem_count = problem_count


def rows_from_push(payload: object) -> list[UsageRow]:
    """Every record of a decoded push body as a UsageRow (its `line` is its index + 1), or PushError."""
    records = payload.get("records") if isinstance(payload, dict) else None
    if not isinstance(records, list):
        raise PushError('The body must be a JSON object with a "records" array: {"records": [{"record_id": ..., ...}]}.')
    rows: list[UsageRow] = []
    problems: list[dict] = []
    wrong = 0
    for index, record in enumerate(records):
        try:
            rows.append(usage_row(_values(record), line=index + 1))
        except FieldError as error:
            wrong += 1
            if len(problems) < PROBLEMS_SHOWN:  # a body of a million bad records must not make a million dicts
                problems.append({"index": index, "field": error.field, "error": error.message})
    if wrong:
        raise PushError(
            f"{wrong:,} of {len(records):,} records cannot be read, so none was ingested: "
            "fix them and push the whole batch again.",
            problems,
            wrong,
        )
    return rows


def _values(record: object) -> tuple:
    if not isinstance(record, dict):
        raise FieldError("record", f"must be a JSON object with the fields {', '.join(FIELDS)}, not {_type_name(record)}.")
    for field, kind in JSON_TYPES.items():
        if field not in record:
            raise FieldError(field, "is missing: every record needs " + ", ".join(JSON_TYPES) + " (country is optional).")
        value = record[field]
        if type(value) is not kind:
            raise FieldError(field, f"must be {_TYPE_NAMES[kind]}, not {_type_name(value)}.")
    country = record.get("country")
    if country is not None and type(country) is not str:
        raise FieldError("country", f"must be a string of two letters (or null), not {_type_name(country)}.")
    return tuple(record[field] for field in JSON_TYPES) + (country or "",)


def _type_name(value: object) -> str:
    return "null" if value is None else _TYPE_NAMES.get(type(value), type(value).__name__)

"""The window a firing belongs to: a rule fires once per SIM per window (RuleFiring's unique key).

A condition about a day's usage is keyed by that day (late records for yesterday do not fire again
today); the others by the moment of the pass. A window of hours is a fixed slot since the epoch."""

from datetime import date, datetime

from lib.calendar import billing_period_start
from rules.kinds import WindowKind


def window_key(*, kind: str, hours: int | None, day: date, now: datetime) -> str:
    if kind == WindowKind.PERIOD:
        return f"p{day.replace(day=1).isoformat()}"
    if kind == WindowKind.HOURS:
        slot = int(now.timestamp()) // ((hours or 24) * 3600)
        return f"h{hours}:{slot}"
    return f"d{day.isoformat()}"


def period_of(day: date) -> date:
    return billing_period_start(datetime(day.year, day.month, day.day))

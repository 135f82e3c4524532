"""Calendar arithmetic shared by promotions, triggers and billing periods (all in UTC)."""

from datetime import date, datetime


def months_later(day: date, months: int) -> date:
    """The same day `months` later (or earlier, when negative); the 31st of a shorter month is its last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")


def billing_period_start(moment: datetime) -> date:
    """Billing periods are calendar months in UTC."""
    return moment.date().replace(day=1)

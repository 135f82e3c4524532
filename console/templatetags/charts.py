"""The usage charts of the console, as template tags: one drawing (lib/charts.py), several sizes."""

from collections.abc import Sequence
from datetime import date

from django import template

from lib.charts import DayUsage, daily_bars, usage_against_limit
from lib.units import MB, human_bytes, human_megabytes

register = template.Library()


@register.inclusion_tag("console/partials/daily_bars.html")
def sparkline(days: Sequence[DayUsage], what: str = "Daily data usage") -> dict:
    """A small chart of a month's days, for a header."""
    return {"chart": daily_bars(days, width=360, height=48, what=what), "css_class": "sparkline", "with_scale": True}


@register.inclusion_tag("console/partials/daily_bars.html")
def count_sparkline(per_day: Sequence[tuple[date, int]], what: str = "Firings per day", one: str = "firing", many: str = "firings") -> dict:
    """The same small chart for a count per day (a rule's backtest: its firings each day)."""
    days = [DayUsage(day, n) for day, n in per_day]
    chart = daily_bars(days, width=360, height=48, what=what, amount=lambda n: f"{n:,} {one if n == 1 else many}", nothing=f"no {many}")
    return {"chart": chart, "css_class": "sparkline", "with_scale": True}


@register.inclusion_tag("console/partials/daily_bars.html")
def daily_chart(days: Sequence[DayUsage], what: str = "Daily data usage", highlight_from: date | None = None) -> dict:
    """A wider chart with its scale, for a page of its own; days before `highlight_from` are drawn paler."""
    chart = daily_bars(days, width=720, height=120, what=what, highlight_from=highlight_from)
    return {"chart": chart, "css_class": "daily-chart", "with_scale": True}


@register.inclusion_tag("console/partials/usage_bar.html")
def usage_bar(used: int, limit_mb: int) -> dict:
    """Bytes used against a limit in MB: a bar and its numbers, in the same units ("3.2 MB of 5 MB", "1.36 GB of 5 GB")."""
    return {"bar": usage_against_limit(used, limit_mb * MB), "limit_mb": limit_mb}


@register.inclusion_tag("console/partials/usage_cell.html")
def usage_cell(used: int, limit_mb: int) -> dict:
    """The same bar, small, for a row of a table: the amount above it, red at or over the limit."""
    return {"bar": usage_against_limit(used, limit_mb * MB), "limit_mb": limit_mb}


@register.filter
def data_amount(amount: int | float | None) -> str:
    """Bytes as people read them: 740 B, 5.2 KB, 12.4 MB, 3.10 GB (decimal units, as carriers bill)."""
    return human_bytes(amount or 0)


@register.filter
def factor(value: float) -> str:
    """How many times the usual: ×3.4 under ten, ×67 or ×1,200 above."""
    return f"×{value:.1f}" if value < 10 else f"×{value:,.0f}"


@register.filter
def data_limit(megabytes: int | None) -> str:
    """A data limit set in MB, in the units usage reads in: 500 MB, 5 GB, 1.5 GB."""
    return human_megabytes(megabytes) if megabytes is not None else ""

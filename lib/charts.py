"""Daily usage charts drawn on the server as inline SVG: the fleet sparkline and a SIM's daily chart.

One drawing for both (console/templatetags/charts.py picks the size): a bar per day, each
with an SVG <title> for its tooltip, so it works without JavaScript; days still to come are
outlined, not drawn. The SVG is an image to assistive technology, with a label that says
what a sighted reader takes from it.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from lib.units import human_bytes


@dataclass(frozen=True)
class DayUsage:
    day: date
    # None: a day still to come.
    bytes: int | None


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    y: float
    height: float
    # "future", "zero", "earlier" (before the highlighted period) or "" (an ordinary day with usage).
    kind: str
    title: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    label: str
    peak: int
    first_day: date | None
    last_day: date | None
    # The busiest day's amount in words, for the scale: "12.4 MB", "7 firings".
    peak_text: str = ""

    def bars_svg(self) -> SafeString:
        """The bars as SVG elements: built here, not in a template loop, which costs ~10x as much per bar."""
        parts = []
        for bar in self.bars:
            kind = f" {bar.kind}" if bar.kind else ""
            hit = f'<rect class="hit" x="{bar.x}" y="0" width="{bar.width}" height="{self.height}"/>'
            if bar.kind == "future":
                shape = f'<rect class="slot" x="{bar.x}" y="0" width="{bar.width}" height="{self.height}"/>'
            else:
                shape = f'<rect class="bar" x="{bar.x}" y="{bar.y}" width="{bar.width}" height="{bar.height}"/>'
            parts.append(f'<g class="day{kind}"><title>{escape(bar.title)}</title>{hit}{shape}</g>')
        return mark_safe("\n".join(parts))  # noqa: S308 - numbers, and titles escaped above


# A day with any usage is at least this tall, so a small day next to a huge one still shows.
MIN_BAR = 1.5
ZERO_BAR = 0.6


def daily_bars(
    days: Sequence[DayUsage],
    *,
    width: int,
    height: int,
    what: str,
    highlight_from: date | None = None,
    amount: Callable[[int], str] = human_bytes,
    nothing: str = "no usage",
) -> Chart:
    """Bars for `days` (oldest first) in a `width` x `height` box; `what` names the series for the label.
    Amounts are bytes unless `amount` words them otherwise (a count of firings); `nothing` is a day of none."""
    known = [d for d in days if d.bytes is not None]
    peak = max((d.bytes or 0 for d in known), default=0)
    slot = width / max(len(days), 1)
    gap = min(2.0, slot * 0.2)
    bars = []
    bar_height: float
    for index, day in enumerate(days):
        x = index * slot + gap / 2
        if day.bytes is None:
            kind, bar_height = "future", height
            title = f"{day.day:%a %-d %b}: still to come"
        elif day.bytes == 0:
            kind, bar_height = "zero", ZERO_BAR
            title = f"{day.day:%a %-d %b}: {nothing}"
        else:
            kind = "earlier" if highlight_from and day.day < highlight_from else ""
            bar_height = max(MIN_BAR, day.bytes / peak * height)
            title = f"{day.day:%a %-d %b}: {amount(day.bytes)}"
        bars.append(
            Bar(x=round(x, 2), width=round(slot - gap, 2), y=round(height - bar_height, 2),
                height=round(bar_height, 2), kind=kind, title=title)  # fmt: skip
        )
    return Chart(
        width=width,
        height=height,
        bars=bars,
        label=_label(days, known, peak, what, amount, nothing),
        peak=peak,
        first_day=days[0].day if days else None,
        last_day=days[-1].day if days else None,
        peak_text=amount(peak) if peak else "",
    )


def _label(days: Sequence[DayUsage], known: list[DayUsage], peak: int, what: str, amount: Callable[[int], str], nothing: str) -> str:
    if not days:
        return f"{what}: no days to show."
    span = f"{days[0].day:%-d %b} to {days[-1].day:%-d %b %Y}"
    total = sum(d.bytes or 0 for d in known)
    if not total:
        return f"{what}, {span}: {nothing}."
    busiest = next(d for d in known if d.bytes == peak)
    used_days = sum(1 for d in known if d.bytes)
    return (
        f"{what}, {span}: {amount(total)} in all on {used_days} day{'s' if used_days != 1 else ''}, "
        f"the most {amount(peak)} on {busiest.day:%-d %b}."
    )


@dataclass(frozen=True)
class UsageBar:
    used: int
    limit: int
    # Of the bar's width, 0 to 100.
    filled: float
    over: bool
    percent: int


def usage_against_limit(used: int, limit: int) -> UsageBar:
    """How much of a limit is used; at or over it the bar is full and says so."""
    share = used / limit if limit else 1.0
    return UsageBar(
        used=used, limit=limit, filled=round(min(share, 1.0) * 100, 2), over=used >= limit, percent=int(share * 100)
    )

"""Money and quantities as a bill reads them: $1,234.56, a unit price to the tenth of a cent, 2.5 MB."""

from decimal import ROUND_HALF_UP, Decimal

from django import template

register = template.Library()


@register.filter
def usd(amount: Decimal | None) -> str:
    if amount is None:
        return ""
    amount = Decimal(amount)
    sign = "−" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


@register.filter
def unit_price(amount: Decimal | None) -> str:
    """Two decimals at least, four at most: $2.99, $1.495, $0.0025."""
    if amount is None:
        return ""
    text = f"{abs(Decimal(amount)):,.4f}".rstrip("0")
    whole, _, cents = text.partition(".")
    sign = "−" if amount < 0 else ""
    return f"{sign}${whole}.{cents.ljust(2, '0')}"


# Units counted whole: a bill says "3 SIMs", never "3.0000 SIMs".
WHOLE_UNITS = frozenset({"SIMs", "SMS", "suspensions"})
HUNDREDTH = Decimal("0.01")


@register.filter
def quantity(value: Decimal | None, unit: str = "") -> str:
    """As people read a bill: whole units as integers (3, 1,200 SIMs), anything else (MB, SIM-months)
    with at most two decimals (2.5, 4,371.25), and "under 0.01" rather than a 0 that was charged.
    The invoice keeps the full quantity (its CSV shows it); a reader does not need the fourth decimal."""
    if value is None:
        return ""
    value = Decimal(value)
    places = Decimal(1) if unit in WHOLE_UNITS else HUNDREDTH
    shown = value.quantize(places, rounding=ROUND_HALF_UP)
    if shown == 0 and value != 0:
        return f"under {places}" if value > 0 else f"−under {places}"
    text = f"{shown:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text.replace("-", "−")


@register.filter
def usd_abs(amount: Decimal | None) -> str:
    return usd(abs(Decimal(amount))) if amount is not None else ""


@register.filter
def line_detail(line) -> str:
    """How a line's amount is made: 3 SIMs × $2.99, 120.5 MB × $0.10."""
    if line is None:
        return ""
    unit = f" {line.unit}" if line.unit else ""
    return f"{quantity(line.quantity, line.unit)}{unit} × {unit_price(line.unit_price)}"

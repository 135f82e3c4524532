"""Money and quantities as a bill reads them: $1,234.56, a unit price to the tenth of a cent, 2.5 MB."""

from decimal import Decimal

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


@register.filter
def quantity(value: Decimal | None) -> str:
    """Without trailing zeros: 3, 2.5, 1,200, 0.1234."""
    if value is None:
        return ""
    text = f"{Decimal(value):,.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@register.filter
def usd_abs(amount: Decimal | None) -> str:
    return usd(abs(Decimal(amount))) if amount is not None else ""


@register.filter
def line_detail(line) -> str:
    """How a line's amount is made: 3 SIMs × $2.99, 120.5 MB × $0.10."""
    if line is None:
        return ""
    unit = f" {line.unit}" if line.unit else ""
    amount = Decimal(line.quantity)
    if line.unit == "MB":
        amount = amount.quantize(Decimal("0.01"))  # the invoice keeps the full quantity; a glance does not need it
    return f"{quantity(amount)}{unit} × {unit_price(line.unit_price)}"

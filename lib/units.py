"""Data amounts in decimal units, as carriers bill them: 1 MB = 1,000,000 bytes."""

KB = 1_000
MB = 1_000_000
GB = 1_000_000_000


def human_bytes(amount: int | float) -> str:
    """A short reading of a data amount: 0 B, 740 B, 5.2 KB, 12.4 MB, 3.10 GB."""
    if amount < KB:
        return f"{amount:.0f} B"
    for unit, size in (("GB", GB), ("MB", MB), ("KB", KB)):
        if amount >= size:
            value = amount / size
            return f"{value:,.2f} {unit}" if unit == "GB" else f"{value:,.1f} {unit}"
    raise AssertionError("unreachable")

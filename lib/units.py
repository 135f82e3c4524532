"""Data amounts in decimal units, as carriers bill them: 1 MB = 1,000,000 bytes.

One rule for every amount the console shows, so that the amounts on a card read alike: the largest
unit the amount reaches (B, KB, MB, GB), one decimal under a GB and two from one (human_bytes); a data
limit, which people set in whole MB, in the same units without needless zeros (human_megabytes)."""

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


def human_megabytes(megabytes: int) -> str:
    """A limit set in MB, in human_bytes' units: 500 MB, 1 GB, 1.5 GB, 12.35 GB."""
    if megabytes < 1_000:
        return f"{megabytes:,} MB"
    return f"{megabytes / 1_000:,.2f}".rstrip("0").rstrip(".") + " GB"

"""Data amounts read one way across the console: lib/units, decimal units as carriers bill."""

from lib.units import GB, KB, MB, human_bytes, human_megabytes


def test_amounts_used_read_in_the_largest_unit_they_reach():
    assert [human_bytes(n) for n in (0, 740, 5_200, int(12.4 * MB), int(4_371.2 * MB), int(1.36 * GB))] == [
        "0 B", "740 B", "5.2 KB", "12.4 MB", "4.37 GB", "1.36 GB",
    ]  # fmt: skip
    assert human_bytes(KB) == "1.0 KB"


def test_a_limit_in_mb_reads_in_the_same_units_without_needless_zeros():
    assert [human_megabytes(n) for n in (1, 10, 500, 999, 1_000, 1_500, 5_000, 12_345, 250_000)] == [
        "1 MB", "10 MB", "500 MB", "999 MB", "1 GB", "1.5 GB", "5 GB", "12.35 GB", "250 GB",
    ]  # fmt: skip

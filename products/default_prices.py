"""Sensible default prices for every country, in three zones (after Particle's cellular zones).
Admins edit them in the Django admin; the data migration fills an empty table with these."""

from decimal import Decimal

from django_countries import countries

ZONES = [
    ("Z1", "Zone 1: North America, Western Europe, Oceania", "2.99", 1, "0.99"),
    ("Z2", "Zone 2: Eastern Europe, Latin America, Asia", "3.99", 1, "1.59"),
    ("Z3", "Zone 3: rest of the world", "5.99", 1, "3.99"),
]
ZONE_1 = "US CA GB IE FR DE NL BE LU AT CH LI DK SE NO FI IS ES PT IT MC SM AD AU NZ PR".split()
ZONE_2 = (
    "PL CZ SK HU SI HR RO BG GR CY MT EE LV LT RS BA ME MK AL MD UA TR IL "
    "MX BR AR CL CO PE UY PY EC BO CR PA GT "
    "JP KR SG HK MO TW MY TH ID PH VN IN ZA AE SA QA KW BH OM"
).split()


def fill_default_prices(RateZone, ZoneCountry) -> None:
    """Takes the model classes, so the migration can pass its historical ones."""
    if RateZone.objects.exists():
        return
    zones = {
        code: RateZone.objects.create(
            code=code, name=name, plan_monthly_price=Decimal(price), plan_included_mb=mb, overage_per_mb=Decimal(over)
        )
        for code, name, price, mb, over in ZONES
    }
    ZoneCountry.objects.bulk_create(
        ZoneCountry(country=code, zone=zones["Z1" if code in ZONE_1 else "Z2" if code in ZONE_2 else "Z3"])
        for code, _ in countries
    )

"""Sensible default prices for every country, in three zones (after Particle's cellular zones,
with emnify-like pay-as-you-go and pooled prices). Admins edit them in the Django admin; the data
migrations fill an empty table with these."""

from datetime import UTC, datetime
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
# Pay as you go and pooled prices per zone: hosting fee, data per MB, SMS; pool fee, pool MB, beyond the pool per MB.
OTHER_MODELS = {
    "Z1": ("0.95", "0.10", "0.06", "2.50", 10, "0.20"),
    "Z2": ("0.95", "0.20", "0.08", "4.00", 10, "0.35"),
    "Z3": ("0.95", "0.60", "0.12", "8.00", 10, "1.00"),
}
# The first versions apply from long before any SIM was imported.
SINCE_EVER = datetime(2000, 1, 1, tzinfo=UTC)


def zone_of_country(code: str) -> str:
    return "Z1" if code in ZONE_1 else "Z2" if code in ZONE_2 else "Z3"


def default_price_fields(code: str) -> dict:
    """A zone's default prices, as ZonePrice fields (a zone added by an admin gets zone 3's)."""
    plan = next((row for row in ZONES if row[0] == code), ZONES[-1])
    fee, data, sms, pool_fee, pool_mb, pool_over = OTHER_MODELS.get(code, OTHER_MODELS["Z3"])
    return {
        "plan_monthly_price": Decimal(plan[2]),
        "plan_included_mb": plan[3],
        "overage_per_mb": Decimal(plan[4]),
        "payg_monthly_fee": Decimal(fee),
        "payg_data_per_mb": Decimal(data),
        "payg_sms_price": Decimal(sms),
        "pool_monthly_fee": Decimal(pool_fee),
        "pool_included_mb": pool_mb,
        "pool_overage_per_mb": Decimal(pool_over),
    }


def fill_default_prices(RateZone, ZoneCountry, ZonePrice) -> None:
    """Takes the model classes, so a migration can pass its historical ones."""
    if RateZone.objects.exists():
        return
    zones = {code: RateZone.objects.create(code=code, name=name) for code, name, *_ in ZONES}
    for code, zone in zones.items():
        ZonePrice.objects.create(zone=zone, effective_from=SINCE_EVER, **default_price_fields(code))
    ZoneCountry.objects.bulk_create(ZoneCountry(country=code, zone=zones[zone_of_country(code)]) for code, _ in countries)

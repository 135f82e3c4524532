from datetime import timedelta

import pytest
from django.utils import timezone

from rules.models import Rule
from sims.usage import UsageRow, ingest_usage

MB = 1_000_000


@pytest.fixture
def now():
    """Noon two days ago: a pass's moment, with a day before and after it in the past (records may not end in the future)."""
    return timezone.now().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=2)


@pytest.fixture
def roomy_product(product):
    """The product with a data limit far above what the tests use: only the rules pause."""
    product.default_data_limit_mb = 100_000
    product.save()
    return product


@pytest.fixture
def make_rule(roomy_product):
    def make(**fields) -> Rule:
        values = {
            "name": "Heavy day", "condition_kind": "usage_day", "condition": {"mb": 50}, "actions": [{"kind": "pause"}],
        }  # fmt: skip
        rule = Rule(product=roomy_product, **(values | fields))
        rule.full_clean()
        rule.save()
        return rule

    return make


_records = iter(range(10**9))


def usage(sim, mb: float, at, *, sms: int = 0) -> UsageRow:
    return UsageRow(
        record_id=f"r{next(_records)}", iccid=sim.iccid, started_at=at - timedelta(minutes=30), ended_at=at,
        bytes_up=0, bytes_down=int(mb * MB), sms=sms,
    )  # fmt: skip


def ingest(*rows: UsageRow, now):
    return ingest_usage(list(rows), now=now)

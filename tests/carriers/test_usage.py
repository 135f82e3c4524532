"""Usage per carrier account: each account's SIMs' usage comes through its own adapter, the built-in
simulator fetches only the SIMs with no account, and nothing is counted twice."""

from datetime import UTC, datetime, timedelta

import pytest

from carriers.adapters.simulator import SimulatorAdapter
from carriers.models import AccountRoutine, CarrierAccount
from carriers.usage import fetch_usage_per_account
from sims.carriers.simulator import SimulatorCarrier
from sims.models import SimDailyUsage, UsageRecord, UsageTick
from sims.periodic import run_periodic_work
from tests.sims.test_periodic import iccid_with_records

NOW = datetime(2026, 11, 18, 15, 20, tzinfo=UTC)


@pytest.fixture
def account(product):
    return CarrierAccount.objects.create(product=product, name="Simulated EU", adapter="simulator")


def watch_sources(monkeypatch) -> dict[str, list[str]]:
    """The ICCIDs each source is asked for from now on: the built-in simulator (sims/periodic.py), and
    the accounts' adapters (the simulator adapter's own use of the simulator's records not counted)."""
    calls: dict[str, list[str]] = {"built_in": [], "accounts": []}
    built_in, adapter = SimulatorCarrier.usage_records, SimulatorAdapter.usage_records
    inside_adapter = []

    def built_in_records(self, *, sims, **kwargs):
        sims = list(sims)
        if not inside_adapter:
            calls["built_in"].extend(iccid for iccid, _ in sims)
        return built_in(self, sims=sims, **kwargs)

    def adapter_records(self, *, iccids, **kwargs):
        calls["accounts"].extend(iccids)
        inside_adapter.append(True)
        yield from adapter(self, iccids=iccids, **kwargs)
        inside_adapter.pop()

    monkeypatch.setattr(SimulatorCarrier, "usage_records", built_in_records)
    monkeypatch.setattr(SimulatorAdapter, "usage_records", adapter_records)
    return calls


def test_a_tick_fetches_each_sims_usage_from_its_own_carrier(product, account, make_sim, monkeypatch):
    own = make_sim(product, iccid=iccid_with_records(), carrier_account=account)
    built_in = make_sim(product, iccid=iccid_with_records())
    UsageTick.objects.create(finished_at=NOW, usage_until=NOW - timedelta(hours=12))
    asked = watch_sources(monkeypatch)

    summary = run_periodic_work(now=NOW)

    assert asked == {"built_in": [built_in.iccid], "accounts": [own.iccid]}
    assert set(UsageRecord.objects.values_list("sim_id", flat=True)) == {own.pk, built_in.pk}
    assert "usage records from 1 carrier accounts" in summary
    assert AccountRoutine.objects.get(account_key=account.pk).usage_until == NOW


def test_fetching_an_accounts_window_again_counts_nothing_twice(product, account, make_sim):
    sim = make_sim(product, iccid=iccid_with_records(since=NOW - timedelta(hours=2)), carrier_account=account)
    fetch_usage_per_account(now=NOW - timedelta(minutes=15))
    fetch_usage_per_account(now=NOW)

    records = UsageRecord.objects.filter(sim=sim)
    assert records.exists()
    assert records.count() == len(set(records.values_list("record_id", flat=True)))
    assert sum(SimDailyUsage.objects.values_list("bytes", flat=True)) == sum(r.bytes_up + r.bytes_down for r in records)


def test_a_carrier_that_does_not_answer_is_asked_again_from_the_same_window(product, account, make_sim):
    make_sim(product, iccid=iccid_with_records(since=NOW - timedelta(hours=3)), carrier_account=account)
    AccountRoutine.objects.create(account_key=account.pk, usage_until=NOW - timedelta(hours=2))
    account.settings = {"failure_rate": 1}
    account.save()

    assert "Simulated EU did not answer" in fetch_usage_per_account(now=NOW)
    assert AccountRoutine.objects.get(account_key=account.pk).usage_until == NOW - timedelta(hours=2)
    assert not UsageRecord.objects.exists()

    account.settings = {}
    account.save()
    fetch_usage_per_account(now=NOW)
    assert UsageRecord.objects.filter(started_at__lt=NOW - timedelta(hours=2)).exists()


def test_no_account_no_words_in_the_ticks_summary(db):
    assert fetch_usage_per_account(now=NOW) == ""

"""Charges that arise between invoices, through the real paths: an import, a transfer from a
developer's account, the command and the periodic work that close a period."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from billing.billing import Period
from billing.invoicing import close_billing_period
from billing.models import Charge, Invoice
from imports.importing import import_iccids
from lib.calendar import billing_period_start
from products.models import PricingModel
from sims.models import SimPeriodUsage, State
from billing.tasks import queue_closing_of_last_period
from tests.conftest import make_iccid

MB = 1_000_000


def test_a_transfer_settles_the_developers_overage_at_once(product, owner, make_sim):
    on_promotion = make_sim(None, state=State.ACTIVE, owner_user=owner, home_country="DE", promotion_ends_on="2099-01-01")
    after_promotion = make_sim(None, state=State.ACTIVE, owner_user=owner, home_country="PL")
    within = make_sim(None, state=State.ACTIVE, owner_user=owner, home_country="DE")
    period = billing_period_start(timezone.now())
    SimPeriodUsage.objects.create(sim=on_promotion, period=period, bytes=3 * MB)  # 2 MB over the free 1 MB
    SimPeriodUsage.objects.create(sim=after_promotion, period=period, bytes=int(1.5 * MB))  # 0.5 MB over zone 2's 1 MB
    SimPeriodUsage.objects.create(sim=within, period=period, bytes=MB // 2)

    import_iccids(product=product, user=owner, data="\n".join(s.iccid for s in (on_promotion, after_promotion, within)), country="DE")

    charges = Charge.objects.filter(user=owner, kind=Charge.Kind.TRANSFER_OVERAGE).order_by("zone__code")
    assert [(c.zone.code, c.quantity, c.unit_price, c.amount) for c in charges] == [
        ("Z1", Decimal("2.0000"), Decimal("0.9900"), Decimal("1.98")),
        ("Z2", Decimal("0.5000"), Decimal("1.5900"), Decimal("0.80")),
    ]
    assert all(c.product is None and c.period_start == period for c in charges)


def test_a_transfer_without_overage_charges_the_developer_nothing(product, owner, make_sim):
    mine = make_sim(None, state=State.ACTIVE, owner_user=owner, home_country="DE")
    import_iccids(product=product, user=owner, data=mine.iccid, country="DE")
    assert not Charge.objects.filter(user=owner).exists()


@pytest.mark.parametrize("model", [PricingModel.PAY_AS_YOU_GO, PricingModel.POOLED])
def test_only_the_per_sim_plan_charges_a_first_month_at_import(product, owner, model):
    product.pricing_model = model
    product.save()
    job = import_iccids(product=product, user=owner, data=make_iccid(), country="DE")
    assert job.activated == 1
    assert not Charge.objects.exists()  # billed by peak SIMs at the period's close


def test_the_command_closes_a_period_and_says_what_it_issued(product, make_sim):
    sim = make_sim(product, home_country="DE")
    # Two months back: last month cannot be closed in the first hour of this one (its late usage).
    past = Period.of(timezone.now()).previous().previous()
    sim.events.create(product=product, action="import", from_state="issued", to_state="active", actor_kind="system",
                      actor_name="test", created_at=past.starts_at - timedelta(days=3))
    out = __import__("io").StringIO()
    call_command("close_billing_period", "--period", str(past), stdout=out)
    assert f"{past}: 1 invoices issued, $2.99 in all; 0 accounts already invoiced." in out.getvalue()
    out = __import__("io").StringIO()
    call_command("close_billing_period", "--period", str(past), stdout=out)
    assert "0 invoices issued" in out.getvalue() and "1 accounts already invoiced" in out.getvalue()


@pytest.mark.parametrize(
    ("period", "message"),
    [("2026-13", "is not a billing period: give a month as YYYY-MM"), ("2999-01", "is in the future"), ("soon", "YYYY-MM")],
)
def test_the_command_refuses_a_bad_or_open_period(db, period, message):
    with pytest.raises(CommandError, match=message):
        call_command("close_billing_period", "--period", period)
    assert not Invoice.objects.exists()


def test_the_command_refuses_the_current_period(db):
    with pytest.raises(CommandError, match="is not over yet"):
        call_command("close_billing_period", "--period", str(Period.of(timezone.now())))


def test_the_periodic_work_queues_last_months_close_on_the_first_once_late_usage_is_in(db, django_capture_on_commit_callbacks):
    first = datetime(2026, 12, 1, tzinfo=UTC)
    assert queue_closing_of_last_period(now=first + timedelta(minutes=30)) == ""  # late records may still come
    with django_capture_on_commit_callbacks() as callbacks:
        assert queue_closing_of_last_period(now=first + timedelta(hours=1, minutes=5)) == "Closing 2026-11 queued"
    assert len(callbacks) == 1
    # Not closed yet (a close killed half-way, say): queued again in the first tick of each hour only.
    assert queue_closing_of_last_period(now=first + timedelta(hours=2, minutes=30)) == ""
    with django_capture_on_commit_callbacks() as callbacks:
        assert queue_closing_of_last_period(now=first + timedelta(hours=3, minutes=2)) == "Closing 2026-11 queued"
    assert len(callbacks) == 1
    close_billing_period(period=Period(first.date().replace(month=11)), now=first + timedelta(hours=3, minutes=5))
    assert queue_closing_of_last_period(now=first + timedelta(hours=4)) == ""  # closed to its end: never again

"""Billing's models moved from products to the billing app (issue 14) keeping their tables: a database
at the migrations before the move migrates forward with every row in place, readable through billing's
models, foreign keys intact, and the content types (permissions, admin log) following the models."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from billing.models import Charge, ClosedPeriod, Invoice, InvoiceLine, RateZone, ZoneCountry, ZonePrice
from products.models import Product

BEFORE = [("products", "0008_closed_period"), ("billing", None)]
MOVED = [RateZone, ZonePrice, ZoneCountry, Charge, Invoice, InvoiceLine, ClosedPeriod]


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_move_keeps_every_billing_row_and_foreign_key():
    loader = migrate(BEFORE).loader
    old = loader.project_state(list(loader.applied_migrations)).apps
    model = lambda name: old.get_model("products", name)  # noqa: E731
    now = timezone.now()
    user = old.get_model("auth", "User").objects.create(username="dev")
    zone = model("RateZone").objects.create(code="ZT", name="Test zone")
    price = model("ZonePrice").objects.create(zone=zone, effective_from=now, plan_monthly_price=Decimal("2.5000"))
    homed, _ = model("ZoneCountry").objects.update_or_create(country="NL", defaults={"zone": zone})
    product = model("Product").objects.create(name="Moved", slug="moved", plan_zone=zone, pending_plan_zone=zone)
    invoice = model("Invoice").objects.create(
        number="INV-T-1", product=product, period_start=date(2026, 1, 1), pricing_model="payg", peak_sims=3,
        total=Decimal("9.99"), issued_at=now,
    )
    line = model("InvoiceLine").objects.create(
        invoice=invoice, position=1, kind="fee", zone=zone, description="Fee", quantity=3, unit="SIMs",
        unit_price=Decimal("3.33"), amount=Decimal("9.99"),
    )
    charge = model("Charge").objects.create(
        user=user, kind="credit", zone=zone, description="A credit", quantity=1, unit_price=Decimal("-1"),
        amount=Decimal("-1.00"), period_start=date(2026, 1, 1), invoice=invoice,
    )
    closed = model("ClosedPeriod").objects.create(period_start=date(2026, 1, 1), closed_at=now, summary="done")
    content_type = old.get_model("contenttypes", "ContentType").objects.get(app_label="products", model="charge")
    permission = old.get_model("auth", "Permission").objects.create(
        content_type=content_type, codename="audit_charge", name="Can audit charges"
    )
    counts = {m.__name__: model(m.__name__).objects.count() for m in MOVED}

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert {m.__name__: m.objects.count() for m in MOVED} == counts
    moved_zone = RateZone.objects.get(pk=zone.pk)
    assert ZonePrice.objects.get(pk=price.pk).zone == moved_zone
    assert ZoneCountry.objects.get(pk=homed.pk).zone == moved_zone
    moved_product = Product.objects.get(pk=product.pk)
    assert (moved_product.plan_zone, moved_product.pending_plan_zone) == (moved_zone, moved_zone)
    moved_invoice = Invoice.objects.get(pk=invoice.pk)
    assert (moved_invoice.product, moved_invoice.total) == (moved_product, Decimal("9.99"))
    assert list(moved_invoice.lines.values_list("pk", "zone")) == [(line.pk, zone.pk)]
    moved_charge = Charge.objects.get(pk=charge.pk)
    assert (moved_charge.user, moved_charge.invoice, moved_charge.zone) == (
        get_user_model().objects.get(pk=user.pk), moved_invoice, moved_zone,
    )
    assert ClosedPeriod.objects.get(pk=closed.pk).summary == "done"
    assert Permission.objects.get(pk=permission.pk).content_type.model_class() is Charge

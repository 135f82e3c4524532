from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from products.models import Product
from sims.models import Sim, SimEvent, State, UsageRecord
from sims.spikes import detect_spikes
from sims.usage import UsageRow, ingest_usage
from tests.sims.test_usage import NOW


@pytest.fixture
def admin_client(client, db):
    staff = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(staff)
    return client


OUR_MODELS = sorted(
    f"{model._meta.app_label}/{model._meta.model_name}"
    for model in admin.site._registry
    if model._meta.app_label in ("products", "billing", "sims", "imports", "webhooks", "api", "devices")
)


def test_every_model_of_ours_is_in_the_admin():
    registered = {model for model in apps.get_models() if model._meta.app_label in ("products", "billing", "sims", "imports", "webhooks", "api", "devices")}
    assert registered <= set(admin.site._registry)


@pytest.mark.parametrize("model", OUR_MODELS)
def test_every_changelist_opens_and_searches(admin_client, sim, model):
    ingest_usage([UsageRow("r1", sim.iccid, NOW - timedelta(hours=2), NOW - timedelta(hours=1), 10, 20, 1, "US")], now=NOW)
    detect_spikes(day=NOW.date())
    url = reverse(f"admin:{model.replace('/', '_')}_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url + f"?q={sim.iccid[-6:]}").status_code == 200


def test_usage_is_read_only_in_the_admin(admin_client, sim):
    ingest_usage([UsageRow("r1", sim.iccid, NOW - timedelta(hours=2), NOW - timedelta(hours=1), 10, 20, 1, "US")], now=NOW)
    record = UsageRecord.objects.get()
    assert admin_client.get(reverse("admin:sims_usagerecord_add")).status_code == 403
    assert admin_client.post(reverse("admin:sims_usagerecord_delete", args=[record.pk]), {"post": "yes"}).status_code == 403
    assert UsageRecord.objects.count() == 1


def test_admin_finds_a_sim_by_iccid_fragment(admin_client, sim, make_sim, product):
    other = make_sim(product)
    page = admin_client.get(reverse("admin:sims_sim_changelist") + f"?q={sim.iccid[-7:]}").content.decode()
    assert sim.iccid in page and other.iccid not in page


def test_the_state_is_read_only_in_the_admin(admin_client, sim):
    page = admin_client.get(reverse("admin:sims_sim_change", args=[sim.pk])).content.decode()
    assert 'name="state"' not in page


def test_admin_lifecycle_actions_go_through_the_lifecycle(admin_client, product, make_sim):
    active = make_sim(product)
    issued = make_sim(product, state=State.ISSUED)
    response = admin_client.post(
        reverse("admin:sims_sim_changelist"),
        {"action": "lifecycle_deactivate", "_selected_action": [active.pk, issued.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "Deactivate: 1 done, 1 refused." in page
    assert "Cannot deactivate: the SIM is issued" in page
    event = SimEvent.objects.get(sim=active)
    assert (event.actor_name, event.reason) == ("root", "Django admin")


def test_the_audit_trail_cannot_be_edited_or_deleted_in_the_admin(admin_client, sim, owner):
    from sims.lifecycle import Action, Actor, apply_action

    apply_action(sims=sim, action=Action.DEACTIVATE, actor=Actor.for_user(owner))
    event = SimEvent.objects.get()
    admin_client.post(reverse("admin:sims_simevent_change", args=[event.pk]), {"reason": "rewritten"})
    assert admin_client.post(reverse("admin:sims_simevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.reason == ""


def test_staff_pages_are_closed_to_non_staff(owner_client):
    response = owner_client.get(reverse("admin:sims_sim_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def _price_form(zone, effective_from: str) -> dict:
    from billing.default_prices import default_price_fields

    data = {key: str(value) for key, value in default_price_fields(zone.code).items()}
    data.update(zone=zone.pk, effective_from_0=effective_from[:10], effective_from_1=effective_from[11:], plan_monthly_price="3.49")
    for name in ("suspension_fee_per_sim", "suspension_fee_payg", "suspension_fee_pooled"):
        data[name] = "0"
    return data


def test_a_new_price_is_added_in_the_admin_from_now_on(admin_client):
    from django.utils import timezone

    from billing.models import RateZone, ZonePrice

    zone = RateZone.objects.get(code="Z1")
    start = (timezone.now() + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S")
    response = admin_client.post(reverse("admin:billing_zoneprice_add"), _price_form(zone, start))
    assert response.status_code == 302
    assert [str(p.plan_monthly_price) for p in ZonePrice.objects.filter(zone=zone).order_by("effective_from")] == ["2.9900", "3.4900"]


def test_a_price_cannot_start_in_the_past(admin_client):
    from billing.models import RateZone, ZonePrice

    zone = RateZone.objects.get(code="Z1")
    response = admin_client.post(reverse("admin:billing_zoneprice_add"), _price_form(zone, "2026-01-01 00:00:00"))
    assert response.status_code == 200
    assert "A new price cannot start in the past" in response.content.decode()
    assert ZonePrice.objects.filter(zone=zone).count() == 1


def test_price_versions_and_issued_invoices_cannot_be_edited_in_the_admin(admin_client):
    from billing.models import ZonePrice

    price = ZonePrice.objects.first()
    page = admin_client.get(reverse("admin:billing_zoneprice_change", args=[price.pk])).content.decode()
    assert 'name="plan_monthly_price"' not in page  # shown, not editable
    assert admin_client.get(reverse("admin:billing_invoice_add")).status_code == 403

def test_the_system_checks_pass(db):
    """Admin options naming a field that does not exist, and the like, fail here rather than at start-up."""
    from django.core.management import call_command

    call_command("check", fail_level="WARNING")


def test_a_product_or_user_holding_sims_cannot_be_deleted(admin_client, product, make_sim):
    # The SIM table has no database constraints on its owners (migration 0011): the ORM keeps them.
    developer = get_user_model().objects.create_user("dev", password="pw")
    make_sim(product)
    make_sim(None, owner_user=developer)
    for model, obj in ((Product, product), (get_user_model(), developer)):
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_delete", args=[obj.pk])
        page = admin_client.post(url, {"post": "yes"})
        assert page.status_code == 200 and "would require deleting the following protected" in page.content.decode()
        assert model.objects.filter(pk=obj.pk).exists()
    assert Sim.objects.count() == 2


def test_a_data_limit_set_in_the_admin_is_a_lifecycle_change_that_reaches_the_network(admin_client, product, make_sim):
    sim = make_sim(product, data_limit_mb=10, home_country="US")
    url = reverse("admin:sims_sim_change", args=[sim.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"data_limit_mb": "25", "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0"})

    assert admin_client.post(url, data).status_code == 302

    sim.refresh_from_db()
    assert (sim.data_limit_mb, sim.network_status) == (25, "pending")
    event = SimEvent.objects.get(sim=sim)
    assert (event.action, event.actor_name, event.reason) == ("set_data_limit", "root", "Data limit 10 MB -> 25 MB")
    assert "network_status" not in form.fields and "carrier_account" not in form.fields  # the worker's and the import's

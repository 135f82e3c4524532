"""Carriers in the Django admin: credentials write-only, the simulator's network and the calls read-only."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from carriers import adapters
from carriers.credentials import decrypt, encrypt
from carriers.health import record_call
from carriers.models import CarrierAccount, CarrierCall, SimulatedSim
from tests.carriers.test_views import SECRET


@pytest.fixture
def admin_client(client, db):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.fixture(autouse=True)
def fake_adapter(monkeypatch):
    monkeypatch.setitem(adapters.ADAPTERS, "fake", "tests.carriers.test_views.FakeAdapter")
    adapters.adapter_class.cache_clear()
    yield
    adapters.adapter_class.cache_clear()


def test_every_carriers_model_is_in_the_admin_and_its_list_opens(admin_client, product):
    account = CarrierAccount.objects.create(product=product, name="US fleet", adapter="simulator")
    SimulatedSim.objects.create(account=account, iccid="8901260000000000017", status="active")
    record_call(account_key=account.pk, what="apply", ok=True)
    for model in apps.get_app_config("carriers").get_models():
        assert model in admin.site._registry
        assert admin_client.get(reverse(f"admin:carriers_{model._meta.model_name}_changelist")).status_code == 200


def test_credentials_are_set_write_only_in_the_admin(admin_client, product):
    account = CarrierAccount.objects.create(product=product, name="US fleet", adapter="fake", credentials=encrypt({"api_key": SECRET, "account_sid": "AC1"}))
    url = reverse("admin:carriers_carrieraccount_change", args=[account.pk])
    page = admin_client.get(url).content.decode()
    assert SECRET not in page and account.credentials not in page and "saved (encrypted; never shown)" in page
    form = {"product": product.pk, "name": "US fleet", "adapter": "fake", "iccid_prefixes": "8901", "settings": "{}",
            "credential__fake__api_key": "", "credential__fake__account_sid": "AC2"}  # fmt: skip
    assert admin_client.post(url, form).status_code == 302
    account.refresh_from_db()
    assert decrypt(account.credentials) == {"api_key": SECRET, "account_sid": "AC2"}
    form["iccid_prefixes"] = "89x"
    assert "is not an ICCID prefix" in admin_client.post(url, form).content.decode()


def test_the_simulators_network_and_the_calls_are_read_only(admin_client, product):
    sim = SimulatedSim.objects.create(iccid="8901260000000000017", status="active")
    record_call(account_key=0, what="apply", ok=False, error="Timeout")
    call = CarrierCall.objects.get()
    assert admin_client.get(reverse("admin:carriers_simulatedsim_add")).status_code == 403
    assert admin_client.post(reverse("admin:carriers_simulatedsim_delete", args=[sim.pk]), {"post": "yes"}).status_code == 403
    assert admin_client.post(reverse("admin:carriers_carriercall_delete", args=[call.pk]), {"post": "yes"}).status_code == 403
    assert SimulatedSim.objects.count() == CarrierCall.objects.count() == 1

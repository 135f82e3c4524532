"""The people's side of carriers: carrier accounts on Settings (add, edit, delete, test), their health,
a SIM pending on or refused by the network with its Retry, and the actions a SIM's carrier cannot do."""

from datetime import timedelta
from typing import Any, ClassVar

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from carriers import adapters
from carriers.adapters.base import Capability, CarrierUnavailable
from carriers.credentials import decrypt
from carriers.health import record_call
from carriers.models import CarrierAccount
from sims.models import NetworkStatus, Sim, State
from tests.conftest import text_of

SECRET = "sk_live_TOPSECRET_4242"


class FakeAdapter:
    """A carrier with credentials and without termination."""

    code: ClassVar[str] = "fake"
    label: ClassVar[str] = "Fake Carrier"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.ACTIVATE, Capability.SUSPEND, Capability.RESUME})
    credential_fields: ClassVar[dict[str, str]] = {"api_key": "API key", "account_sid": "Account SID"}
    settings_fields: ClassVar[dict[str, str]] = {"api_base_url": "API base URL"}
    batch_size: ClassVar[int] = 10

    def __init__(self, *, settings: dict[str, Any], credentials: dict[str, str]) -> None:
        self.credentials = credentials

    def check(self) -> str:
        if self.credentials.get("api_key") != SECRET:
            raise CarrierUnavailable("The carrier refused the API key (401): check it in the carrier's console.")
        return "Account AC12… reached, 3 fleets."


@pytest.fixture(autouse=True)
def fake_adapter(monkeypatch):
    monkeypatch.setitem(adapters.ADAPTERS, "fake", "tests.carriers.test_views.FakeAdapter")
    adapters.adapter_class.cache_clear()
    yield
    adapters.adapter_class.cache_clear()


def new_url(product) -> str:
    return reverse("carrier_account_new", args=[product.slug])


def add_fake(client, product, **fields) -> Any:
    data = {"name": "US fleet", "adapter": "fake", "credential_api_key": SECRET, "credential_account_sid": "AC123", "iccid_prefixes": "8901260", **fields}
    return client.post(new_url(product), data)


def stored_column(account: CarrierAccount) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials, settings FROM carriers_carrieraccount WHERE id = %s", [account.pk])
        row = cursor.fetchone()
    return f"{row[0]} {row[1]}"


# --- Accounts ----------------------------------------------------------------------------------------


def test_an_admin_adds_an_account_whose_credentials_are_encrypted_at_rest_and_never_shown_again(owner_client, product):
    response = add_fake(owner_client, product, api_base_url="https://api.example.com/v1")
    assert response.status_code == 302
    account = CarrierAccount.objects.get(product=product)
    assert (account.name, account.adapter, account.prefixes) == ("US fleet", "fake", ["8901260"])
    assert account.settings == {"api_base_url": "https://api.example.com/v1"}
    assert SECRET not in stored_column(account) and "AC123" not in stored_column(account)
    assert decrypt(account.credentials) == {"api_key": SECRET, "account_sid": "AC123"}

    pages = [
        owner_client.get(reverse("product_settings", args=[product.slug]), follow=True),
        owner_client.get(reverse("carrier_accounts", args=[product.slug])),
        owner_client.get(reverse("carrier_account_edit", args=[product.slug, account.pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        assert SECRET not in page.content.decode() and "AC123" not in page.content.decode()
    edit = text_of(pages[2])
    assert "Saved; leave empty to keep it." in edit
    assert "US fleet" in text_of(pages[1]) and "Fake Carrier" in text_of(pages[1])


def test_an_empty_credential_keeps_the_stored_one_and_a_typed_one_replaces_it(owner_client, product):
    add_fake(owner_client, product)
    account = CarrierAccount.objects.get()
    url = reverse("carrier_account_edit", args=[product.slug, account.pk])
    response = owner_client.post(url, {"name": "US fleet 2", "credential_api_key": "", "credential_account_sid": "AC999", "iccid_prefixes": "8901260, 8901261"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.name == "US fleet 2" and account.prefixes == ["8901260", "8901261"]
    assert decrypt(account.credentials) == {"api_key": SECRET, "account_sid": "AC999"}
    assert account.adapter == "fake"


@pytest.mark.parametrize(
    ("prefixes", "error"),
    [
        ("89012a", "“89012a” is not an ICCID prefix: use digits only"),
        ("8", "“8” has 1 digit: an ICCID prefix has 2 to 19"),
        ("89012345678901234567", "has 20 digits"),
        ("8944, 8944", "8944 is given twice"),
        ("8944, 8901", "8944 is already the prefix of “EU fleet”"),
    ],
)
def test_prefixes_are_digits_two_to_nineteen_long_and_each_belongs_to_one_account(owner_client, product, prefixes, error):
    CarrierAccount.objects.create(product=product, name="EU fleet", adapter="simulator", iccid_prefixes="8944")
    response = add_fake(owner_client, product, iccid_prefixes=prefixes)
    assert response.status_code == 400
    assert error in text_of(response)
    assert CarrierAccount.objects.count() == 1
    assert SECRET not in response.content.decode()  # a refused form does not echo the secret either


def test_a_new_account_needs_its_credentials_and_a_name_not_taken(owner_client, product):
    add_fake(owner_client, product)
    response = add_fake(owner_client, product, name="us FLEET", credential_api_key="", iccid_prefixes="")
    assert response.status_code == 400
    page = text_of(response)
    assert "already has a carrier account called “us FLEET”" in page
    assert "This field is required." in page


def test_the_simulators_settings_are_kept_as_the_adapter_reads_them(owner_client, product):
    data = {"name": "Lab", "adapter": "simulator", "iccid_prefixes": "", "inventory_prefixes": "8901, 8902", "latency_ms": "50", "failure_rate": "0.25"}
    assert owner_client.post(new_url(product), data).status_code == 302
    account = CarrierAccount.objects.get()
    assert account.settings == {"inventory_prefixes": ["8901", "8902"], "latency_ms": 50, "failure_rate": 0.25}
    assert account.credentials == ""
    form = text_of(owner_client.get(reverse("carrier_account_edit", args=[product.slug, account.pk])))
    assert "This carrier needs no credentials." in form


def test_choosing_the_adapter_shows_its_credential_fields(owner_client, product):
    page = owner_client.get(new_url(product) + "?adapter=fake").content.decode()
    assert 'name="credential_api_key"' in page and 'type="password"' in page and 'name="api_base_url"' in page
    page = owner_client.get(new_url(product) + "?adapter=simulator").content.decode()
    assert 'name="credential_api_key"' not in page and 'name="failure_rate"' in page


def test_an_account_with_sims_is_not_deleted_and_the_admin_is_told_what_to_do(owner_client, product, make_sim):
    account = CarrierAccount.objects.create(product=product, name="US fleet", adapter="simulator")
    make_sim(product, carrier_account=account)
    make_sim(product, carrier_account=account)
    url = reverse("carrier_account_delete", args=[product.slug, account.pk])
    page = text_of(owner_client.post(url, follow=True))
    assert "“US fleet” was not deleted: 2 SIMs are on it." in page and "terminate its SIMs" in page
    assert CarrierAccount.objects.filter(pk=account.pk).exists()

    Sim.objects.filter(carrier_account=account).update(carrier_account=None)
    page = text_of(owner_client.post(url, follow=True))
    assert "Carrier account “US fleet” deleted" in page
    assert not CarrierAccount.objects.exists()


def test_test_connection_shows_the_carriers_phrase_or_what_went_wrong(owner_client, product):
    add_fake(owner_client, product)
    account = CarrierAccount.objects.get()
    url = reverse("carrier_account_test", args=[product.slug, account.pk])
    assert "“US fleet”: connected. Account AC12… reached, 3 fleets." in text_of(owner_client.post(url, follow=True))
    owner_client.post(reverse("carrier_account_edit", args=[product.slug, account.pk]), {"name": "US fleet", "credential_api_key": "wrong", "iccid_prefixes": ""})
    page = text_of(owner_client.post(url, follow=True))
    assert "“US fleet”: the connection failed. The carrier refused the API key (401)" in page
    account.refresh_from_db()
    assert account.last_success_at is not None and account.last_failure.startswith("The carrier refused")


def test_members_see_the_accounts_and_their_health_but_cannot_change_them(client, teammate, product):
    account = CarrierAccount.objects.create(product=product, name="US fleet", adapter="simulator")
    client.force_login(teammate)
    page = client.get(reverse("carrier_accounts", args=[product.slug]))
    assert page.status_code == 200 and "US fleet" in text_of(page) and "Only a product admin" in text_of(page)
    assert "Add a carrier account" not in text_of(page) and "Test connection" not in text_of(page)
    assert client.get(new_url(product)).status_code == 403
    assert client.post(reverse("carrier_account_delete", args=[product.slug, account.pk])).status_code == 403
    assert client.post(reverse("carrier_account_test", args=[product.slug, account.pk])).status_code == 403
    assert client.get(reverse("carrier_account_edit", args=[product.slug, account.pk])).status_code == 403


def test_outsiders_get_404_and_an_admin_cannot_reach_another_products_account(client, outsider, owner, product, other_product):
    account = CarrierAccount.objects.create(product=product, name="US fleet", adapter="simulator")
    outsider_client = owner_client = client
    client.force_login(outsider)
    assert outsider_client.get(reverse("carrier_accounts", args=[product.slug])).status_code == 404
    assert outsider_client.get(reverse("carrier_health", args=[product.slug])).status_code == 404
    assert outsider_client.get(new_url(product)).status_code == 404
    theirs = CarrierAccount.objects.create(product=other_product, name="Theirs", adapter="simulator")
    client.force_login(owner)
    assert owner_client.get(reverse("carrier_account_edit", args=[product.slug, theirs.pk])).status_code == 404
    assert owner_client.post(reverse("carrier_account_delete", args=[product.slug, theirs.pk])).status_code == 404
    assert CarrierAccount.objects.count() == 2 and account.pk


# --- Health ------------------------------------------------------------------------------------------


def test_health_shows_last_success_error_rate_waiting_and_refused_and_since_when_the_carrier_is_down(mid_month, owner_client, product, make_sim):
    now = timezone.now().replace(microsecond=0)
    account = CarrierAccount.objects.create(product=product, name="US fleet", adapter="simulator")
    record_call(account_key=account.pk, what="apply", ok=True, at=now - timedelta(hours=30))  # outside the 24 hours
    record_call(account_key=account.pk, what="apply", ok=True, at=now - timedelta(hours=2))
    down = now - timedelta(minutes=20)
    for minutes in (20, 10, 5):
        record_call(account_key=account.pk, what="apply", ok=False, error="Timeout after 10 s", at=now - timedelta(minutes=minutes))
    make_sim(product, carrier_account=account, network_status=NetworkStatus.PENDING, network_since=down, network_retry_at=now + timedelta(minutes=3))
    make_sim(product, carrier_account=account, network_status=NetworkStatus.FAILED, network_error="Not on this account.")
    make_sim(product, carrier_account=account)

    page = text_of(owner_client.get(reverse("carrier_accounts", args=[product.slug])))
    assert "75% (3 of 4 calls)" in page
    assert f"Carrier unavailable since {down:%H:%M}: retrying, next try {now + timedelta(minutes=3):%H:%M}." in page
    assert "Waiting for the network 1 SIM" in page and "Refused by the carrier 1 SIM" in page
    assert "Timeout after 10 s" in page

    header = text_of(owner_client.get(reverse("carrier_health", args=[product.slug])))
    assert "US fleet" in header and "1 SIM pending on the network" in header and "1 refused by the carrier" in header


def test_the_fleet_header_says_nothing_when_every_carrier_is_well(owner_client, product, make_sim):
    account = CarrierAccount.objects.create(product=product, name="US fleet", adapter="simulator")
    record_call(account_key=account.pk, what="apply", ok=True)
    make_sim(product, carrier_account=account, network_status=NetworkStatus.PENDING, network_since=timezone.now() - timedelta(minutes=1))
    response = owner_client.get(reverse("carrier_health", args=[product.slug]))
    assert response.status_code == 200 and text_of(response) == ""
    assert 'hx-get="{}"'.format(reverse("carrier_health", args=[product.slug])) in owner_client.get(reverse("sim_list", args=[product.slug])).content.decode()


def test_the_built_in_simulator_appears_when_it_has_sims(owner_client, product, make_sim):
    assert "Built-in simulator" not in text_of(owner_client.get(reverse("carrier_accounts", args=[product.slug])))
    make_sim(product)
    assert "Built-in simulator" in text_of(owner_client.get(reverse("carrier_accounts", args=[product.slug])))


def test_health_takes_a_few_queries_whatever_the_number_of_sims(owner_client, product, make_sim, django_assert_max_num_queries):
    accounts = [CarrierAccount.objects.create(product=product, name=f"Account {n}", adapter="simulator") for n in range(3)]
    for account in accounts:
        for status in (NetworkStatus.PENDING, NetworkStatus.FAILED, NetworkStatus.SYNCED):
            make_sim(product, carrier_account=account, network_status=status, network_since=timezone.now())
    with django_assert_max_num_queries(20):
        assert owner_client.get(reverse("carrier_accounts", args=[product.slug])).status_code == 200


# --- The SIM page and list -----------------------------------------------------------------------------


def test_a_pending_sim_says_since_when_and_when_the_carrier_is_tried_again(owner_client, product, make_sim):
    since = timezone.now().replace(hour=14, minute=2)
    sim = make_sim(product, network_status=NetworkStatus.PENDING, network_since=since)
    url = reverse("sim_detail", args=[product.slug, sim.iccid])
    page = text_of(owner_client.get(url))
    assert "Pending on the network since 14:02." in page and "Built-in simulator" in page
    Sim.objects.filter(pk=sim.pk).update(network_error="Carrier unavailable: timeout", network_retry_at=since + timedelta(minutes=3))
    assert "Pending on the network since 14:02: carrier unavailable, next try 14:05." in text_of(owner_client.get(url))


def test_a_refused_sim_shows_the_reason_and_retry_sends_it_again_once(owner_client, product, make_sim):
    account = CarrierAccount.objects.create(product=product, name="US fleet", adapter="simulator")
    sim = make_sim(product, carrier_account=account, network_status=NetworkStatus.FAILED, network_error="SIM not in this account's inventory.")
    page = text_of(owner_client.get(reverse("sim_detail", args=[product.slug, sim.iccid])))
    assert "Refused by the carrier: SIM not in this account's inventory. Retry" in page and "Carrier US fleet" in page
    url = reverse("carrier_sim_retry", args=[product.slug, sim.iccid])
    first = text_of(owner_client.post(url, follow=True))
    assert "sent to the carrier again" in first and "Pending on the network since" in first
    sim.refresh_from_db()
    assert (sim.network_status, sim.network_error) == (NetworkStatus.PENDING, "")
    second = text_of(owner_client.post(url, follow=True))  # the double click
    assert "already pending on the network" in second


def test_the_network_filter_and_the_row_marker(owner_client, product, make_sim):
    pending = make_sim(product, network_status=NetworkStatus.PENDING, network_since=timezone.now())
    refused = make_sim(product, network_status=NetworkStatus.FAILED, network_error="No.")
    synced = make_sim(product)
    url = reverse("sim_list", args=[product.slug])
    page = owner_client.get(url + "?network=refused").content.decode()
    assert refused.iccid in page and pending.iccid not in page and synced.iccid not in page
    assert 'class="badge network-failed"' in page
    page = owner_client.get(url + "?network=pending").content.decode()
    assert pending.iccid in page and refused.iccid not in page and 'class="badge network-pending"' in page
    assert "Select a valid choice" in text_of(owner_client.get(url + "?network=lost"))


def test_bulk_retry_of_the_filtered_or_selected_refused_sims(owner_client, product, make_sim):
    refused = [make_sim(product, network_status=NetworkStatus.FAILED, network_error="No.") for _ in range(3)]
    pending = make_sim(product, network_status=NetworkStatus.PENDING, network_since=timezone.now())
    url = reverse("carrier_sims_retry", args=[product.slug])
    response = owner_client.post(url, {"scope": "selected", "ids": [refused[0].pk, pending.pk]}, headers={"HX-Request": "true"})
    assert "Retry: 1 refused SIM sent to the carrier again" in text_of(response)
    assert response["HX-Trigger"] == "sims-changed"
    page = text_of(owner_client.post(url, {"scope": "matching", "network": "refused"}, follow=True))
    assert "Retry: 2 refused SIMs sent to the carrier again" in page
    assert not Sim.objects.filter(network_status=NetworkStatus.FAILED).exists()
    page = text_of(owner_client.post(url, {"scope": "matching"}, follow=True))
    assert "none of the SIMs matching the filter was refused" in page


def test_retry_is_for_members_of_the_product_only(outsider_client, product, make_sim):
    sim = make_sim(product, network_status=NetworkStatus.FAILED, network_error="No.")
    assert outsider_client.post(reverse("carrier_sim_retry", args=[product.slug, sim.iccid])).status_code == 404
    assert outsider_client.post(reverse("carrier_sims_retry", args=[product.slug]), {"scope": "matching"}).status_code == 404
    sim.refresh_from_db()
    assert sim.network_status == NetworkStatus.FAILED


# --- What the carrier cannot do ------------------------------------------------------------------------


def test_actions_the_sims_carrier_cannot_do_are_not_offered_and_refused_when_posted(owner_client, product, make_sim):
    account = CarrierAccount.objects.create(product=product, name="US fleet", adapter="fake")
    sim = make_sim(product, carrier_account=account)
    page = owner_client.get(reverse("sim_detail", args=[product.slug, sim.iccid])).content.decode()
    assert "Terminate permanently" not in page and ">Deactivate<" in page
    assert "Not offered: Terminate. US fleet, this SIM's carrier, cannot do it from the console." in text_of(
        owner_client.get(reverse("sim_detail", args=[product.slug, sim.iccid]))
    )
    menu = owner_client.get(reverse("sim_menu", args=[product.slug, sim.iccid])).content.decode()
    assert "Terminate permanently" not in menu

    page = text_of(owner_client.post(reverse("sim_action", args=[product.slug, sim.iccid, "terminate"]), follow=True))
    assert "Terminate is not possible for this SIM: the carrier (US fleet) cannot terminate a SIM." in page
    sim.refresh_from_db()
    assert sim.state == State.ACTIVE

    on_simulator = make_sim(product)
    page = owner_client.get(reverse("sim_detail", args=[product.slug, on_simulator.iccid])).content.decode()
    assert "Terminate permanently" in page


def test_a_bulk_action_some_sims_carrier_cannot_do_is_refused_saying_how_many(owner_client, product, make_sim):
    account = CarrierAccount.objects.create(product=product, name="US fleet", adapter="fake")
    sims = [make_sim(product, carrier_account=account), make_sim(product), make_sim(product, carrier_account=account)]
    response = owner_client.post(
        reverse("sims_bulk", args=[product.slug]),
        {"action": "terminate", "scope": "selected", "ids": [s.pk for s in sims], "confirm_terminate": "on"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert "Terminate is not possible for 2 of these SIMs: the carrier (US fleet) cannot terminate a SIM." in text_of(response)
    assert not Sim.objects.filter(state=State.TERMINATED).exists()
    # The bulk bar still offers Terminate: the built-in simulator's SIMs can be terminated.
    assert 'value="terminate"' in owner_client.get(reverse("sim_list", args=[product.slug])).content.decode()


def test_the_bulk_bar_offers_no_action_none_of_the_products_carriers_can_do(owner_client, product, make_sim, monkeypatch):
    monkeypatch.setitem(adapters.ADAPTERS, "simulator", "tests.carriers.test_views.FakeAdapter")
    adapters.adapter_class.cache_clear()
    make_sim(product)
    page = owner_client.get(reverse("sim_list", args=[product.slug])).content.decode()
    assert 'value="terminate"' not in page and 'value="deactivate"' in page


def test_a_bulk_action_on_the_sims_matching_the_network_filter_changes_only_those(owner_client, product, make_sim, settings):
    refused = make_sim(product, network_status=NetworkStatus.FAILED, network_error="No.")
    other = make_sim(product)
    response = owner_client.post(reverse("sims_bulk", args=[product.slug]), {"action": "deactivate", "scope": "matching", "network": "refused"})
    assert response.status_code == 302
    refused.refresh_from_db()
    other.refresh_from_db()
    assert (refused.state, other.state) == (State.SUSPENDED, State.ACTIVE)


def test_a_bulk_job_keeps_the_network_filter(product, owner, make_sim):
    from sims.bulk_jobs import _sims_after
    from sims.models import BulkJob

    refused = make_sim(product, network_status=NetworkStatus.FAILED, network_error="No.")
    make_sim(product)
    job = BulkJob.objects.create(product=product, created_by=owner, submission="t", action="deactivate", filters={"network": "refused"})
    assert _sims_after(job, 0) == [refused.pk]


@pytest.mark.parametrize(
    "credentials",
    [
        {"credential_account_sid": "AC" + "1" * 32, "credential_auth_token": "auth-token-secret"},
        {"credential_account_sid": "AC" + "1" * 32, "credential_api_key_sid": "SK" + "2" * 32, "credential_api_key_secret": "key-secret"},
    ],
)
def test_a_twilio_account_is_added_with_its_auth_token_or_with_an_api_key(owner_client, product, credentials):
    """As the form's labels and the README say: the API key fields are optional beside an auth token, and the auth token beside an API key."""
    response = owner_client.post(new_url(product), {"name": "US Super SIMs", "adapter": "twilio", "iccid_prefixes": "8988", **credentials})
    assert response.status_code == 302, text_of(response)
    account = CarrierAccount.objects.get(product=product)
    assert decrypt(account.credentials) == {key.removeprefix("credential_"): value for key, value in credentials.items()}


@pytest.mark.parametrize(
    "credentials",
    [
        {"credential_auth_token": "auth-token-secret"},
        {"credential_account_sid": "AC" + "1" * 32},
        {"credential_account_sid": "AC" + "1" * 32, "credential_api_key_sid": "SK" + "2" * 32},
    ],
)
def test_a_twilio_account_without_a_way_to_sign_in_says_what_to_enter(owner_client, product, credentials):
    response = owner_client.post(new_url(product), {"name": "US Super SIMs", "adapter": "twilio", "iccid_prefixes": "8988", **credentials})
    assert response.status_code == 400
    assert "Enter the Account SID and the Auth token, or the Account SID, the API key SID and the API key secret." in text_of(response)
    assert "auth-token-secret" not in response.content.decode()
    assert not CarrierAccount.objects.exists()


def test_editing_a_twilio_account_keeps_its_stored_credentials(owner_client, product):
    owner_client.post(new_url(product), {"name": "US", "adapter": "twilio", "credential_account_sid": "AC1", "credential_auth_token": "tok"})
    account = CarrierAccount.objects.get(product=product)
    response = owner_client.post(reverse("carrier_account_edit", args=[product.slug, account.pk]), {"name": "US 2", "iccid_prefixes": ""})
    assert response.status_code == 302, text_of(response)
    account.refresh_from_db()
    assert account.name == "US 2" and decrypt(account.credentials) == {"account_sid": "AC1", "auth_token": "tok"}

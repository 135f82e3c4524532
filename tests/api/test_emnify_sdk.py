"""emnify's own Python SDK (emnify-sdk 0.5.3, unchanged) against a live console: it lists, reads,
activates and suspends SIMs, and authenticates again after a 401. Each run checks the database.

The SDK needs pydantic 1, so it lives in `.venv-emnify` (built by ./test, scripts/bootstrap.sh) and
runs in a subprocess with EMNIFY_SDK_API_ENDPOINT_URL pointing at the live server: the SDK reads
it once, at import.
"""

import json
import os
import subprocess
import textwrap
import time
from typing import Any
from unittest import mock

import pytest

from api import emnify
from api.models import ApiToken, Scope
from api.tokens import create_token
from sims.models import Sim, SimEvent, State
from tests.conftest import ROOT, make_iccid

SDK_PYTHON = ROOT / ".venv-emnify" / "bin" / "python"
SDK_STAMP = ROOT / ".venv-emnify" / ".installed-emnify-sdk-0.5.3"

pytestmark = pytest.mark.skipif(
    not SDK_STAMP.exists(),
    reason="emnify-sdk 0.5.3 is missing: .venv-emnify was not built (./test builds it with pip: emnify-sdk==0.5.3, pydantic<2)",
)

PRELUDE = """
import json, sys
from emnify import EMnify, constants, errors
from emnify.modules.sim.models import SimFilter
from emnify.modules.device.models import UpdateDevice, SimDevice, ServiceProfile, TariffProfile, FilterDeviceModel
args = json.loads(sys.argv[1])
client = EMnify(app_token=args["app_token"])
result = {}
"""


def run_sdk(live_server, code: str, **args: Any) -> dict[str, Any]:
    """Run SDK code in its own venv against the live server; its `result` dict comes back."""
    script = PRELUDE + textwrap.dedent(code) + "\nprint(json.dumps(result, default=str))\n"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "EMNIFY_SDK_API_ENDPOINT_URL": f"{live_server.url}/api",
        "NO_PROXY": "*",
    }
    done = subprocess.run(
        [str(SDK_PYTHON), "-c", script, json.dumps(args)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def app_token(transactional_db, product, teammate):
    return create_token(user=teammate, name="sdk", product=product, scopes=list(Scope.values))[1]


def token_events() -> list[tuple]:
    return list(SimEvent.objects.order_by("id").values_list("sim_id", "action", "from_state", "to_state", "actor_kind"))


def test_the_sdk_lists_every_page_filters_and_reads_one_sim(live_server, product, other_product, app_token, make_sim):
    # More than the SDK's page of 2000: it must follow X-Total-Pages to the second page.
    Sim.objects.bulk_create(Sim(iccid=make_iccid(), product=product, state=State.ACTIVE) for _ in range(2004))
    suspended = make_sim(product, state=State.SUSPENDED, imsi="001010000000042")
    make_sim(other_product)
    result = run_sdk(
        live_server,
        """
        sims = list(client.sim.get_sim_list())
        result["count"] = len(sims)
        result["ids"] = [s.id for s in sims]
        result["first"] = sims[0].dict()
        found = list(client.sim.get_sim_list(filter_model=SimFilter(iccid=args["iccid"]), sort_enum=constants.SimSort.iccid))
        result["found"] = [(s.id, s.status.id, s.status.description, s.imsi) for s in found]
        result["without_device"] = len(list(client.sim.get_sim_list(without_device=True, filter_model=SimFilter(imsi="001010000000042"))))
        one = client.sim.retrieve_sim(args["id"])
        result["one"] = [one.id, one.iccid, one.status.id, one.device]
        try:
            client.sim.retrieve_sim(args["foreign"])
        except errors.ValidationErrorException as error:
            result["foreign"] = str(error)
        """,
        app_token=app_token, iccid=suspended.iccid, id=suspended.pk, foreign=Sim.objects.get(product=other_product).pk,
    )
    mine = list(Sim.objects.filter(product=product).order_by("iccid").values_list("pk", flat=True))
    assert result["count"] == 2005 and result["ids"] == mine
    assert result["first"]["status"] == {"id": 1, "description": "Activated"} and result["first"]["device"] is None
    assert result["found"] == [[suspended.pk, 2, "Suspended", "001010000000042"]]
    assert result["without_device"] == 1
    assert result["one"] == [suspended.pk, suspended.iccid, 2, None]
    assert "not_found" in result["foreign"]
    assert not SimEvent.objects.exists()


def test_the_sdk_activates_and_suspends_through_the_lifecycle(live_server, product, app_token, make_sim):
    issued = make_sim(product, state=State.ISSUED)
    active = make_sim(product, state=State.ACTIVE)
    result = run_sdk(
        live_server,
        """
        result["activated"] = client.sim.activate_sim(args["issued"])
        result["suspended"] = client.sim.suspend_sim(args["active"])
        result["after"] = [client.sim.retrieve_sim(i).status.description for i in (args["issued"], args["active"])]
        try:
            client.sim.suspend_sim(args["active"])
        except errors.ValidationErrorException as error:
            result["again"] = str(error)
        """,
        app_token=app_token, issued=issued.pk, active=active.pk,
    )
    assert result["activated"] is True and result["suspended"] is True
    assert result["after"] == ["Activated", "Suspended"]
    assert "illegal_status_change" in result["again"] and "the SIM is suspended" in result["again"]
    issued.refresh_from_db(), active.refresh_from_db()
    assert (issued.state, active.state) == (State.ACTIVE, State.SUSPENDED)
    assert token_events() == [
        (issued.pk, "activate", "issued", "active", "token"),
        (active.pk, "deactivate", "active", "suspended", "token"),
    ]
    assert set(SimEvent.objects.values_list("actor_name", flat=True)) == {ApiToken.objects.get().actor_name}


def test_the_sdk_authenticates_again_when_its_auth_token_has_expired(live_server, product, app_token, make_sim):
    sim = make_sim(product, state=State.ACTIVE)
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 2 * 3600):
        expired = emnify.issue_auth_token(ApiToken.objects.get())
    issued = []
    real_issue = emnify.issue_auth_token
    with mock.patch.object(emnify, "issue_auth_token", side_effect=lambda token: issued.append(1) or real_issue(token)):
        result = run_sdk(
            live_server,
            """
            result["listed"] = len(list(client.sim.get_sim_list()))
            client.token = args["expired"]
            result["suspended"] = client.sim.suspend_sim(args["id"])
            result["renewed"] = client.token != args["expired"]
            """,
            app_token=app_token, expired=expired, id=sim.pk,
        )
    # The first call answers 401 (no token yet) and the SDK authenticates; the expired token is
    # refused with 401 too, and the SDK authenticates again and retries the suspension once.
    assert result == {"listed": 1, "suspended": True, "renewed": True}
    assert len(issued) == 2
    sim.refresh_from_db()
    assert sim.state == State.SUSPENDED
    assert token_events() == [(sim.pk, "deactivate", "active", "suspended", "token")]


def test_the_sdk_reports_a_wrong_application_token(live_server, product, transactional_db, sim):
    result = run_sdk(
        live_server,
        """
        try:
            list(client.sim.get_sim_list())
        except errors.UnauthorisedException as error:
            result["error"] = str(error)
        """,
        app_token="simc_wrong",
    )
    assert result == {"error": "Invalid Application Token"}
    assert not SimEvent.objects.exists()


def test_the_sdk_reads_hundreds_of_sims_one_by_one_without_meeting_the_rate_limit(live_server, product, app_token):
    """The SDK has no answer to a 429 (it raises): a loop over the fleet must fit the default limit."""
    Sim.objects.bulk_create(Sim(iccid=make_iccid(), product=product, state=State.ACTIVE) for _ in range(300))
    result = run_sdk(
        live_server,
        """
        ids = [sim.id for sim in client.sim.get_sim_list()]
        result["read"] = [client.sim.retrieve_sim(sim_id).id for sim_id in ids]
        """,
        app_token=app_token,
    )
    assert result["read"] == list(Sim.objects.order_by("iccid").values_list("pk", flat=True))


def test_the_sdk_registers_a_sim_its_products_carrier_holds_and_is_refused_one_it_does_not(live_server, product, app_token, prices):
    from carriers.models import CarrierAccount

    CarrierAccount.objects.create(product=product, name="Simulated", adapter="simulator", settings={"inventory_prefixes": ["8901260"]})
    held = make_iccid()  # 8901260...
    from sims.iccid import luhn_check_digit

    not_held = "894450000000000001" + luhn_check_digit("894450000000000001")
    result = run_sdk(
        live_server,
        """
        registered = client.sim.register_sim(bic=args["held"])
        result["registered"] = [(s.iccid, s.status.id) for s in registered]
        try:
            client.sim.register_sim(bic=args["not_held"])
        except errors.ValidationErrorException as error:
            result["refused"] = str(error)
        """,
        app_token=app_token,
        held=held,
        not_held=not_held,
    )
    assert result["registered"] == [[held, 1]]
    assert "Invalid bic number" in result["refused"]  # the SDK's own words for any refusal
    sim = Sim.objects.get(iccid=held)
    assert (sim.product, sim.state, sim.carrier_account.name) == (product, State.ACTIVE, "Simulated")
    assert not Sim.objects.filter(iccid=not_held).exists()


# The endpoint resource (emnify's devices): every call of the SDK's DeviceManager.

def test_the_sdk_creates_lists_reads_updates_and_deletes_endpoints(live_server, product, other_product, app_token, make_sim):
    from api.models import EndpointSettings
    from devices.models import Device as ConsoleDevice

    ConsoleDevice.objects.create(product=other_product, device_id="foreign", name="Foreign")
    issued = make_sim(product, state=State.ISSUED)
    result = run_sdk(
        live_server,
        """
        new = client.devices.device_model(
            name="Cold box 7", tags="fridge,berlin", status={"id": 0, "description": "Enabled"},
            service_profile=ServiceProfile(id=3), tariff_profile=TariffProfile(id=5), imei="35630811234567",
            sim=SimDevice(id=args["issued"], activate=True),
        )
        created = client.devices.create_device(new)
        second = client.devices.create_device(client.devices.device_model(
            name="Spare", status={"id": 1, "description": "Disabled"}, service_profile=ServiceProfile(id=1), tariff_profile=TariffProfile(id=1),
        ))
        result["created"] = [created, second]
        listed = list(client.devices.get_devices_list())
        result["listed"] = [(d.id, d.name, d.status.description, d.sim.id if d.sim else None) for d in listed]
        found = list(client.devices.get_devices_list(filter_model=FilterDeviceModel(name="cold"), sort_enum=constants.DeviceSort.NAME))
        result["found"] = [d.id for d in found]
        one = client.devices.retrieve_device(created)
        result["one"] = [one.id, one.name, one.tags, one.imei, one.service_profile.id, one.tariff_profile.id, one.sim.iccid, one.sim.status.id, one.sim.device.id]
        result["updated"] = client.devices.update_device(device_id=second, device=UpdateDevice(name="Spare 2", tags="shelf", imei_lock=True))
        result["renamed"] = client.devices.retrieve_device(second).name
        result["deleted"] = client.devices.delete_device(second)
        try:
            client.devices.retrieve_device(args["foreign"])
        except errors.ValidationErrorException as error:
            result["foreign"] = str(error)
        """,
        app_token=app_token, issued=issued.pk, foreign=ConsoleDevice.objects.get(product=other_product).pk,
    )
    created, second = result["created"]
    device = ConsoleDevice.objects.get(pk=created)
    assert result["listed"] == [[created, "Cold box 7", "Enabled", issued.pk], [second, "Spare", "Disabled", None]]
    assert result["found"] == [created]
    assert result["one"] == [created, "Cold box 7", "fridge,berlin", "35630811234567", 3, 5, issued.iccid, 1, created]
    assert result["updated"] is True and result["renamed"] == "Spare 2" and result["deleted"] is True
    assert "not_found" in result["foreign"]
    issued.refresh_from_db()
    assert (device.product, device.name, device.tags, issued.device, issued.state) == (product, "Cold box 7", ["fridge", "berlin"], device, State.ACTIVE)
    assert EndpointSettings.objects.get(device=device).service_profile_id == 3
    assert not ConsoleDevice.objects.filter(pk=second).exists()
    assert token_events() == [(issued.pk, "activate", "issued", "active", "token")]


def test_the_sdk_assigns_a_sim_changes_status_and_releases_it(live_server, product, app_token, make_sim):
    from devices.models import Device as ConsoleDevice, DeviceAssignment

    device = ConsoleDevice.objects.create(product=product, device_id="t-1", name="Tracker")
    issued = make_sim(product, state=State.ISSUED)
    result = run_sdk(
        live_server,
        """
        client.devices.assign_sim(device_id=args["device"], sim_id=args["sim"])
        result["assigned"] = client.devices.retrieve_device(args["device"]).sim.id
        result["enabled"] = client.devices.change_status(args["device"], enable=True)
        result["after_enable"] = [client.devices.retrieve_device(args["device"]).status.description, client.sim.retrieve_sim(args["sim"]).status.description]
        result["disabled"] = client.devices.change_status(args["device"], disable=True)
        result["after_disable"] = [client.devices.retrieve_device(args["device"]).status.description, client.sim.retrieve_sim(args["sim"]).status.description]
        client.devices.change_status(args["device"], enable=True)
        client.devices.release_sim(args["device"])
        one = client.devices.retrieve_device(args["device"])
        result["released"] = [one.sim, one.status.description, client.sim.retrieve_sim(args["sim"]).status.description]
        try:
            client.devices.release_sim(args["device"])
        except errors.ValidationErrorException as error:
            result["again"] = str(error)
        """,
        app_token=app_token, device=device.pk, sim=issued.pk,
    )
    assert result["assigned"] == issued.pk
    assert result["enabled"] is True and result["after_enable"] == ["Enabled", "Activated"]
    assert result["disabled"] is True and result["after_disable"] == ["Disabled", "Suspended"]
    assert result["released"] == [None, "Disabled", "Suspended"]
    assert result["again"] == "Device must have sim to release"
    issued.refresh_from_db()
    assert issued.device is None and issued.state == State.SUSPENDED
    assignment = DeviceAssignment.objects.get()
    assert (assignment.sim_id, assignment.device, assignment.source, assignment.ended_at is not None) == (issued.pk, device, "api", True)
    assert [e[1] for e in token_events()] == ["activate", "deactivate", "reactivate", "deactivate"]


def test_the_sdk_reads_connectivity_resets_it_and_lists_events_the_operator_blacklist_and_the_operators(live_server, product, app_token, make_sim):
    from datetime import UTC, datetime, timedelta

    from api.models import BlacklistedOperator
    from devices.models import Device as ConsoleDevice, DeviceAssignment
    from sims.models import NetworkEvent, SimConnectivity

    device = ConsoleDevice.objects.create(product=product, device_id="t-1", name="Tracker")
    sim = make_sim(product, state=State.ACTIVE, device=device)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    DeviceAssignment.objects.create(sim=sim, device=device, started_at=start, source="hand")
    kinds = ["attach", "session_start", "session_end", "auth_reject"]
    NetworkEvent.objects.bulk_create(
        NetworkEvent(event_id=f"e{i}", sim=sim, product=product, kind=kind, at=start + timedelta(minutes=i), operator="Telekom.de 262-01", country="DE")
        for i, kind in enumerate(kinds * 30)  # 120 events: more than a page of 100
    )
    SimConnectivity.objects.create(sim=sim, product=product, status="online", operator="Telekom.de 262-01", country="DE", rat="LTE-M")
    result = run_sdk(
        live_server,
        """
        status = client.devices.get_device_connectivity_status(args["device"])
        result["status"] = [status.status.description, status.location["operator"]["name"]]
        result["reset"] = [client.devices.reset_connectivity_network(args["device"]), client.devices.reset_connectivity_data(args["device"])]
        events = list(client.devices.get_device_events_list(args["device"]))
        result["events"] = [len(events), events[0].event_type.description, events[0].alert, events[-1].event_type.description]
        result["added"] = [client.devices.add_device_blacklist_operator(args["device"], 26201), client.devices.add_device_blacklist_operator(args["device"], 310410)]
        try:
            client.devices.add_device_blacklist_operator(args["device"], 26201)
        except errors.ValidationErrorException as error:
            result["twice"] = str(error)
        result["blacklist"] = [(o.id, o.name, o.country.mcc) for o in client.devices.get_device_operator_blacklist(args["device"])]
        result["operators"] = [(o.id, o.name, o.country.mcc, o.country.iso_code) for o in client.operator.get_operators()]
        result["removed"] = client.devices.delete_device_blacklist_operator(args["device"], 26201)
        try:
            client.devices.delete_device_blacklist_operator(args["device"], 26201)
        except errors.ValidationErrorException as error:
            result["not_there"] = str(error)
        """,
        app_token=app_token, device=device.pk,
    )
    assert result["status"] == ["ONLINE", "Telekom.de 262-01"]
    assert result["reset"] == [True, True]
    assert SimConnectivity.objects.get(sim=sim).reset_requested_at is not None
    assert result["events"] == [120, "Update location", True, "Update GPRS location"]
    assert result["added"] == [True, True] and "already" in result["twice"]
    assert result["blacklist"] == [[26201, "262-01", "262"], [310410, "310-410", "310"]]
    assert result["operators"] == [[26201, "Telekom.de", "262", "de"], [310410, "310-410", "310", None]]
    assert result["removed"] is True and "not in" in result["not_there"]
    assert list(BlacklistedOperator.objects.values_list("operator_id", flat=True)) == [310410]


def test_the_sdk_sends_sms_to_an_endpoint_and_lists_them_as_the_carrier_moves_them_on(live_server, product, other_product, app_token, make_sim):
    from datetime import timedelta

    from django.utils import timezone

    from carriers.models import SimulatedSms, SmsMessage
    from carriers.push import BUILT_IN
    from carriers.sms import poll, send_queued
    from devices.models import Device as ConsoleDevice, DeviceAssignment
    from tests.carriers.test_sms import FakeClock

    device = ConsoleDevice.objects.create(product=product, device_id="t-1", name="Tracker")
    sim = make_sim(product, state=State.ACTIVE, msisdn="4915112345678")
    DeviceAssignment.objects.create(sim=sim, device=device, source="hand")
    Sim.objects.filter(pk=sim.pk).update(device=device)
    empty = ConsoleDevice.objects.create(product=product, device_id="t-2", name="Empty")
    foreign = ConsoleDevice.objects.create(product=other_product, device_id="f-1", name="Foreign")
    result = run_sdk(
        live_server,
        """
        def refused(call):
            try:
                call()
            except errors.ValidationErrorException as error:
                return str(error)

        SmsCreateModel = client.devices.sms_create_model
        result["by_id"] = client.devices.send_sms(device=args["device"], sms=SmsCreateModel(source_address="12345", payload="Reboot now"))
        retrieved = client.devices.retrieve_device(args["device"])
        result["by_model"] = client.devices.send_sms(device=retrieved, sms=SmsCreateModel(source_address="Acme", source_address_type={"id": 208}, payload="Report ¤"))
        listed = list(client.devices.get_device_sms_list(device=args["device"]))
        result["listed"] = [(m.payload, m.status["description"], m.sms_type["description"], m.iccid, m.endpoint["id"]) for m in listed]
        result["no_sim"] = refused(lambda: client.devices.send_sms(device=args["empty"], sms=SmsCreateModel(source_address="1", payload="hi")))
        result["too_long"] = refused(lambda: client.devices.send_sms(device=args["device"], sms=SmsCreateModel(source_address="1", payload="x" * 161)))
        result["foreign"] = refused(lambda: client.devices.send_sms(device=args["foreign"], sms=SmsCreateModel(source_address="1", payload="hi")))
        result["foreign_list"] = refused(lambda: list(client.devices.get_device_sms_list(device=args["foreign"])))
        result["empty_list"] = list(client.devices.get_device_sms_list(device=args["empty"]))
        """,
        app_token=app_token, device=device.pk, empty=empty.pk, foreign=foreign.pk,
    )
    assert result["by_id"] is True and result["by_model"] is True
    assert result["listed"] == [
        ["Report ¤", "DELIVERY ATTEMPT PENDING", "MT", sim.iccid, device.pk],
        ["Reboot now", "DELIVERY ATTEMPT PENDING", "MT", sim.iccid, device.pk],
    ]
    assert "no_sim" in result["no_sim"] and "put a SIM in it" in result["no_sim"]
    assert "161 characters long" in result["too_long"]
    assert "not_found" in result["foreign"] and "not_found" in result["foreign_list"]
    assert result["empty_list"] == []
    assert list(SmsMessage.objects.order_by("id").values_list("sim", "direction", "body", "status")) == [
        (sim.pk, "mt", "Reboot now", "queued"), (sim.pk, "mt", "Report ¤", "queued"),
    ]

    # The SMS worker hands them to the simulator; the simulator delivers the first, and the device answers it.
    assert send_queued(account_key=BUILT_IN, clock=FakeClock()).sent == 2
    first = SmsMessage.objects.get(body="Reboot now")
    SimulatedSms.objects.filter(message_id=first.carrier_message_id).update(at=timezone.now())
    SimulatedSms.objects.exclude(message_id=first.carrier_message_id).filter(direction="mt").update(at=timezone.now() + timedelta(hours=1))
    SimulatedSms.objects.filter(direction="mo").delete()
    SimulatedSms.objects.create(message_id=f"{first.carrier_message_id}-mo", iccid=sim.iccid, direction="mo", body="ACK Reboot now", at=timezone.now())
    poll(account_key=BUILT_IN, now=timezone.now())
    result = run_sdk(
        live_server,
        """
        result["listed"] = [
            (m.payload, m.status["id"], m.status["description"], m.sms_type["description"], m.source_address, m.delivery_date is not None)
            for m in client.devices.get_device_sms_list(device=args["device"])
        ]
        """,
        app_token=app_token, device=device.pk,
    )
    assert result["listed"] == [
        ["ACK Reboot now", 4, "DELIVERED", "MO", "4915112345678", True],
        ["Report ¤", 2, "IN PROGRESS", "MT", None, False],
        ["Reboot now", 4, "DELIVERED", "MT", None, True],
    ]
    assert list(SmsMessage.objects.order_by("id").values_list("direction", "body", "status")) == [
        ("mt", "Reboot now", "delivered"), ("mt", "Report ¤", "sent"), ("mo", "ACK Reboot now", "received"),
    ]

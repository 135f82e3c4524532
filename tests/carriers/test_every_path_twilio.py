"""Every path of tests/carriers/test_every_path.py again, with the SIM on a Twilio Super SIM account (the
fake Super SIM API, validating every request against Twilio's description): each change reaches Twilio
as exactly one update of that SIM, with exactly the status and Fleet of its new state.

Left out, and why: terminations (Twilio's API has none: the console hides Terminate for its SIMs,
tests/carriers/test_views.py), a developer's own SIMs (a developer has no carrier account: the built-in
simulator carries them), and paths that do not reach the network (a provisioned SIM's activation)."""

import pytest

from carriers.credentials import encrypt
from carriers.models import CarrierAccount
from sims.models import NetworkStatus, Sim, State
from tests.carriers.test_every_path import PATHS, World, run_queued_tasks, sim_for, world  # noqa: F401  (world: a fixture)
from tests.carriers.twilio_fake import ACCOUNT_SID, AUTH_TOKEN

TWILIO_PATHS = [
    name
    for name, path in PATHS.items()
    if path.sends and path.target != "terminated" and path.sim != "own" and " own " not in f" {name} "
]
# Where a SIM in each state stands on the fake before the path runs: (status, Fleet).
ON_TWILIO = {
    State.ISSUED: ("new", None),
    State.PROVISIONED: ("active", "simconsole-active"),
    State.ACTIVE: ("active", "simconsole-active"),
    State.PAUSED: ("active", "simconsole-paused"),
    State.SUSPENDED: ("inactive", "simconsole-active"),
}


@pytest.fixture
def twilio_account(world, twilio_fake):  # noqa: F811  (world: the fixture imported above)
    twilio_fake.add_fleet("simconsole-paused", data_enabled=False)
    return CarrierAccount.objects.create(
        product=world.product, name="Twilio US", adapter="twilio",
        settings={"api_base_url": twilio_fake.url, "timeout_s": 5, "workers": 2},
        credentials=encrypt({"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}),
    )  # fmt: skip


def expected_update(target: str, limit: int) -> dict[str, str]:
    return {
        "active": {"Status": "active", "Fleet": f"simconsole-{limit}mb"},
        "paused": {"Status": "active", "Fleet": "simconsole-paused"},
        "suspended": {"Status": "inactive"},
    }[target]


@pytest.mark.parametrize("name", TWILIO_PATHS)
def test_the_change_reaches_twilio_as_one_update_of_that_sim(world, name, twilio_account, twilio_fake, django_capture_on_commit_callbacks):  # noqa: F811
    path = PATHS[name]
    sim = sim_for(world, path)
    if sim.product_id is not None:
        Sim.objects.filter(pk=sim.pk).update(carrier_account=twilio_account)
        sim.refresh_from_db()
    status, fleet = ON_TWILIO[path.start]
    sim_sid = twilio_fake.add_sim(sim.iccid, status=status, fleet=fleet)  # on the account already: claims pass
    twilio_fake.requests.clear()

    with django_capture_on_commit_callbacks(execute=True):
        path.run(world, sim)
    run_queued_tasks()

    sim = Sim.objects.get(iccid=sim.iccid)
    updates = [received.form for received in twilio_fake.requests if (received.method, received.path) == ("POST", f"/v1/Sims/{sim_sid}")]
    assert updates == [expected_update(path.target, path.limit)]
    assert (sim.carrier_account_id, sim.network_status, sim.network_error) == (twilio_account.pk, NetworkStatus.SYNCED, "")
    update = expected_update(path.target, path.limit)
    assert twilio_fake.state(sim.iccid) == (update["Status"], update.get("Fleet", fleet))  # suspending leaves the Fleet

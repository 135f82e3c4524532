"""The Twilio Super SIM adapter against the fake Super SIM API (tests/carriers/twilio_fake.py): the
exact requests it sends for each target, what Twilio then holds, refusals in Twilio's words, and
unavailability. The fixture fails any test whose requests or answers leave Twilio's OpenAPI
description."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from carriers.adapters import adapter_class, adapter_for
from carriers.adapters.base import Capability, CarrierUnavailable, NetworkChange, Result, Target
from carriers.adapters.twilio import NOT_ON_ACCOUNT, TwilioSuperSimAdapter
from carriers.credentials import encrypt
from carriers.models import CarrierAccount
from carriers.push import push
from sims.lifecycle import Action, Actor, apply_action
from sims.models import NetworkStatus, Sim, State
from tests.carriers.twilio_fake import ACCOUNT_SID, NETWORK_ACCESS_PROFILE, FakeSuperSim, spec
from tests.conftest import make_iccid

ADMIN = Actor.system("test")
ICCID = "89883070000000000017"


@pytest.fixture
def adapter(twilio_settings, twilio_credentials) -> TwilioSuperSimAdapter:
    return TwilioSuperSimAdapter(settings=twilio_settings, credentials=twilio_credentials)


def sent(fake: FakeSuperSim) -> list[tuple[str, str, dict[str, str]]]:
    """What the fake received: method, path, and the query's or the form's fields."""
    return [(r.method, r.path, {**r.query, **r.form}) for r in fake.requests]


def change(target: Target, limit: int | None = 5, iccid: str = ICCID, version: int = 1) -> NetworkChange:
    return NetworkChange(iccid, target, limit, key=f"{iccid}:{version}")


def test_it_is_registered_under_its_code():
    assert adapter_class("twilio") is TwilioSuperSimAdapter
    assert TwilioSuperSimAdapter.label == "Twilio Super SIM"
    # Super SIM's API cannot terminate a SIM: the console must not offer it for Twilio's SIMs.
    assert Capability.TERMINATE not in TwilioSuperSimAdapter.capabilities
    assert {Capability.PAUSE_DATA, Capability.DATA_LIMIT, Capability.CLAIM_WITH_PROOF} <= TwilioSuperSimAdapter.capabilities


def test_it_does_not_claim_connectivity_which_super_sims_api_does_not_offer():
    """Super SIM's connection events come only through Event Streams (pushed, never listed), and its API
    has no reset: nothing in the published description to pull events from or to reset a SIM with."""
    assert Capability.CONNECTIVITY not in TwilioSuperSimAdapter.capabilities
    paths = " ".join(spec()["paths"]).lower()
    assert not any(word in paths for word in ("event", "connection", "connectivity", "session", "reset", "attach"))
    update_sim = spec()["paths"]["/v1/Sims/{Sid}"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert set(update_sim["schema"]["properties"]) == {"UniqueName", "Status", "Fleet", "CallbackUrl", "CallbackMethod", "AccountSid"}


def test_active_puts_the_sim_in_the_fleet_of_its_data_limit_created_on_first_need(twilio_fake, adapter):
    sid = twilio_fake.add_sim(ICCID, status="new")

    assert adapter.apply([change(Target.ACTIVE, 5)]) == [Result(ICCID, True)]

    assert sent(twilio_fake) == [
        ("GET", "/v1/Fleets/simconsole-5mb", {}),
        ("GET", "/v1/Fleets/simconsole-active", {}),
        ("POST", "/v1/Fleets", {"NetworkAccessProfile": NETWORK_ACCESS_PROFILE, "UniqueName": "simconsole-5mb", "DataEnabled": "true", "DataLimit": "5"}),
        ("GET", "/v1/Sims", {"Iccid": ICCID, "PageSize": "1"}),
        ("POST", f"/v1/Sims/{sid}", {"Status": "active", "Fleet": "simconsole-5mb"}),
    ]
    assert twilio_fake.state(ICCID) == ("active", "simconsole-5mb")
    fleet = twilio_fake.fleet("simconsole-5mb")
    assert (fleet["data_limit"], fleet["data_enabled"]) == (5, True)


def test_a_new_data_limit_moves_the_sim_to_that_limits_fleet(twilio_fake, adapter):
    twilio_fake.add_fleet("simconsole-5mb", data_limit=5)
    sid = twilio_fake.add_sim(ICCID, status="active", fleet="simconsole-5mb")

    assert adapter.apply([change(Target.ACTIVE, 50)]) == [Result(ICCID, True)]

    assert sent(twilio_fake)[-2:] == [
        ("GET", "/v1/Sims", {"Iccid": ICCID, "PageSize": "1"}),
        ("POST", f"/v1/Sims/{sid}", {"Status": "active", "Fleet": "simconsole-50mb"}),
    ]
    assert twilio_fake.state(ICCID) == ("active", "simconsole-50mb")
    assert twilio_fake.fleet("simconsole-50mb")["data_limit"] == 50
    assert twilio_fake.fleet("simconsole-5mb")["data_limit"] == 5  # the other SIMs' limit is theirs


def test_paused_keeps_the_sim_active_in_a_fleet_without_data(twilio_fake, adapter):
    twilio_fake.add_fleet("simconsole-5mb", data_limit=5)
    sid = twilio_fake.add_sim(ICCID, status="active", fleet="simconsole-5mb")

    assert adapter.apply([change(Target.PAUSED)]) == [Result(ICCID, True)]

    assert sent(twilio_fake) == [
        ("GET", "/v1/Fleets/simconsole-paused", {}),
        ("GET", "/v1/Fleets/simconsole-active", {}),
        ("POST", "/v1/Fleets", {"NetworkAccessProfile": NETWORK_ACCESS_PROFILE, "UniqueName": "simconsole-paused", "DataEnabled": "false"}),
        ("GET", "/v1/Sims", {"Iccid": ICCID, "PageSize": "1"}),
        ("POST", f"/v1/Sims/{sid}", {"Status": "active", "Fleet": "simconsole-paused"}),
    ]
    assert twilio_fake.state(ICCID) == ("active", "simconsole-paused")
    assert twilio_fake.fleet("simconsole-paused")["data_enabled"] is False

    # Unpaused: back to the fleet of its limit, with data.
    adapter.apply([change(Target.ACTIVE, 5, version=2)])
    assert twilio_fake.state(ICCID) == ("active", "simconsole-5mb")


@pytest.mark.parametrize("target", [Target.SUSPENDED, Target.TERMINATED])
def test_suspended_and_terminated_make_the_sim_inactive(twilio_fake, adapter, target):
    twilio_fake.add_fleet("simconsole-5mb", data_limit=5)
    sid = twilio_fake.add_sim(ICCID, status="active", fleet="simconsole-5mb")

    assert adapter.apply([change(target)]) == [Result(ICCID, True)]

    assert sent(twilio_fake) == [
        ("GET", "/v1/Sims", {"Iccid": ICCID, "PageSize": "1"}),
        ("POST", f"/v1/Sims/{sid}", {"Status": "inactive"}),
    ]
    assert twilio_fake.state(ICCID) == ("inactive", "simconsole-5mb")

    # Reactivated (a suspended SIM; Twilio keeps an inactive SIM, so a "terminated" one could be too).
    adapter.apply([change(Target.ACTIVE, 5, version=2)])
    assert twilio_fake.state(ICCID) == ("active", "simconsole-5mb")


def test_a_limit_of_zero_means_no_data(twilio_fake, adapter):
    twilio_fake.add_sim(ICCID, status="active", fleet="simconsole-active")
    adapter.apply([change(Target.ACTIVE, 0)])
    assert twilio_fake.state(ICCID) == ("active", "simconsole-paused")


def test_sending_the_same_change_twice_leaves_twilio_as_once_did(twilio_fake, adapter, twilio_settings, twilio_credentials):
    twilio_fake.add_fleet("simconsole-5mb", data_limit=5)
    sid = twilio_fake.add_sim(ICCID, status="active", fleet="simconsole-5mb")
    adapter.apply([change(Target.SUSPENDED)])
    after_once = dict(twilio_fake.sim(ICCID))

    # A worker that died before recording the answer: a new worker (a new adapter) sends it again.
    again = TwilioSuperSimAdapter(settings=twilio_settings, credentials=twilio_credentials)
    assert again.apply([change(Target.SUSPENDED)]) == [Result(ICCID, True)]

    assert twilio_fake.sim(ICCID) == after_once  # not even its date_updated moved
    updates = [r for r in sent(twilio_fake) if r[0] == "POST"]
    assert updates == [("POST", f"/v1/Sims/{sid}", {"Status": "inactive"})] * 2


def test_a_large_batch_reads_the_account_listing_instead_of_one_lookup_per_sim(twilio_fake, adapter):
    twilio_fake.add_fleet("simconsole-5mb", data_limit=5)
    iccids = [f"8988307{n:012d}" for n in range(450)]
    for iccid in iccids:
        twilio_fake.add_sim(iccid, status="active", fleet="simconsole-5mb")

    results = adapter.apply([change(Target.SUSPENDED, iccid=iccid) for iccid in iccids])

    assert sorted(results, key=lambda r: r.iccid) == [Result(iccid, True) for iccid in iccids]
    assert {twilio_fake.state(iccid) for iccid in iccids} == {("inactive", "simconsole-5mb")}
    listing = [r for r in sent(twilio_fake) if r[:2] == ("GET", "/v1/Sims")]
    assert [r[2]["PageSize"] for r in listing] == ["1000"]
    assert len(twilio_fake.requests) == 1 + 450


def test_a_sim_not_on_the_account_is_refused_and_the_others_go_through(twilio_fake, adapter):
    twilio_fake.add_sim(ICCID, status="active", fleet="simconsole-active")
    stranger = "89883070000000000025"

    results = adapter.apply([change(Target.SUSPENDED), change(Target.SUSPENDED, iccid=stranger)])

    assert results == [Result(ICCID, True), Result(stranger, False, NOT_ON_ACCOUNT)]
    assert twilio_fake.state(ICCID)[0] == "inactive"


def test_a_refusal_carries_twilios_own_words(twilio_fake, adapter):
    twilio_fake.add_sim(ICCID, status="active", fleet="simconsole-active")
    twilio_fake.lock_sim(ICCID)

    [result] = adapter.apply([change(Target.SUSPENDED)])

    assert result == Result(ICCID, False, "The Super SIM is being transferred to another account and cannot be updated now.")
    assert twilio_fake.state(ICCID)[0] == "active"


def test_a_sim_gone_from_the_account_since_it_was_found_is_refused_with_twilios_404(twilio_fake, adapter):
    sid = twilio_fake.add_sim(ICCID, status="active", fleet="simconsole-active")
    adapter.apply([change(Target.SUSPENDED)])
    twilio_fake.remove_sim(ICCID)

    [result] = adapter.apply([change(Target.ACTIVE, None, version=2)])

    assert result == Result(ICCID, False, f"The requested resource /Sims/{sid} was not found")


@pytest.mark.parametrize(
    ("trouble", "words"),
    [
        (lambda fake: fake.fail(503), "Twilio answered with an error (503)"),
        (lambda fake: fake.fail(500), "Twilio answered with an error (500)"),
        (lambda fake: fake.fail(429), "Twilio asked to slow down (429"),
        (lambda fake: fake.hang(1.5), "Twilio did not answer within 0.5 s"),
    ],
)
def test_a_carrier_in_trouble_is_unavailable_not_a_refusal(twilio_fake, twilio_credentials, trouble, words):
    twilio_fake.add_sim(ICCID, status="active", fleet="simconsole-active")
    adapter = TwilioSuperSimAdapter(settings={"api_base_url": twilio_fake.url, "timeout_s": 0.5}, credentials=twilio_credentials)
    trouble(twilio_fake)

    with pytest.raises(CarrierUnavailable, match=re.escape(words)):
        adapter.apply([change(Target.SUSPENDED)])
    assert twilio_fake.state(ICCID)[0] == "active"


def test_wrong_credentials_say_which_to_check(twilio_fake, twilio_settings):
    adapter = TwilioSuperSimAdapter(settings=twilio_settings, credentials={"account_sid": ACCOUNT_SID, "auth_token": "wrong"})
    with pytest.raises(CarrierUnavailable, match=r"refused the credentials \(401\): check the account SID and the auth token"):
        adapter.check()


def test_no_server_is_unavailable(twilio_credentials):
    adapter = TwilioSuperSimAdapter(settings={"api_base_url": "http://127.0.0.1:9", "timeout_s": 1}, credentials=twilio_credentials)
    with pytest.raises(CarrierUnavailable, match="Twilio could not be reached"):
        adapter.holds([ICCID])


def test_check_and_an_api_key(twilio_fake, twilio_settings):
    adapter = TwilioSuperSimAdapter(
        settings=twilio_settings, credentials={"account_sid": ACCOUNT_SID, "api_key_sid": "SK" + "b2" * 16, "api_key_secret": "key-secret"}
    )
    assert adapter.check() == f"Account {ACCOUNT_SID[:8]}… reached: 1 Super SIM fleets."
    assert sent(twilio_fake) == [("GET", "/v1/Fleets", {"PageSize": "50"})]


def test_holds_only_the_sims_on_the_account(twilio_fake, adapter):
    twilio_fake.add_sim(ICCID)
    stranger = "89883070000000000025"
    twilio_fake.add_claimable(stranger, "H3LL0W0RLD")  # at Twilio, but not on this account

    assert adapter.holds([ICCID, stranger]) == {ICCID}
    lookups = sorted(sent(twilio_fake), key=lambda r: r[2]["Iccid"])  # sent in parallel
    assert lookups == [("GET", "/v1/Sims", {"Iccid": iccid, "PageSize": "1"}) for iccid in sorted((ICCID, stranger))]


def test_holds_many_reads_the_account_listing(twilio_fake, adapter):
    iccids = [f"8988307{n:012d}" for n in range(300)]
    for iccid in iccids[:250]:
        twilio_fake.add_sim(iccid)

    assert adapter.holds(iccids) == set(iccids[:250])
    assert sent(twilio_fake) == [("GET", "/v1/Sims", {"PageSize": "1000"})]


def test_register_with_the_right_code_and_with_a_wrong_one(twilio_fake, adapter):
    twilio_fake.add_claimable(ICCID, "H3LL0W0RLD")

    wrong = adapter.register(ICCID, "WRONGCODE1")
    assert wrong == Result(ICCID, False, "The ICCID and registration code provided do not match a Super SIM available for registration.")
    assert ICCID not in twilio_fake.by_iccid

    assert adapter.register(ICCID, "H3LL0W0RLD") == Result(ICCID, True)
    assert twilio_fake.state(ICCID) == ("new", None)
    assert sent(twilio_fake)[-1] == ("POST", "/v1/Sims", {"Iccid": ICCID, "RegistrationCode": "H3LL0W0RLD"})
    assert adapter.holds([ICCID]) == {ICCID}

    # Then activated like any SIM of the account (it has no fleet yet: the change gives it one).
    adapter.apply([change(Target.ACTIVE, 5)])
    assert twilio_fake.state(ICCID) == ("active", "simconsole-5mb")


def test_sims_lists_the_account_page_by_page_in_the_consoles_words(twilio_fake, adapter):
    twilio_fake.add_fleet("simconsole-paused", data_enabled=False)
    for n in range(2100):
        twilio_fake.add_sim(f"8988307{n:012d}", status="active", fleet="simconsole-active")
    twilio_fake.sim("8988307000000000001")["status"] = "inactive"
    twilio_fake.sim("8988307000000000002")["fleet_sid"] = twilio_fake.fleet("simconsole-paused")["sid"]
    twilio_fake.sim("8988307000000000003").update(status="new", fleet_sid=None)

    sims = {sim.iccid: sim for sim in adapter.sims()}

    assert len(sims) == 2100
    assert [(s.target, s.carrier_status) for s in (sims[f"898830700000000000{n}"] for n in range(4))] == [
        (Target.ACTIVE, "active (simconsole-active)"),
        (Target.SUSPENDED, "inactive (simconsole-active)"),
        (Target.PAUSED, "active (simconsole-paused)"),
        (None, "new"),
    ]
    pages = [r[2] for r in sent(twilio_fake) if r[1] == "/v1/Sims"]
    assert [(p["PageSize"], p.get("Page")) for p in pages] == [("1000", None), ("1000", "1"), ("1000", "2")]


def test_usage_comes_per_sim_and_hour_with_ids_that_do_not_change(twilio_fake, adapter):
    other = "89883070000000000025"
    sid = twilio_fake.add_sim(ICCID, status="active", fleet="simconsole-active")
    twilio_fake.add_sim(other, status="active", fleet="simconsole-active")
    ten = datetime(2026, 12, 7, 10, tzinfo=UTC)
    for start in (ten, ten + timedelta(hours=1), ten + timedelta(hours=2)):
        twilio_fake.add_usage(ICCID, start, start + timedelta(hours=1), upload=1000, download=9000)
        twilio_fake.add_usage(other, start, start + timedelta(hours=1), upload=1, download=1)

    # Until 12:30: the 12:00 hour has not ended, it is read next time.
    rows = list(adapter.usage_records(iccids=[ICCID], since=ten, until=ten + timedelta(hours=2, minutes=30)))

    assert [(r.record_id, r.iccid, r.started_at, r.ended_at, r.bytes_up, r.bytes_down) for r in rows] == [
        (f"twilio:{sid}:20261207T1000", ICCID, ten, ten + timedelta(hours=1), 1000, 9000),
        (f"twilio:{sid}:20261207T1100", ICCID, ten + timedelta(hours=1), ten + timedelta(hours=2), 1000, 9000),
    ]
    usage = [r[2] for r in sent(twilio_fake) if r[1] == "/v1/UsageRecords"]
    assert usage == [
        {"Group": "sim", "Granularity": "hour", "StartTime": "2026-12-07T10:00:00Z", "EndTime": "2026-12-07T13:30:00Z", "PageSize": "1000"}
    ]
    again = list(adapter.usage_records(iccids=[ICCID], since=ten, until=ten + timedelta(hours=3)))
    assert [r.record_id for r in again] == [r.record_id for r in rows] + [f"twilio:{sid}:20261207T1200"]


def test_the_fake_refuses_a_request_outside_twilios_description(twilio_fake, adapter):
    """The net the other tests rely on: a field the API does not take is a violation."""
    sid = twilio_fake.add_sim(ICCID, status="active", fleet="simconsole-active")
    client = adapter._client()
    with pytest.raises(Exception, match="not allowed by the API description"):
        client.supersim.v1.sims(sid).update(status="paused")  # not one of ready, active, inactive
    with pytest.raises(Exception, match="form fields not in the description: DataLimit"):
        client.request("POST", f"{twilio_fake.url}/v1/Sims/{sid}", data={"DataLimit": "5"}, auth=(ACCOUNT_SID, "x"))
        raise Exception(twilio_fake.violations[-1])
    assert len(twilio_fake.violations) == 2
    twilio_fake.violations.clear()


# --- The push worker, end to end -------------------------------------------------------------------


@pytest.fixture
def twilio_account(product, twilio_settings, twilio_credentials):
    return CarrierAccount.objects.create(
        product=product, name="Twilio US", adapter="twilio", settings=twilio_settings, credentials=encrypt(twilio_credentials)
    )


def test_a_deactivation_reaches_twilio_through_the_push_worker(twilio_fake, twilio_account, product, make_sim):
    sim = make_sim(product, carrier_account=twilio_account)
    twilio_fake.add_fleet("simconsole-5mb", data_limit=5)
    twilio_fake.add_sim(sim.iccid, status="active", fleet="simconsole-5mb")
    assert isinstance(adapter_for(twilio_account), TwilioSuperSimAdapter)

    apply_action(sims=sim, action=Action.DEACTIVATE, actor=ADMIN)
    report = push(account_key=twilio_account.pk)

    assert (report.sent, report.synced, report.refused) == (1, 1, 0)
    assert twilio_fake.state(sim.iccid) == ("inactive", "simconsole-5mb")
    sim.refresh_from_db()
    assert (sim.state, sim.network_status, sim.network_error) == (State.SUSPENDED, NetworkStatus.SYNCED, "")


def test_twilio_down_leaves_the_change_pending_with_a_retry(twilio_fake, twilio_account, product, make_sim):
    sim = make_sim(product, carrier_account=twilio_account)
    twilio_fake.add_sim(sim.iccid, status="active", fleet="simconsole-active")
    twilio_fake.fail(503, times=10)

    apply_action(sims=sim, action=Action.DEACTIVATE, actor=ADMIN)
    report = push(account_key=twilio_account.pk)

    assert report.synced == 0 and "Twilio answered with an error (503)" in report.unavailable
    assert twilio_fake.state(sim.iccid)[0] == "active"
    sim.refresh_from_db()
    assert (sim.state, sim.network_status, sim.network_attempts) == (State.SUSPENDED, NetworkStatus.PENDING, 1)
    assert sim.network_retry_at is not None and "Twilio answered with an error (503)" in sim.network_error
    twilio_account.refresh_from_db()
    assert twilio_account.last_failure_at is not None


def test_a_sim_twilio_refuses_shows_twilios_reason(twilio_fake, twilio_account, product, make_sim):
    sims = [make_sim(product, carrier_account=twilio_account, iccid=make_iccid()) for _ in range(2)]
    for sim in sims:
        twilio_fake.add_sim(sim.iccid, status="active", fleet="simconsole-active")
    twilio_fake.lock_sim(sims[1].iccid)

    apply_action(sims=[s.pk for s in sims], action=Action.DEACTIVATE, actor=ADMIN)
    push(account_key=twilio_account.pk)

    statuses = {s.iccid: (s.network_status, s.network_error) for s in Sim.objects.filter(pk__in=[s.pk for s in sims])}
    assert statuses == {
        sims[0].iccid: (NetworkStatus.SYNCED, ""),
        sims[1].iccid: (NetworkStatus.FAILED, "The Super SIM is being transferred to another account and cannot be updated now."),
    }


@pytest.mark.parametrize(
    ("start", "action", "extra", "at_twilio"),
    [
        (State.ACTIVE, Action.PAUSE, {}, ("active", "simconsole-paused")),
        (State.PAUSED, Action.UNPAUSE, {}, ("active", "simconsole-5mb")),
        (State.ACTIVE, Action.DEACTIVATE, {}, ("inactive", "simconsole-active")),
        (State.SUSPENDED, Action.REACTIVATE, {}, ("active", "simconsole-5mb")),
        (State.ACTIVE, Action.REMOVE, {}, ("inactive", "simconsole-active")),
        (State.ACTIVE, Action.TERMINATE, {}, ("inactive", "simconsole-active")),
        (State.ACTIVE, Action.SET_DATA_LIMIT, {"data_limit_mb": 20}, ("active", "simconsole-20mb")),
    ],
)
def test_each_action_reaches_twilio_through_the_push_worker(twilio_fake, twilio_account, product, make_sim, start, action, extra, at_twilio):
    sim = make_sim(product, state=start, carrier_account=twilio_account)
    twilio_fake.add_sim(sim.iccid, status="inactive" if start == State.SUSPENDED else "active", fleet="simconsole-active")

    apply_action(sims=sim, action=action, actor=ADMIN, **extra)
    push(account_key=twilio_account.pk)

    assert twilio_fake.state(sim.iccid) == at_twilio
    sim.refresh_from_db()
    assert sim.network_status == NetworkStatus.SYNCED


@pytest.mark.parametrize("status", [404, 400])
def test_a_listing_answered_with_a_4xx_is_unavailable_not_a_crash(twilio_fake, adapter, status):
    """A wrong api_base_url (a server that is not Twilio's) answers a listing with a 404: Test connection,
    a claim's lookup and reconciliation say the carrier could not be asked, instead of raising Twilio's
    library's own exception (a 500 on the Settings page)."""
    twilio_fake.fail(status, times=3)
    with pytest.raises(CarrierUnavailable, match=rf"Twilio answered a listing with HTTP {status}: check api_base_url"):
        adapter.check()
    with pytest.raises(CarrierUnavailable, match=rf"HTTP {status}"):
        adapter.holds([ICCID])
    with pytest.raises(CarrierUnavailable, match=rf"HTTP {status}"):
        list(adapter.sims())

"""Particle's real JavaScript client (particle-api-js, from npm) against a live test server.

Version 12.0.3 keeps listSIMs, getSIMDataUsage, getFleetDataUsage, checkSIM and removeSIM; 11.1.7
also has activateSIM, deactivateSIM, reactivateSIM and updateSIM. Both are installed side by side
in tests/clients/particle/ (npm aliases `particle12` and `particle11`; scripts/bootstrap.sh runs
`npm ci` there). tests/clients/particle/call.js calls one method and prints its outcome as JSON;
each test then reads the console's database.
"""

import json
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from api.models import ApiToken, Scope
from api.tokens import create_token
from imports.importing import run_import
from imports.models import ImportJob
from sims.models import Sim, SimDailyUsage, SimEvent, State
from sims.usage import UsageRow, ingest_usage
from tests.conftest import make_iccid

CLIENTS = Path(__file__).resolve().parents[1] / "clients" / "particle"
ALL = list(Scope.values)


@pytest.fixture
def particle_js(live_server):
    """Runs a particle-api-js method against the live server: particle_js(version, token, method, **options)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not found on PATH: particle-api-js needs Node.js (Debian package nodejs)")
    if not (CLIENTS / "node_modules" / "particle12").is_dir() or not (CLIENTS / "node_modules" / "particle11").is_dir():
        pytest.skip(f"particle-api-js is not installed in {CLIENTS / 'node_modules'}: run `npm ci` there (./test does)")

    def call(version: int, token: str, method: str, **options) -> dict:
        done = subprocess.run(
            [node, "call.js", str(version), live_server.url, token, method, json.dumps(options)],
            cwd=CLIENTS, capture_output=True, text=True, timeout=60, check=True,
        )
        return json.loads(done.stdout)

    return call


@pytest.fixture
def product_token(product, teammate) -> tuple[ApiToken, str]:
    return create_token(user=teammate, name="fleet-script", product=product, scopes=ALL)


@pytest.fixture
def own_token(teammate) -> tuple[ApiToken, str]:
    return create_token(user=teammate, name="bench", product=None, scopes=ALL)


def _events(sim: Sim) -> list[tuple[str, str, str, str, str]]:
    return list(
        SimEvent.objects.filter(sim=sim).order_by("id").values_list("action", "from_state", "to_state", "actor_kind", "actor_name")
    )


# particle-api-js 12.0.3


def test_12_lists_a_products_sims_by_page_and_by_part_of_the_iccid(particle_js, product, product_token, make_sim):
    sims = sorted((make_sim(product, home_country="US") for _ in range(3)), key=lambda s: s.iccid)
    make_sim(product, state=State.PAUSED)
    _, secret = product_token
    listed = particle_js(12, secret, "listSIMs", product="acme")
    assert listed["ok"] and listed["statusCode"] == 200
    assert listed["body"]["meta"] == {"total_pages": 1} and len(listed["body"]["sims"]) == 4
    first = listed["body"]["sims"][0]
    assert (first["iccid"], first["_id"], first["status"], first["base_country_code"]) == (sims[0].iccid, sims[0].iccid, "active", "US")
    assert "inactive_data_limit_reached" in {s["status"] for s in listed["body"]["sims"]}
    page = particle_js(12, secret, "listSIMs", product=str(product.pk), perPage=2, page=2)["body"]
    assert page["meta"] == {"total_pages": 2} and len(page["sims"]) == 2
    found = particle_js(12, secret, "listSIMs", product="acme", iccid=sims[1].iccid[-7:])["body"]["sims"]
    assert [s["iccid"] for s in found] == [sims[1].iccid]


def test_12_lists_no_sim_for_a_device_filter_until_sims_have_devices(particle_js, product, product_token, make_sim):
    make_sim(product), make_sim(product)
    _, secret = product_token
    for device in ({"deviceId": "e00fce681f2d0c1e5b3a4c2d"}, {"deviceName": "boiler-room"}):
        listed = particle_js(12, secret, "listSIMs", product="acme", **device)
        assert listed["ok"] and listed["body"] == {"sims": [], "meta": {"total_pages": 0}}


def test_12_over_the_limit_the_client_rejects_with_the_429_and_its_message(particle_js, product, product_token, settings):
    settings.API_RATE_LIMIT = 1
    _, secret = product_token
    assert particle_js(12, secret, "listSIMs", product="acme")["ok"]
    refused = particle_js(12, secret, "listSIMs", product="acme")
    assert (refused["ok"], refused["statusCode"], refused["body"]["ok"]) == (False, 429, False)
    assert "Too many requests for this token: over 1 requests" in refused["body"]["error"]


def test_12_reads_one_sims_usage_and_the_fleets(particle_js, product, product_token, make_sim):
    sim, other = make_sim(product), make_sim(product)
    now = timezone.now()
    today, since = now.date(), max(now - timedelta(minutes=10), now.replace(hour=0, minute=0, second=0, microsecond=0))
    report = ingest_usage(
        [UsageRow(record_id=f"r-{s.iccid}", iccid=s.iccid, started_at=since, ended_at=now, bytes_up=0, bytes_down=b, sms=0)
         for s, b in ((sim, 980_000), (other, 20_000))],
        now=now,
    )
    assert report.ingested == 2
    _, secret = product_token
    usage = particle_js(12, secret, "getSIMDataUsage", product="acme", iccid=sim.iccid)
    assert usage["ok"] and usage["body"]["iccid"] == sim.iccid
    assert usage["body"]["usage_by_day"][-1] == {"date": today.isoformat(), "mbs_used": 0.98, "mbs_used_cumulative": 0.98}
    fleet = particle_js(12, secret, "getFleetDataUsage", product="acme")["body"]
    assert fleet["total_active_sim_cards"] == 2 and fleet["total_mbs_used"] == 1.0
    assert fleet["usage_by_day"][-1]["date"] == today.isoformat()


def test_12_checks_whether_a_sim_can_be_imported(particle_js, product, product_token, other_product, make_sim):
    _, secret = product_token
    assert particle_js(12, secret, "checkSIM", iccid=make_iccid()) == {"ok": True, "statusCode": 204, "body": {}}
    already = particle_js(12, secret, "checkSIM", iccid=make_sim(product).iccid)
    assert (already["ok"], already["statusCode"]) == (False, 409)
    taken = particle_js(12, secret, "checkSIM", iccid=make_sim(other_product).iccid)
    assert (taken["ok"], taken["statusCode"]) == (False, 403)


def test_12_removes_a_sim_from_the_product_as_the_token(particle_js, product, product_token, make_sim):
    sim = make_sim(product)
    token, secret = product_token
    assert particle_js(12, secret, "removeSIM", product="acme", iccid=sim.iccid) == {"ok": True, "statusCode": 200, "body": {"ok": True}}
    sim.refresh_from_db()
    assert (sim.product, sim.state) == (None, State.SUSPENDED)
    assert _events(sim) == [("remove", "active", "suspended", "token", token.actor_name)]


def test_12_lists_reads_and_releases_a_developers_own_sims(particle_js, teammate, own_token, make_sim):
    mine = make_sim(None, owner_user=teammate, home_country="DE")
    SimDailyUsage.objects.create(sim=mine, product=None, day=timezone.now().date(), bytes=2_000_000)
    token, secret = own_token
    listed = particle_js(12, secret, "listSIMs")["body"]["sims"]
    assert [(s["iccid"], s["status"], s["base_country_code"]) for s in listed] == [(mine.iccid, "active", "DE")]
    assert particle_js(12, secret, "getSIMDataUsage", iccid=mine.iccid)["body"]["usage_by_day"][-1]["mbs_used_cumulative"] == 2.0
    assert particle_js(12, secret, "removeSIM", iccid=mine.iccid)["ok"]
    mine.refresh_from_db()
    assert (mine.owner_user, mine.state) == (None, State.SUSPENDED)
    assert _events(mine)[-1][3:] == ("token", token.actor_name)


def test_12_sees_a_bad_token_as_401_and_has_no_activation_methods(particle_js, product):
    refused = particle_js(12, "simc_not-a-token", "listSIMs", product="acme")
    assert (refused["ok"], refused["statusCode"], refused["body"]["error"]) == (False, 401, "invalid_token")
    for method in ("activateSIM", "deactivateSIM", "reactivateSIM", "updateSIM"):
        assert particle_js(12, "simc_x", method)["error"] == f"particle-api-js 12 has no {method}"


# particle-api-js 11.1.7


def test_11_imports_sims_into_a_product_as_a_queued_job_that_then_runs(particle_js, prices, product, teammate, product_token):
    iccids = [make_iccid(), make_iccid()]
    _, secret = product_token
    answer = particle_js(11, secret, "activateSIM", product="acme", iccids=[*iccids, "8901260000000000018"], country="US")
    assert answer["ok"] and answer["statusCode"] == 200 and answer["body"]["ok"] is True
    job = ImportJob.objects.get()
    assert (job.status, job.valid, job.invalid, job.country.code, job.created_by) == (ImportJob.Status.QUEUED, 2, 1, "US", teammate)
    assert not Sim.objects.exists()  # queued: the worker activates them
    run_import(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    sims = Sim.objects.filter(iccid__in=iccids)
    assert {(s.product_id, s.state, s.home_country.code) for s in sims} == {(product.pk, State.ACTIVE, "US")}
    # The job is the token creator's (their rights); its events name the token, as every API change's do.
    token, _ = product_token
    assert set(SimEvent.objects.filter(sim__in=sims).values_list("action", "actor_kind", "actor_name")) == {("import", "token", token.actor_name)}


def test_11_import_without_a_country_is_refused_with_a_message(particle_js, prices, product, product_token):
    _, secret = product_token
    answer = particle_js(11, secret, "activateSIM", product="acme", iccids=[make_iccid()])
    assert (answer["ok"], answer["statusCode"]) == (False, 400)
    assert "ISO 3166-1 alpha-2" in answer["body"]["error"]
    assert not ImportJob.objects.exclude(status=ImportJob.Status.DRAFT).exists()


def test_11_activates_a_developers_own_sim(particle_js, prices, teammate, own_token):
    iccid = make_iccid()
    token, secret = own_token
    assert particle_js(11, secret, "activateSIM", iccid=iccid, country="DE") == {"ok": True, "statusCode": 200, "body": {"ok": True}}
    sim = Sim.objects.get(iccid=iccid)
    assert (sim.owner_user, sim.product, sim.state, sim.home_country.code) == (teammate, None, State.ACTIVE, "DE")
    assert _events(sim)[-1][2:] == ("active", "token", token.actor_name)


def test_11_deactivates_reactivates_and_sets_the_data_limit(particle_js, product, product_token, make_sim):
    sim = make_sim(product)
    token, secret = product_token
    assert particle_js(11, secret, "deactivateSIM", product="acme", iccid=sim.iccid)["body"] == {"ok": True}
    sim.refresh_from_db()
    assert sim.state == State.SUSPENDED
    assert particle_js(11, secret, "reactivateSIM", product="acme", iccid=sim.iccid, mbLimit=20)["body"] == {"ok": True}
    sim.refresh_from_db()
    assert (sim.state, sim.data_limit_mb) == (State.ACTIVE, 20)
    assert particle_js(11, secret, "updateSIM", product="acme", iccid=sim.iccid, mbLimit=30)["body"] == {"ok": True}
    sim.refresh_from_db()
    assert sim.data_limit_mb == 30
    assert _events(sim) == [
        ("deactivate", "active", "suspended", "token", token.actor_name),
        ("set_data_limit", "suspended", "suspended", "token", token.actor_name),
        ("reactivate", "suspended", "active", "token", token.actor_name),
        ("set_data_limit", "active", "active", "token", token.actor_name),
    ]


def test_11_unpauses_a_sim_paused_at_its_limit_with_a_higher_limit(particle_js, product, product_token, make_sim):
    sim = make_sim(product, state=State.PAUSED, data_limit_mb=1)
    SimDailyUsage.objects.create(sim=sim, product=product, day=timezone.now().date(), bytes=1_500_000)
    _, secret = product_token
    assert particle_js(11, secret, "reactivateSIM", product="acme", iccid=sim.iccid, mbLimit=5)["ok"]
    sim.refresh_from_db()
    assert (sim.state, sim.data_limit_mb) == (State.ACTIVE, 5)


def test_11_an_illegal_change_is_an_error_the_client_reports(particle_js, product, product_token, make_sim):
    dead = make_sim(product, state=State.TERMINATED)
    _, secret = product_token
    answer = particle_js(11, secret, "reactivateSIM", product="acme", iccid=dead.iccid)
    assert (answer["ok"], answer["statusCode"]) == (False, 400) and "terminated" in answer["body"]["error"]

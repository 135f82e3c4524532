"""Particle's SIM API under /v1/: shapes, scopes, and every bad input answered in JSON."""

import json
import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from api.models import Scope
from api.tokens import create_token, revoke_token
from imports.models import ImportJob
from products.models import Membership
from sims.models import SimDailyUsage, SimEvent, State
from tests.conftest import make_iccid, make_user, publish_queued_events

ALL = list(Scope.values)


@pytest.fixture
def token(product, teammate):
    return create_token(user=teammate, name="factory", product=product, scopes=ALL)[1]


def call(client, method: str, path: str, secret: str | None, body=None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    data = json.dumps(body) if body is not None and not isinstance(body, str) else body
    return getattr(client, method.lower())(path, data=data, content_type="application/json", **headers, **extra)


def test_no_wrong_revoked_or_expired_token_gets_401_in_particles_shape(client, product, teammate):
    token, secret = create_token(user=teammate, name="t", product=product, scopes=ALL)
    assert call(client, "GET", "/v1/products/acme/sims", None).json()["error"] == "invalid_token"
    assert call(client, "GET", "/v1/products/acme/sims", "simc_wrong").status_code == 401
    revoke_token(token=token)
    assert call(client, "GET", "/v1/products/acme/sims", secret).status_code == 401
    _, expiring = create_token(user=teammate, name="t", product=product, scopes=ALL, expires_at=timezone.now() + timedelta(seconds=1))
    from api.models import ApiToken

    ApiToken.objects.filter(name="t", revoked_at=None).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = call(client, "GET", "/v1/products/acme/sims", expiring)
    assert response.status_code == 401 and "expired" in response.json()["error_description"]


def test_a_token_stops_working_when_its_creator_leaves_the_product(client, product, teammate, token):
    Membership.objects.filter(user=teammate).delete()
    assert call(client, "GET", "/v1/products/acme/sims", token).status_code == 401


def test_the_token_may_ride_in_the_query_string(client, product, token, sim):
    response = client.get(f"/v1/products/acme/sims?access_token={token}")
    assert response.status_code == 200 and response.json()["sims"][0]["iccid"] == sim.iccid


def test_list_finds_by_part_of_the_iccid_and_pages(client, product, token, make_sim):
    sims = sorted((make_sim(product, home_country="DE") for _ in range(30)), key=lambda s: s.iccid)
    page = call(client, "GET", "/v1/products/acme/sims?per_page=25&page=2", token).json()
    assert page["meta"] == {"total_pages": 2}
    assert [s["iccid"] for s in page["sims"]] == [s.iccid for s in sims[25:]]
    first = page["sims"][0]
    assert first["_id"] == first["iccid"] and first["status"] == "active" and first["mb_limit"] == 5
    assert first["base_country_code"] == "DE"
    found = call(client, "GET", f"/v1/products/{product.pk}/sims?iccid={sims[7].iccid[-9:]}", token).json()
    assert sims[7].iccid in [s["iccid"] for s in found["sims"]]


@pytest.fixture
def in_devices(product, make_sim):
    """Three SIMs: two in devices (one named boiler-room), one in none."""
    from devices.assignment import assign_sim
    from devices.models import Device

    boiler, attic, loose = (make_sim(product) for _ in range(3))
    assign_sim(sim=boiler, device=Device.objects.create(product=product, device_id="e00fce681f2d0c1e5b3a4c2d", name="boiler-room"), source="hand")
    assign_sim(sim=attic, device=Device.objects.create(product=product, device_id="e00fce681f2d0c1e5b3a4c2e", name="attic"), source="hand")
    return boiler, attic, loose


@pytest.mark.parametrize("device_filter", ["deviceId=e00fce681f2d0c1e5b3a4c2d", "deviceId=E00FCE681F2D0C1E5B3A4C2D", "deviceName=boiler-room", "deviceId=e00fce681f2d0c1e5b3a4c2d&deviceName=boiler-room"])
def test_a_device_filter_finds_the_sim_in_that_device_with_its_device(client, product, token, in_devices, device_filter):
    boiler = in_devices[0]
    response = call(client, "GET", f"/v1/products/acme/sims?{device_filter}", token)
    assert response.status_code == 200
    body = response.json()
    assert [s["iccid"] for s in body["sims"]] == [boiler.iccid] and body["meta"] == {"total_pages": 1}
    assert body["sims"][0]["last_device_id"] == "e00fce681f2d0c1e5b3a4c2d"
    assert body["sims"][0]["last_device_name"] == "boiler-room"


@pytest.mark.parametrize(
    "device_filter", ["deviceId=e00fce681f2d0c1e5b3a4c2f", "deviceName=cellar", "deviceId=e00fce681f2d0c1e5b3a4c2d&deviceName=attic", "deviceId=x&iccid=89"]
)
def test_a_device_filter_that_matches_nothing_returns_no_sim(client, product, token, in_devices, device_filter):
    response = call(client, "GET", f"/v1/products/acme/sims?{device_filter}&per_page=2", token)
    assert response.status_code == 200
    assert response.json() == {"sims": [], "meta": {"total_pages": 0}}, "a script acting on sims[0] must find nothing"


def test_a_device_of_another_product_is_not_found(client, product, other_product, token, make_sim):
    from devices.assignment import assign_sim
    from devices.models import Device

    theirs = Device.objects.create(product=other_product, device_id="e00fce681f2d0c1e5b3a4c2d", name="boiler-room")
    assign_sim(sim=make_sim(other_product), device=theirs, source="hand")
    make_sim(product)
    assert call(client, "GET", "/v1/products/acme/sims?deviceName=boiler-room", token).json()["sims"] == []


def test_every_sim_carries_its_device_or_null_in_few_queries(client, product, token, in_devices, make_sim, django_assert_max_num_queries):
    for _ in range(20):
        make_sim(product)
    boiler, attic, loose = in_devices
    with django_assert_max_num_queries(12):
        sims = {s["iccid"]: s for s in call(client, "GET", "/v1/products/acme/sims?per_page=100", token).json()["sims"]}
    assert sims[attic.iccid]["last_device_id"] == "e00fce681f2d0c1e5b3a4c2e" and sims[attic.iccid]["last_device_name"] == "attic"
    assert sims[loose.iccid]["last_device_id"] is None and sims[loose.iccid]["last_device_name"] is None
    one = call(client, "GET", f"/v1/products/acme/sims/{boiler.iccid}", token).json()
    assert one["last_device_name"] == "boiler-room"


def test_an_empty_device_filter_filters_nothing(client, product, token, sim):
    found = call(client, "GET", "/v1/products/acme/sims?deviceId=&deviceName=", token).json()
    assert [s["iccid"] for s in found["sims"]] == [sim.iccid]


def test_states_map_onto_particles_statuses(client, product, token, make_sim):
    for state in (State.PAUSED, State.SUSPENDED, State.ISSUED):
        make_sim(product, state=state)
    statuses = {s["status"] for s in call(client, "GET", "/v1/products/acme/sims", token).json()["sims"]}
    assert statuses == {"inactive_data_limit_reached", "inactive_user_deactivated", "never_before_activated"}


def test_import_queues_the_consoles_import_job(client, product, token, teammate, django_capture_on_commit_callbacks):
    iccids = [make_iccid(), make_iccid(), "8901260000000000018"]
    with django_capture_on_commit_callbacks() as callbacks:
        response = call(client, "POST", "/v1/products/acme/sims", token, {"sims": iccids, "country": "US"})
    assert response.status_code == 200 and response.json()["ok"] is True
    job = ImportJob.objects.get()
    assert (job.status, job.valid, job.invalid, job.country.code, job.created_by) == ("queued", 2, 1, "US", teammate)
    assert len(callbacks) == 1  # the worker's task


def test_an_import_through_the_api_names_the_token_in_its_events_its_record_and_its_webhooks(
    client, product, token, teammate, make_sim, django_capture_on_commit_callbacks
):
    from api.models import ApiToken
    from imports.importing import run_import
    from webhooks.models import Webhook, WebhookDelivery

    Webhook.objects.create(product=product, url="https://hooks.example.com/sims", secret="s" * 40)
    in_inventory = make_sim(None, state=State.ISSUED)
    own = make_sim(None, owner_user=teammate)  # the token's creator's own SIM, transferred
    with django_capture_on_commit_callbacks():
        call(client, "POST", "/v1/products/acme/sims", token, {"sims": [make_iccid(), in_inventory.iccid, own.iccid], "country": "US"})
    job = run_import(job_id=ImportJob.objects.get().pk)
    assert (job.activated, job.transferred) == (2, 1)
    name = ApiToken.objects.get().actor_name

    actors = set(SimEvent.objects.filter(action="import").values_list("actor_kind", "actor_name", "actor_user"))
    assert actors == {("token", name, teammate.pk)}
    assert job.started_by == f"API token {name}"
    client.force_login(teammate)
    assert f"Started by API token {name}" in client.get(f"/products/acme/import/{job.pk}/").content.decode()
    publish_queued_events()
    payloads = [json.loads(body) for body in WebhookDelivery.objects.order_by("id").values_list("body", flat=True)]
    assert {p["type"] for p in payloads} == {"sim.events", "import.finished"}
    assert all(p["actor"] == {"kind": "token", "name": name} for p in payloads)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"sims": ["8901260000000000017"]}, "ISO 3166-1 alpha-2"),
        ({"sims": ["8901260000000000017"], "country": "Atlantis"}, "ISO 3166-1 alpha-2"),
        ({"sims": "8901260000000000017", "country": "US"}, "sims must be a list"),
        ({"sims": [17], "country": "US"}, "sims must be a list"),
        ({"sims": ["12"], "country": "US"}, "There is no valid ICCID"),
        ({"sims": ["8901260000000000017"], "country": "US", "colour": "red"}, "Unknown field colour"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
    ],
)
def test_a_bad_import_is_400_with_a_json_message_and_imports_nothing(client, product, token, body, message):
    response = call(client, "POST", "/v1/products/acme/sims", token, body)
    assert response.status_code == 400
    assert response.json()["ok"] is False and message in response.json()["error"]
    assert not ImportJob.objects.exclude(status="draft").exists()


def test_deactivate_reactivate_and_limit_write_the_same_events_as_the_console(client, product, token, sim):
    path = f"/v1/products/acme/sims/{sim.iccid}"
    assert call(client, "PUT", path, token, {"action": "deactivate"}).json() == {"ok": True}
    assert call(client, "PUT", path, token, {"action": "reactivate", "mb_limit": 20}).json() == {"ok": True}
    assert call(client, "PUT", path, token, {"mb_limit": 30}).status_code == 200
    sim.refresh_from_db()
    assert (sim.state, sim.data_limit_mb) == (State.ACTIVE, 30)
    events = list(SimEvent.objects.filter(sim=sim).order_by("id").values_list("action", "from_state", "to_state", "actor_kind", "actor_name"))
    assert [e[:3] for e in events] == [
        ("deactivate", "active", "suspended"),
        ("set_data_limit", "suspended", "suspended"),
        ("reactivate", "suspended", "active"),
        ("set_data_limit", "active", "active"),
    ]
    assert all(kind == "token" and name.startswith("factory (simc_") for *_, kind, name in events)


def test_an_illegal_change_is_400_naming_the_state(client, product, token, make_sim):
    dead = make_sim(product, state=State.TERMINATED)
    response = call(client, "PUT", f"/v1/products/acme/sims/{dead.iccid}", token, {"action": "reactivate"})
    assert response.status_code == 400 and "terminated" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [({"mb_limit": -1}, "mb_limit must be a whole number"), ({"mb_limit": "lots"}, "mb_limit must be a whole number"),
     ({"action": "explode"}, "Unknown action"), ({}, "Nothing to do")],
)
def test_a_bad_update_is_400_and_changes_nothing(client, product, token, sim, body, message):
    response = call(client, "PUT", f"/v1/products/acme/sims/{sim.iccid}", token, body)
    assert response.status_code == 400 and message in response.json()["error"]
    assert not SimEvent.objects.exists()


def test_remove_releases_the_sim_and_a_sim_of_another_product_is_404(client, product, other_product, token, sim, make_sim):
    assert call(client, "DELETE", f"/v1/products/acme/sims/{sim.iccid}", token).json() == {"ok": True}
    sim.refresh_from_db()
    assert (sim.product, sim.state) == (None, State.SUSPENDED)
    foreign = make_sim(other_product)
    assert call(client, "DELETE", f"/v1/products/acme/sims/{foreign.iccid}", token).status_code == 404


def test_usage_of_one_sim_and_of_the_fleet(client, product, token, sim):
    today = timezone.now().date()
    SimDailyUsage.objects.create(sim=sim, product=product, day=today, bytes=980_000)
    usage = call(client, "GET", f"/v1/products/acme/sims/{sim.iccid}/data_usage", token).json()
    assert usage["iccid"] == sim.iccid
    assert usage["usage_by_day"][-1] == {"date": today.isoformat(), "mbs_used": 0.98, "mbs_used_cumulative": 0.98}
    fleet = call(client, "GET", "/v1/products/acme/sims/data_usage", token).json()
    assert fleet["total_active_sim_cards"] == 1 and "usage_by_day" in fleet and "total_mbs_used" in fleet


def test_scopes_are_enforced(client, product, teammate, sim):
    _, secret = create_token(user=teammate, name="reader", product=product, scopes=[Scope.SIMS_LIST])
    assert call(client, "GET", "/v1/products/acme/sims", secret).status_code == 200
    response = call(client, "PUT", f"/v1/products/acme/sims/{sim.iccid}", secret, {"action": "deactivate"})
    assert response.status_code == 403 and "sims:update" in response.json()["error"]
    sim.refresh_from_db()
    assert sim.state == State.ACTIVE


def test_another_product_is_403_when_the_creator_is_in_it_and_404_when_not(client, product, other_product, teammate, token):
    assert call(client, "GET", "/v1/products/other/sims", token).status_code == 404
    Membership.objects.create(user=teammate, product=other_product)
    response = call(client, "GET", "/v1/products/other/sims", token)
    assert response.status_code == 403 and response.json()["ok"] is False


def test_the_wrong_method_is_405_in_json(client, product, token):
    response = call(client, "PATCH", "/v1/products/acme/sims", token, {})
    assert response.status_code == 405 and "GET, POST" in response.json()["error"]


def test_a_usage_report_script_of_hundreds_of_calls_in_one_instant_is_not_refused_at_the_default(client, product, token, make_sim):
    """particle-api-js does not handle a 429: the script dies. This one pages through the fleet and reads
    each SIM's usage, hundreds of calls with the clock stopped (faster than any real loop)."""
    for _ in range(300):
        make_sim(product)
    with time_machine.travel(timezone.now(), tick=False):
        iccids, page, pages = [], 1, 1
        while page <= pages:
            listed = call(client, "GET", f"/v1/products/acme/sims?page={page}", token)
            assert listed.status_code == 200, listed.content
            iccids += [s["iccid"] for s in listed.json()["sims"]]
            pages, page = listed.json()["meta"]["total_pages"], page + 1
        for iccid in iccids:
            usage = call(client, "GET", f"/v1/products/acme/sims/{iccid}/data_usage", token)
            assert usage.status_code == 200, f"refused after {len(iccids) // 25 + iccids.index(iccid)} calls: {usage.content}"
    assert len(iccids) == 300
    assert int(usage["X-RateLimit-Limit"]) >= 10_000 and int(usage["X-RateLimit-Remaining"]) == int(usage["X-RateLimit-Limit"]) - 312


def test_a_burst_over_the_limit_gets_429_in_particles_shape_saying_when_to_retry(client, product, token, settings):
    settings.API_RATE_LIMIT, settings.API_RATE_LIMIT_WINDOW_SECONDS = 5, 300
    with time_machine.travel(timezone.now(), tick=False) as clock:
        now = time.time()
        responses = [call(client, "GET", "/v1/products/acme/sims", token) for _ in range(7)]
        assert [r.status_code for r in responses] == [200] * 5 + [429] * 2
        assert [r["X-RateLimit-Remaining"] for r in responses] == ["4", "3", "2", "1", "0", "0", "0"]
        limited = responses[-1]
        wait = int(limited["Retry-After"])
        assert 1 <= wait <= 300 and int(limited["X-RateLimit-Reset"]) == int(now) + wait  # a Unix time
        assert limited["X-RateLimit-Limit"] == "5"
        body = limited.json()
        assert set(body) == {"ok", "error"} and body["ok"] is False
        assert "5 requests in 5 minutes" in body["error"] and f"{wait} seconds" in body["error"]
        assert call(client, "GET", "/v1/products/acme/sims", "simc_wrong").json()["error"] == "invalid_token"
        clock.shift(wait)
        assert call(client, "GET", "/v1/products/acme/sims", token).status_code == 200


@pytest.fixture
def own_token(teammate):
    return create_token(user=teammate, name="bench", product=None, scopes=ALL)[1]


def test_check_sim_says_whether_it_can_be_claimed(client, own_token, teammate, make_sim, product):
    assert call(client, "HEAD", f"/v1/sims/{make_iccid()}", own_token).status_code == 204
    assert call(client, "HEAD", f"/v1/sims/{make_sim(None, state=State.ISSUED).iccid}", own_token).status_code == 204
    assert call(client, "HEAD", f"/v1/sims/{make_sim(product).iccid}", own_token).status_code == 403
    assert call(client, "HEAD", f"/v1/sims/{make_sim(None, owner_user=teammate).iccid}", own_token).status_code == 409
    assert call(client, "HEAD", f"/v1/sims/{make_sim(None, state=State.TERMINATED).iccid}", own_token).status_code == 403
    assert call(client, "HEAD", "/v1/sims/123", own_token).status_code == 400


def test_a_developer_activates_claims_and_removes_their_own_sim(client, own_token, teammate):
    iccid = make_iccid()
    response = call(client, "PUT", f"/v1/sims/{iccid}", own_token, {"action": "activate", "country": "DE"})
    assert response.json() == {"ok": True}
    listed = call(client, "GET", "/v1/sims", own_token).json()["sims"]
    assert [(s["iccid"], s["status"], s["base_country_code"]) for s in listed] == [(iccid, "active", "DE")]
    assert call(client, "DELETE", f"/v1/sims/{iccid}", own_token).json() == {"ok": True}
    assert call(client, "GET", "/v1/sims", own_token).json() == {"sims": []}


def test_a_product_token_cannot_act_on_own_sims_and_the_reverse(client, token, own_token, teammate, make_sim):
    mine = make_sim(None, owner_user=teammate)
    assert call(client, "GET", f"/v1/sims/{mine.iccid}", token).status_code == 403
    assert call(client, "GET", "/v1/products/acme/sims", own_token).status_code == 403


def test_someone_elses_own_sim_is_refused(client, own_token, make_sim):
    theirs = make_sim(None, owner_user=make_user("stranger"))
    response = call(client, "PUT", f"/v1/sims/{theirs.iccid}", own_token, {"action": "activate", "country": "DE"})
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.owner_user.username == "stranger"


# Found by schemathesis (tests/api/test_fuzz.py): each answered a 500 or an HTML page before.


def test_a_page_far_past_the_end_is_empty_not_a_database_overflow(client, product, token, sim):
    response = call(client, "GET", "/v1/products/acme/sims?page=167593826550145712128", token)
    assert response.status_code == 200 and response.json() == {"sims": [], "meta": {"total_pages": 1}}


def test_too_many_form_fields_is_400_in_json(client, product, token):
    body = "&".join(f"sims={make_iccid()}" for _ in range(1_100)) + "&country=US"
    response = client.post("/v1/products/acme/sims", body, content_type="application/x-www-form-urlencoded", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 400 and "send a long list of ICCIDs as JSON" in response.json()["error"]


def test_too_many_query_parameters_is_400_in_json(client, product, token):
    response = client.get("/v1/products/acme/sims?" + "&".join(f"x{n}=1" for n in range(1_100)), HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 400 and response.json()["ok"] is False


def test_a_body_over_djangos_limit_is_413_in_json(client, product, token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    response = call(client, "POST", "/v1/products/acme/sims", token, {"sims": [make_iccid() for _ in range(100)], "country": "US"})
    assert response.status_code == 413 and "split it" in response.json()["error"]


def test_a_nul_byte_anywhere_is_a_4xx_not_a_database_error(client, product, token, own_token):
    # PostgreSQL refuses NUL in text: each of these was a 500 there.
    assert call(client, "GET", "/v1/products/a%00b/sims", token).status_code == 404
    assert call(client, "GET", "/v1/products/acme/sims/89%00", token).status_code == 404
    assert call(client, "PUT", "/v1/products/acme/sims/89%00", token, {"mb_limit": 3}).status_code == 404
    assert call(client, "GET", "/v1/sims/89%00", own_token).status_code == 404
    response = call(client, "POST", "/v1/products/acme/sims", token, {"sims": ["89\x0001"], "country": "US"})
    assert response.status_code == 400 and "sims must be a list" in response.json()["error"]


def test_a_limit_over_2147_mb_works_and_one_over_the_consoles_maximum_is_400(client, product, token, sim):
    # Found by schemathesis on PostgreSQL: the limit in bytes overflowed a 32-bit integer there.
    path = f"/v1/products/acme/sims/{sim.iccid}"
    assert call(client, "PUT", path, token, {"mb_limit": 5000, "action": "reactivate"}).status_code == 200
    sim.refresh_from_db()
    assert (sim.state, sim.data_limit_mb) == (State.ACTIVE, 5000)
    response = call(client, "PUT", path, token, {"mb_limit": 3_000_000_000})
    assert response.status_code == 400 and "1,000,000" in response.json()["error"]

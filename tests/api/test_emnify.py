"""emnify's SIM API under /api/v1/: authentication, shapes, paging, status changes, and every bad
input answered with emnify's error body, the database checked after each."""

import json
import time
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.utils import timezone

from api.emnify import issue_auth_token
from api.models import ApiToken, Scope
from api.tokens import create_token, revoke_token
from products.models import Membership
from sims.models import Sim, SimEvent, State
from tests.conftest import make_user

ALL = list(Scope.values)
LIST = "/api/v1/sim"


@pytest.fixture
def app_token(product, teammate):
    return create_token(user=teammate, name="factory", product=product, scopes=ALL)[1]


def authenticate(client, application_token) -> str:
    response = client.post("/api/v1/authenticate", {"application_token": application_token}, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()["auth_token"]


@pytest.fixture
def auth(client, app_token):
    return authenticate(client, app_token)


def call(client, method: str, path: str, auth_token: str | None, body=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {auth_token}"} if auth_token else {}
    data = json.dumps(body) if body is not None and not isinstance(body, str) else body
    return getattr(client, method.lower())(path, data=data, content_type="application/json", **headers)


def assert_error(response, status: int, message: str = "") -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error_code", "error_token", "message"} and body["error_code"] == status
    assert message in body["message"]
    return body


def events() -> list[tuple]:
    return list(SimEvent.objects.order_by("id").values_list("action", "from_state", "to_state", "actor_kind", "actor_name"))


# Authentication


def test_authenticate_exchanges_an_application_token_for_an_auth_token(client, product, auth, sim):
    response = call(client, "GET", f"{LIST}/{sim.pk}", auth)
    assert response.status_code == 200 and response.json()["iccid"] == sim.iccid


@pytest.mark.parametrize("secret", ["simc_wrong", "x"])
def test_a_wrong_application_token_is_401_in_emnifys_shape(client, product, secret):
    response = client.post("/api/v1/authenticate", {"application_token": secret}, content_type="application/json")
    assert assert_error(response, 401, "application token")["error_token"] == "unauthorized"


def test_a_revoked_or_expired_application_token_cannot_authenticate(client, product, teammate):
    token, secret = create_token(user=teammate, name="t", product=product, scopes=ALL)
    revoke_token(token=token)
    assert_error(client.post("/api/v1/authenticate", {"application_token": secret}, content_type="application/json"), 401)
    token, secret = create_token(user=teammate, name="t2", product=product, scopes=ALL, expires_at=timezone.now() + timedelta(hours=1))
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(client.post("/api/v1/authenticate", {"application_token": secret}, content_type="application/json"), 401)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{nope", "not valid JSON"),
        ("[1]", "must be a JSON object"),
        ("", "empty"),
        ({}, "application_token must be a string"),
        ({"application_token": 7}, "application_token must be a string"),
        ({"application_token": "simc_x", "colour": "red"}, "Unknown field colour"),
        ({"username": "demo", "password": "pw"}, "application_token only"),
    ],
)
def test_a_malformed_authenticate_is_400(client, product, body, message):
    data = json.dumps(body) if not isinstance(body, str) else body
    assert_error(client.post("/api/v1/authenticate", data, content_type="application/json"), 400, message)


def test_authenticate_takes_post_only(client, db):
    response = client.get("/api/v1/authenticate")
    assert_error(response, 405, "use POST")


@pytest.mark.parametrize("header", [None, "Bearer None", "Bearer garbage", "Basic abc"])
def test_a_missing_or_bad_auth_token_is_401(client, product, sim, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    assert_error(client.get(LIST, **extra), 401)
    assert_error(client.patch(f"{LIST}/{sim.pk}", '{"status": {"id": 2}}', content_type="application/json", **extra), 401)
    sim.refresh_from_db()
    assert sim.state == State.ACTIVE and not SimEvent.objects.exists()


def test_the_application_token_itself_is_no_auth_token(client, product, app_token):
    assert_error(call(client, "GET", LIST, app_token), 401, "not one this console issued")


def test_an_auth_token_expires(client, product, app_token, settings):
    token = ApiToken.objects.get()
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 61 * 60):
        old = issue_auth_token(token)
    settings.API_AUTH_TOKEN_MINUTES = 60
    assert_error(call(client, "GET", LIST, old), 401, "expired")
    settings.API_AUTH_TOKEN_MINUTES = 120
    assert call(client, "GET", LIST, old).status_code == 200


def test_revoking_the_application_token_stops_its_auth_tokens_at_once(client, product, auth):
    assert call(client, "GET", LIST, auth).status_code == 200
    revoke_token(token=ApiToken.objects.get())
    assert_error(call(client, "GET", LIST, auth), 401, "revoked")


def test_an_auth_token_stops_working_when_its_creator_leaves_the_product(client, product, teammate, auth):
    Membership.objects.filter(user=teammate).delete()
    assert_error(call(client, "GET", LIST, auth), 401)


def test_an_auth_token_signed_for_another_purpose_is_refused(client, product, app_token):
    from django.core import signing

    token = ApiToken.objects.get()
    forged = signing.dumps({"token": token.pk, "hash": token.secret_hash}, salt="something-else")
    assert_error(call(client, "GET", LIST, forged), 401)


# The list


def test_the_list_is_a_bare_array_with_paging_headers(client, product, auth, make_sim):
    sims = sorted((make_sim(product, imsi=f"0010100000{n:05d}", msisdn=f"4915{n:07d}") for n in range(5)), key=lambda s: s.iccid)
    response = call(client, "GET", f"{LIST}?per_page=2&page=2", auth)
    assert response.status_code == 200
    assert (response["X-Total-Pages"], response["X-Total-Count"], response["X-Current-Page"], response["X-Count-Per-Page"]) == ("3", "5", "2", "2")
    body = response.json()
    assert [s["iccid"] for s in body] == [s.iccid for s in sims[2:4]]
    first = body[0]
    assert set(first) == {"id", "iccid", "imsi", "msisdn", "production_date", "activation_date", "status", "endpoint", "customer_org"}
    assert first["id"] == sims[2].pk and first["imsi"] == sims[2].imsi and first["msisdn"] == sims[2].msisdn
    assert first["status"] == {"id": 1, "description": "Activated"} and first["endpoint"] is None
    assert first["customer_org"] == {"id": product.pk, "name": product.name}
    assert first["production_date"].endswith("Z") and first["activation_date"] is None


def test_the_default_page_is_2000_and_a_page_past_the_end_is_empty(client, product, auth, sim):
    response = call(client, "GET", LIST, auth)
    assert response["X-Count-Per-Page"] == "2000" and response["X-Total-Pages"] == "1" and len(response.json()) == 1
    past = call(client, "GET", f"{LIST}?page=9", auth)
    assert past.status_code == 200 and past.json() == [] and past["X-Current-Page"] == "9"


def test_an_empty_fleet_has_no_pages(client, product, auth):
    response = call(client, "GET", LIST, auth)
    assert response.json() == [] and response["X-Total-Pages"] == "0" and response["X-Total-Count"] == "0"


def test_the_list_holds_only_the_tokens_products_sims(client, product, other_product, auth, sim, make_sim, teammate):
    make_sim(other_product)
    make_sim(None, owner_user=teammate)
    assert [s["id"] for s in call(client, "GET", LIST, auth).json()] == [sim.pk]


def test_an_own_sims_token_lists_its_creators_own_sims(client, product, teammate, sim, make_sim):
    mine = make_sim(None, owner_user=teammate)
    make_sim(None, owner_user=make_user("stranger"))
    auth = authenticate(client, create_token(user=teammate, name="bench", product=None, scopes=ALL)[1])
    body = call(client, "GET", LIST, auth).json()
    assert [(s["id"], s["customer_org"]) for s in body] == [(mine.pk, None)]
    assert call(client, "GET", f"{LIST}/{mine.pk}", auth).status_code == 200
    assert_error(call(client, "GET", f"{LIST}/{sim.pk}", auth), 404)


def test_states_map_onto_emnifys_statuses(client, product, auth, make_sim):
    for state in State:
        make_sim(product, state=state)
    statuses = {(s["status"]["id"], s["status"]["description"]) for s in call(client, "GET", LIST, auth).json()}
    assert statuses == {(0, "Issued"), (1, "Activated"), (2, "Suspended"), (3, "Deleted"), (4, "Factory Test")}


def test_filters_by_status_iccid_imsi_msisdn_and_id(client, product, auth, make_sim):
    active = make_sim(product, imsi="001010000000001", msisdn="491500000001")
    paused = make_sim(product, state=State.PAUSED)
    suspended = make_sim(product, state=State.SUSPENDED, imsi="001010000000002", msisdn="491500000002")

    def ids(q: str) -> list[int]:
        response = call(client, "GET", f"{LIST}?q={q}", auth)
        assert response.status_code == 200, response.content
        return [s["id"] for s in response.json()]

    assert ids("status:1") == sorted([active.pk, paused.pk], key=lambda pk: Sim.objects.get(pk=pk).iccid)
    assert ids("status:2") == [suspended.pk]
    assert ids(f"iccid:{suspended.iccid}") == [suspended.pk]
    assert ids(f"iccid:{suspended.iccid[-6:]},status:2") == [suspended.pk]
    assert ids(f"iccid:{suspended.iccid[-6:]},status:1") == []
    assert ids("imsi:001010000000002") == [suspended.pk]
    assert ids("msisdn:491500000001") == [active.pk]
    assert ids(f"id:{paused.pk}") == [paused.pk]
    assert ids("status:0") == []
    assert ids(f"customer_org:{product.pk}") and ids(f"customer_org:{product.pk + 1}") == []


def test_the_sdks_without_device_filter_is_understood_even_glued_on(client, product, auth, make_sim):
    sim = make_sim(product, state=State.SUSPENDED)
    make_sim(product)
    assert [s["id"] for s in call(client, "GET", f"{LIST}?q=endpoint:null", auth).json()] != []
    # emnify-sdk 0.5.3 appends "endpoint:null" to a filter without a comma.
    assert [s["id"] for s in call(client, "GET", f"{LIST}?q=status:2endpoint:null", auth).json()] == [sim.pk]
    assert call(client, "GET", f"{LIST}?q=endpoint:7", auth).json() == []


def test_sorts_by_iccid_id_or_status_either_way(client, product, auth, make_sim):
    sims = [make_sim(product, state=state) for state in (State.SUSPENDED, State.ISSUED, State.ACTIVE)]

    def order(sort: str) -> list[int]:
        response = call(client, "GET", f"{LIST}?sort={sort}", auth)
        assert response.status_code == 200, response.content
        return [s["id"] for s in response.json()]

    by_iccid = [s.pk for s in sorted(sims, key=lambda s: s.iccid)]
    assert order("iccid") == by_iccid and order("-iccid") == by_iccid[::-1]
    assert order("-ID") == sorted((s.pk for s in sims), reverse=True)
    assert order("status") == [sims[1].pk, sims[2].pk, sims[0].pk]
    assert order("-status,iccid") == [sims[0].pk, sims[2].pk, sims[1].pk]
    # What emnify-sdk sends for sort_enum=SimSort.iccid, and a sort every SIM here shares.
    assert order("SimSort.iccid") == by_iccid and order("customer_org") == by_iccid


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("per_page=2501", "per_page must be a whole number from 1 to 2500"),
        ("per_page=0", "per_page"),
        ("per_page=ten", "per_page"),
        ("page=0", "page must be"),
        ("page=-1", "page must be"),
        ("q=status", "not field:value"),
        ("q=status:", "not field:value"),
        ("q=colour:red", "Unknown filter colour"),
        ("q=status:9", "status must be"),
        ("q=status:x", "status must be"),
        ("q=status:1,status:2", "given twice"),
        ("q=iccid:89ab", "iccid must be digits"),
        ("q=imsi:x", "imsi must be digits"),
        ("q=id:abc", "id must be"),
        ("q=production_date:yesterday", "production_date must be a date"),
        ("sort=colour", "Unknown sort field colour"),
        ("perpage=10", "Unknown parameter perpage"),
    ],
)
def test_a_bad_list_query_is_400(client, product, auth, sim, query, message):
    assert_error(call(client, "GET", f"{LIST}?{query}", auth), 400, message)


def test_production_date_filters_by_day(client, product, auth, make_sim):
    sim = make_sim(product)
    day = sim.created_at.date().isoformat()
    assert [s["id"] for s in call(client, "GET", f"{LIST}?q=production_date:{day}", auth).json()] == [sim.pk]
    assert call(client, "GET", f"{LIST}?q=production_date:2001-01-01", auth).json() == []


# One SIM


def test_one_sim_by_its_database_id(client, product, auth, make_sim):
    sim = make_sim(product, state=State.PROVISIONED, imsi="001010000000009")
    body = call(client, "GET", f"{LIST}/{sim.pk}", auth).json()
    assert body["id"] == sim.pk and body["iccid"] == sim.iccid and body["imsi"] == "001010000000009"
    assert body["status"] == {"id": 4, "description": "Factory Test"} and body["msisdn"] is None


@pytest.mark.parametrize("sim_id", ["0", "abc", "99999999", "1" * 30, "-1"])
def test_a_sim_that_is_not_there_is_404(client, product, auth, sim, sim_id):
    assert_error(call(client, "GET", f"{LIST}/{sim_id}", auth), 404)
    assert_error(call(client, "PATCH", f"{LIST}/{sim_id}", auth, {"status": {"id": 2}}), 404)
    assert_error(call(client, "DELETE", f"{LIST}/{sim_id}", auth), 404)
    assert not SimEvent.objects.exists()


def test_a_sim_of_another_product_is_404_even_when_the_creator_is_in_it(client, product, other_product, teammate, auth, make_sim):
    foreign = make_sim(other_product)
    Membership.objects.create(user=teammate, product=other_product)
    assert_error(call(client, "GET", f"{LIST}/{foreign.pk}", auth), 404)
    assert_error(call(client, "PATCH", f"{LIST}/{foreign.pk}", auth, {"status": {"id": 2}}), 404)
    assert_error(call(client, "DELETE", f"{LIST}/{foreign.pk}", auth), 404)
    foreign.refresh_from_db()
    assert foreign.state == State.ACTIVE and not SimEvent.objects.exists()


# Status changes


@pytest.mark.parametrize(
    ("state", "status", "action", "after"),
    [
        (State.ISSUED, 1, "activate", State.ACTIVE),
        (State.PROVISIONED, 1, "activate", State.ACTIVE),
        (State.SUSPENDED, 1, "reactivate", State.ACTIVE),
        (State.PAUSED, 1, "unpause", State.ACTIVE),
        (State.ACTIVE, 2, "deactivate", State.SUSPENDED),
        (State.PAUSED, 2, "deactivate", State.SUSPENDED),
        (State.PROVISIONED, 2, "deactivate", State.SUSPENDED),
        (State.ISSUED, 4, "provision", State.PROVISIONED),
        (State.ACTIVE, 3, "terminate", State.TERMINATED),
        (State.ISSUED, 3, "terminate", State.TERMINATED),
    ],
)
def test_a_status_change_goes_through_the_lifecycle_in_the_tokens_name(client, product, auth, make_sim, state, status, action, after):
    sim = make_sim(product, state=state)
    response = call(client, "PATCH", f"{LIST}/{sim.pk}", auth, {"status": {"id": status, "description": "ignored"}})
    assert response.status_code == 204 and response.content == b""
    sim.refresh_from_db()
    assert sim.state == after
    [(done, before, to, kind, name)] = events()
    assert (done, before, to, kind) == (action, state, after, "token") and name.startswith("factory (simc_")


@pytest.mark.parametrize(
    ("state", "status", "message"),
    [
        (State.ACTIVE, 1, "the SIM is active: its status is 1 Activated already"),
        (State.ISSUED, 2, "the SIM is issued"),
        (State.SUSPENDED, 2, "the SIM is suspended"),
        (State.ACTIVE, 4, "the SIM is active"),
        (State.ACTIVE, 0, "nothing returns to Issued"),
        (State.ISSUED, 0, "its status is 0 Issued already"),
        (State.TERMINATED, 1, "terminated"),
        (State.TERMINATED, 3, "terminated"),
    ],
)
def test_an_illegal_status_change_is_409_naming_the_state(client, product, auth, make_sim, state, status, message):
    sim = make_sim(product, state=state)
    body = assert_error(call(client, "PATCH", f"{LIST}/{sim.pk}", auth, {"status": {"id": status}}), 409)
    assert body["error_token"] == "illegal_status_change" and message in body["message"].replace("The SIM", "the SIM")
    sim.refresh_from_db()
    assert sim.state == state and not SimEvent.objects.exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{nope", "not valid JSON"),
        ("", "empty"),
        ("[]", "must be a JSON object"),
        ({}, "Nothing to change"),
        ({"status": 2}, "status must be an object"),
        ({"status": "Suspended"}, "status must be an object"),
        ({"status": {}}, "status.id must be one of"),
        ({"status": {"id": "2"}}, "status.id must be one of"),
        ({"status": {"id": True}}, "status.id must be one of"),
        ({"status": {"id": 5}}, "status.id must be one of"),
        ({"status": {"id": 2.0}}, "status.id must be one of"),
        ({"status": {"id": 2, "description": 7}}, "description"),
        ({"status": {"id": 2, "colour": "red"}}, "Unknown status field colour"),
        ({"status": {"id": 2}, "name": "x"}, "Unknown field name"),
        ({"customer_organisation": {"id": 3}}, "organisations"),
    ],
)
def test_a_bad_patch_is_400_and_changes_nothing(client, product, auth, sim, body, message):
    assert_error(call(client, "PATCH", f"{LIST}/{sim.pk}", auth, body), 400, message)
    sim.refresh_from_db()
    assert sim.state == State.ACTIVE and not SimEvent.objects.exists()


def test_delete_terminates_for_good(client, product, auth, sim):
    response = call(client, "DELETE", f"{LIST}/{sim.pk}", auth)
    assert response.status_code == 204
    sim.refresh_from_db()
    assert (sim.state, sim.product) == (State.TERMINATED, product)
    assert [e[:3] for e in events()] == [("terminate", "active", "terminated")]
    assert call(client, "GET", f"{LIST}/{sim.pk}", auth).json()["status"] == {"id": 3, "description": "Deleted"}
    assert_error(call(client, "DELETE", f"{LIST}/{sim.pk}", auth), 409, "terminated")
    assert_error(call(client, "PATCH", f"{LIST}/{sim.pk}", auth, {"status": {"id": 1}}), 409, "terminated")
    assert len(events()) == 1


# Scopes, methods, rate limit


@pytest.mark.parametrize(
    ("method", "path", "body", "scope"),
    [
        ("GET", LIST, None, "sims:list"),
        ("GET", "{sim}", None, "sims:get"),
        ("PATCH", "{sim}", {"status": {"id": 2}}, "sims:update"),
        ("DELETE", "{sim}", None, "sims:remove"),
    ],
)
def test_each_call_needs_its_scope(client, product, teammate, sim, method, path, body, scope):
    others = [s for s in ALL if s != scope]
    auth = authenticate(client, create_token(user=teammate, name="narrow", product=product, scopes=others)[1])
    response = call(client, method, path.format(sim=f"{LIST}/{sim.pk}"), auth, body)
    assert assert_error(response, 403, scope)["error_token"] == "forbidden"
    sim.refresh_from_db()
    assert sim.state == State.ACTIVE and not SimEvent.objects.exists()


def test_terminating_by_patch_needs_the_remove_scope_too(client, product, teammate, sim):
    auth = authenticate(client, create_token(user=teammate, name="updater", product=product, scopes=[Scope.SIMS_UPDATE])[1])
    assert_error(call(client, "PATCH", f"{LIST}/{sim.pk}", auth, {"status": {"id": 3}}), 403, "sims:remove")
    sim.refresh_from_db()
    assert sim.state == State.ACTIVE
    assert call(client, "PATCH", f"{LIST}/{sim.pk}", auth, {"status": {"id": 2}}).status_code == 204


def test_the_wrong_method_is_405_in_emnifys_shape(client, product, auth, sim):
    response = call(client, "POST", LIST, auth, {})
    assert_error(response, 405, "use GET")
    assert response["Allow"] == "GET"
    assert_error(call(client, "PUT", f"{LIST}/{sim.pk}", auth, {}), 405, "DELETE, GET, PATCH")


def test_reading_hundreds_of_sims_one_by_one_in_one_instant_is_not_refused_at_the_default(client, product, app_token, make_sim):
    """emnify-sdk does not handle a 429 (it raises): a script reading each SIM must not meet one."""
    ids = [make_sim(product).pk for _ in range(300)]
    with time_machine.travel(timezone.now(), tick=False):
        auth = authenticate(client, app_token)
        listed = call(client, "GET", f"{LIST}?per_page=100", auth)
        for sim_id in ids:
            response = call(client, "GET", f"{LIST}/{sim_id}", auth)
            assert response.status_code == 200, f"refused at SIM {ids.index(sim_id) + 1}: {response.content}"
    assert listed.status_code == 200 and int(response["X-RateLimit-Remaining"]) == int(response["X-RateLimit-Limit"]) - 302


def test_a_burst_over_the_limit_gets_429_in_emnifys_shape_at_authenticate_too(client, product, app_token, settings):
    settings.API_RATE_LIMIT, settings.API_RATE_LIMIT_WINDOW_SECONDS = 3, 300
    with time_machine.travel(timezone.now(), tick=False):
        now = time.time()
        auth = authenticate(client, app_token)  # counts as one
        responses = [call(client, "GET", LIST, auth) for _ in range(3)]
        assert [r.status_code for r in responses] == [200, 200, 429]
        again = client.post("/api/v1/authenticate", {"application_token": app_token}, content_type="application/json")
    for limited in (responses[-1], again):
        body = assert_error(limited, 429, "3 requests in 5 minutes")
        assert body["error_token"] == "too_many_requests"
        wait = int(limited["Retry-After"])
        assert 1 <= wait <= 300 and f"{wait} seconds" in body["message"]
        assert (limited["X-RateLimit-Limit"], limited["X-RateLimit-Remaining"]) == ("3", "0")
        assert int(limited["X-RateLimit-Reset"]) == int(now) + wait
    assert responses[0]["X-RateLimit-Remaining"] == "1"
    assert_error(client.post("/api/v1/authenticate", {"application_token": "simc_wrong"}, content_type="application/json"), 401)


def test_a_status_the_sims_carrier_cannot_reach_is_409_saying_so(client, product, auth, make_sim):
    from carriers.models import CarrierAccount

    twilio = CarrierAccount.objects.create(product=product, name="Twilio US", adapter="twilio")
    sim = make_sim(product, state=State.ACTIVE, carrier_account=twilio)
    body = assert_error(call(client, "PATCH", f"{LIST}/{sim.pk}", auth, {"status": {"id": 3}}), 409)  # Deleted
    assert body["error_token"] == "carrier_cannot"
    assert "Terminate is not possible for this SIM: the carrier (Twilio US) cannot terminate a SIM" in body["message"]
    sim.refresh_from_db()
    assert sim.state == State.ACTIVE and not SimEvent.objects.exists()

"""A product's rules through Particle's dialect (/v1/products/{product}/rules): read with rules:list,
changed with rules:update by a token of a product admin, checked by Rule.clean as in the admin."""

import json
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from api.models import Scope
from api.tokens import create_token
from rules.models import Rule, RuleApproval, RuleFiring
from tests.api.test_particle import call

ALL = list(Scope.values)
HEAVY_DAY = {
    "name": "Heavy day",
    "condition": {"kind": "usage_day", "mb": 50},
    "actions": [{"kind": "pause"}, {"kind": "email", "roles": ["admin"]}],
}


@pytest.fixture
def admin_token(product, owner):
    return create_token(user=owner, name="rules-script", product=product, scopes=ALL)[1]


@pytest.fixture
def member_token(product, teammate):
    return create_token(user=teammate, name="member-script", product=product, scopes=ALL)[1]


@pytest.fixture
def rule(product):
    made = Rule(product=product, name="Quiet SIM", condition_kind="no_session", condition={"hours": 48}, actions=[{"kind": "suspend"}])
    made.full_clean()
    made.save()
    return made


def test_an_admins_token_creates_a_rule_that_reads_back_whole(client, product, owner, admin_token):
    response = call(client, "POST", "/v1/products/acme/rules", admin_token, HEAVY_DAY)
    assert response.status_code == 201, response.json()
    made = response.json()
    assert made["sentence"] == "When a SIM uses more than 50 MB in a day, pause it and email the admins."
    assert made["condition"] == {"kind": "usage_day", "mb": 50}
    assert made["scope"] == {"kind": "all", "value": ""} and made["window"] == {"kind": "day", "hours": None}
    assert (made["enabled"], made["version"], made["approval_threshold"], made["last_fired_at"]) == (True, 1, None, None)
    rule = Rule.objects.get(pk=made["id"])
    assert rule.product == product and rule.created_by == owner and rule.condition == {"mb": 50}
    assert call(client, "GET", f"/v1/products/acme/rules/{rule.pk}", admin_token).json() == made


def test_a_form_body_works_too(client, admin_token):
    form = {**HEAVY_DAY, "condition": json.dumps(HEAVY_DAY["condition"]), "actions": json.dumps(HEAVY_DAY["actions"]), "approval_threshold": "10"}
    response = client.post(
        "/v1/products/acme/rules", urlencode(form), content_type="application/x-www-form-urlencoded", HTTP_AUTHORIZATION=f"Bearer {admin_token}"
    )
    assert response.status_code == 201 and response.json()["approval_threshold"] == 10


def test_the_list_shows_each_rule_with_its_last_firing_in_bounded_queries(client, product, make_sim, member_token, rule, django_assert_max_num_queries):
    for n in range(5):
        Rule.objects.create(product=product, name=f"Rule {n}", condition_kind="usage_day", condition={"mb": 10 + n}, actions=[{"kind": "pause"}])
    fired = timezone.now() - timedelta(hours=1)
    RuleFiring.objects.create(rule=rule, rule_version=1, sim=make_sim(product), window_key="d1", fired_at=fired)
    with django_assert_max_num_queries(4):
        rules = call(client, "GET", "/v1/products/acme/rules", member_token).json()["rules"]
    assert [r["name"] for r in rules] == ["Quiet SIM", *(f"Rule {n}" for n in range(5))]
    assert rules[0]["last_fired_at"] == fired.isoformat() and rules[1]["last_fired_at"] is None
    assert rules[0]["sentence"] == "When a SIM has had no data session for 48 hours, suspend it."


def test_a_change_bumps_the_version_and_keeps_what_was_not_sent(client, admin_token, rule):
    response = call(client, "PUT", f"/v1/products/acme/rules/{rule.pk}", admin_token, {"window": {"kind": "hours", "hours": 6}, "approval_threshold": 20})
    assert response.status_code == 200, response.json()
    changed = response.json()
    assert changed["version"] == 2 and changed["window"] == {"kind": "hours", "hours": 6} and changed["approval_threshold"] == 20
    assert changed["condition"] == {"kind": "no_session", "hours": 48} and changed["name"] == "Quiet SIM"


def test_disable_and_enable(client, admin_token, rule):
    assert call(client, "PUT", f"/v1/products/acme/rules/{rule.pk}", admin_token, {"enabled": False}).json()["enabled"] is False
    rule.refresh_from_db()
    assert (rule.enabled, rule.version) == (False, 2)
    assert call(client, "PUT", f"/v1/products/acme/rules/{rule.pk}", admin_token, {"enabled": True}).json()["version"] == 3


def test_delete_removes_the_rule(client, admin_token, rule):
    assert call(client, "DELETE", f"/v1/products/acme/rules/{rule.pk}", admin_token).json() == {"ok": True}
    assert not Rule.objects.filter(pk=rule.pk).exists()
    assert call(client, "GET", f"/v1/products/acme/rules/{rule.pk}", admin_token).status_code == 404


def test_firings_page_newest_first_in_bounded_queries(client, product, make_sim, member_token, rule, django_assert_max_num_queries):
    sims = [make_sim(product) for _ in range(30)]
    start = timezone.now() - timedelta(days=1)
    for n, sim in enumerate(sims):
        RuleFiring.objects.create(
            rule=rule, rule_version=1, sim=sim, window_key=f"h48:{n}", fired_at=start + timedelta(minutes=n),
            figures={"hours": 50 + n}, did=["Suspended"],
        )  # fmt: skip
    with django_assert_max_num_queries(6):
        page = call(client, "GET", f"/v1/products/acme/rules/{rule.pk}/firings?per_page=25&page=2", member_token).json()
    assert page["meta"] == {"total_pages": 2}
    assert [f["iccid"] for f in page["firings"]] == [sim.iccid for sim in reversed(sims[:5])]
    assert page["firings"][-1] == {
        "id": RuleFiring.objects.get(sim=sims[0]).pk, "iccid": sims[0].iccid, "subject": "sim", "window": "h48:0", "fired_at": start.isoformat(),
        "rule_version": 1, "figures": {"hours": 50}, "did": ["Suspended"], "status": "done", "approval_id": None,
    }  # fmt: skip
    assert call(client, "GET", f"/v1/products/acme/rules/{rule.pk}/firings?page=9", member_token).json()["firings"] == []
    assert call(client, "GET", f"/v1/products/acme/rules/{rule.pk}/firings?per_page=500", member_token).status_code == 400


def test_the_built_in_rules_are_listed_and_cannot_be_changed(client, product, admin_token):
    from rules.builtin import ensure_builtin_rules

    ensure_builtin_rules([product.pk])
    rules = call(client, "GET", "/v1/products/acme/rules", admin_token).json()["rules"]
    built_in = {r["condition"]["kind"]: r for r in rules if r["builtin"]}
    assert set(built_in) == {"data_limit", "test_trigger"}
    assert built_in["data_limit"]["sentence"].startswith("When a SIM reaches its data limit")
    limit = built_in["data_limit"]["id"]
    for method, body in (("PUT", {"enabled": False}), ("DELETE", None)):
        response = call(client, method, f"/v1/products/acme/rules/{limit}", admin_token, body)
        assert response.status_code == 409 and "is built in" in response.json()["error"]
    assert Rule.objects.get(pk=limit).enabled


def test_a_firing_about_the_product_says_so(client, product, member_token, rule):
    RuleFiring.objects.create(rule=rule, rule_version=1, sim=None, subject="account:7", window_key="d2026-11-02")
    RuleFiring.objects.create(rule=rule, rule_version=1, sim=None, subject="", window_key="d2026-11-03")
    firings = call(client, "GET", f"/v1/products/acme/rules/{rule.pk}/firings", member_token).json()["firings"]
    assert sorted((f["iccid"], f["subject"]) for f in firings) == [(None, "account:7"), (None, "product")]


def test_an_approval_is_decided_once(client, product, make_sim, admin_token, rule):
    approval = RuleApproval.objects.create(rule=rule, pending=1)
    sim = make_sim(product)
    RuleFiring.objects.create(rule=rule, rule_version=1, sim=sim, window_key="h48:1", status="awaiting", approval=approval)
    path = f"/v1/products/acme/rules/{rule.pk}/approvals/{approval.pk}"
    response = call(client, "POST", path, admin_token, {"decision": "refuse"})
    assert response.json() == {"ok": True, "decision": "refused", "pending": 1}
    assert RuleFiring.objects.get(approval=approval).status == "refused"
    again = call(client, "POST", path, admin_token, {"decision": "approve"})
    assert again.status_code == 409
    assert again.json() == {"ok": False, "error": "This approval was refused already. Nothing more was done."}
    assert RuleFiring.objects.get(approval=approval).status == "refused"


def test_an_approval_needs_a_decision(client, admin_token, rule):
    approval = RuleApproval.objects.create(rule=rule, pending=0)
    response = call(client, "POST", f"/v1/products/acme/rules/{rule.pk}/approvals/{approval.pk}", admin_token, {"decision": "maybe"})
    assert response.status_code == 400 and '"approve"' in response.json()["error"]
    assert call(client, "POST", f"/v1/products/acme/rules/{rule.pk}/approvals/999999", admin_token, {"decision": "approve"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({**HEAVY_DAY, "condition": {"kind": "usage_day", "mb": "lots"}}, "condition: In the condition"),
        ({**HEAVY_DAY, "condition": {"kind": "usage_day"}}, "needs mb"),
        ({**HEAVY_DAY, "condition": {"kind": "weather"}}, "condition.kind 'weather' is not one: choose one of usage_day"),
        ({**HEAVY_DAY, "condition": {"mb": 50}}, "condition must be an object with its kind"),
        ({**HEAVY_DAY, "actions": []}, "actions: Give the rule at least one action"),
        ({**HEAVY_DAY, "scope": {"kind": "tac", "value": "12"}}, "scope.value: A device model's TAC is the first 8 digits"),
        ({**HEAVY_DAY, "window": {"kind": "hours"}}, "window.hours: Say how many hours"),
        ({**HEAVY_DAY, "approval_threshold": -1}, "approval_threshold must be a whole number"),
        ({**HEAVY_DAY, "enabled": "yes"}, "enabled must be true or false"),
        ({**HEAVY_DAY, "name": ""}, "name must be text"),
        ({**HEAVY_DAY, "colour": "red"}, "Unknown field colour"),
        ({"name": "Half a rule"}, "A new rule needs actions, condition"),
    ],
)
def test_a_bad_rule_answers_400_naming_the_field(client, admin_token, body, says):
    response = call(client, "POST", "/v1/products/acme/rules", admin_token, body)
    assert response.status_code == 400 and says in response.json()["error"], response.json()
    assert response.json()["ok"] is False and not Rule.objects.exists()


def test_a_bad_change_changes_nothing(client, admin_token, rule):
    response = call(client, "PUT", f"/v1/products/acme/rules/{rule.pk}", admin_token, {"condition": {"kind": "no_session", "hours": 0}})
    assert response.status_code == 400 and "condition:" in response.json()["error"]
    assert call(client, "PUT", f"/v1/products/acme/rules/{rule.pk}", admin_token, {}).status_code == 400
    rule.refresh_from_db()
    assert (rule.condition, rule.version) == ({"hours": 48}, 1)


def test_a_member_reads_but_may_not_change(client, member_token, rule):
    assert call(client, "GET", f"/v1/products/acme/rules/{rule.pk}", member_token).status_code == 200
    for method, path, body in [
        ("POST", "/v1/products/acme/rules", HEAVY_DAY),
        ("PUT", f"/v1/products/acme/rules/{rule.pk}", {"enabled": False}),
        ("DELETE", f"/v1/products/acme/rules/{rule.pk}", None),
        ("POST", f"/v1/products/acme/rules/{rule.pk}/approvals/1", {"decision": "approve"}),
    ]:
        response = call(client, method, path, member_token, body)
        assert response.status_code == 403 and "Only a product admin" in response.json()["error"], (method, path)
    rule.refresh_from_db()
    assert (rule.enabled, rule.version, Rule.objects.count()) == (True, 1, 1)


def test_the_scopes(client, product, owner, rule):
    reader = create_token(user=owner, name="reader", product=product, scopes=[Scope.RULES_LIST])[1]
    sims_only = create_token(user=owner, name="sims", product=product, scopes=[Scope.SIMS_LIST, Scope.SIMS_UPDATE])[1]
    assert call(client, "GET", "/v1/products/acme/rules", reader).status_code == 200
    refused = call(client, "PUT", f"/v1/products/acme/rules/{rule.pk}", reader, {"enabled": False})
    assert refused.status_code == 403 and "lacks the scope rules:update" in refused.json()["error"]
    assert "lacks the scope rules:list" in call(client, "GET", "/v1/products/acme/rules", sims_only).json()["error"]


def test_a_strangers_product_or_rule_is_404_as_for_sims(client, product, other_product, outsider, admin_token, rule):
    other_rule = Rule.objects.create(product=other_product, name="Theirs", condition_kind="usage_day", condition={"mb": 5}, actions=[{"kind": "pause"}])
    strangers = create_token(user=outsider, name="theirs", product=other_product, scopes=ALL)[1]
    for path in ("/v1/products/acme/rules", f"/v1/products/acme/rules/{rule.pk}", "/v1/products/no-such/rules"):
        response = call(client, "GET", path, strangers)
        assert (response.status_code, response.json()["error"]) == (404, "There is no such product, or it is not yours.")
    # Their rule, asked for under our product with our token; a rule id that is no number.
    for rule_id in (other_rule.pk, "12abc", "9" * 30):
        response = call(client, "GET", f"/v1/products/acme/rules/{rule_id}", admin_token)
        assert (response.status_code, response.json()["error"]) == (404, f"There is no rule {rule_id} in this product.")
    assert call(client, "GET", "/v1/products/acme/rules", None).status_code == 401


def test_a_round_trip_over_http(live_server, product, owner, admin_token):
    """A real HTTP client against a live server: create, then read the list."""

    def ask(method: str, path: str, body=None):
        request = urllib.request.Request(
            live_server.url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    status, made = ask("POST", "/v1/products/acme/rules", HEAVY_DAY)
    assert status == 201, made
    status, listed = ask("GET", "/v1/products/acme/rules")
    assert status == 200 and [r["id"] for r in listed["rules"] if not r["builtin"]] == [made["id"]]
    assert ask("PUT", f"/v1/products/acme/rules/{made['id']}", {"condition": {"kind": "usage_day", "mb": -1}})[0] == 400

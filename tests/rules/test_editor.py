"""New rule and Edit rule: a form that reads as a sentence, each kind's inputs made from its typed
parameters, each error beside its input with what was typed kept; admins only; sent twice makes one rule."""

import dataclasses
import html
import re
import uuid

import pytest
from django.urls import reverse

from rules.actions import ACTIONS
from rules.conditions import CONDITIONS
from rules.editor import RuleForm
from rules.models import Rule
from rules.params import from_json
from rules.sentence import sentence
from tests.conftest import text_of

HEAVY_DAY = {
    "name": "Heavy day", "enabled": "on", "scope_kind": "all", "scope_value": "", "condition_kind": "usage_day",
    "condition-usage_day-mb": "50", "action-pause": "on", "action-email": "on", "action-email-roles": ["admin"],
    "window_kind": "day", "window_hours": "", "approval_threshold": "",
}  # fmt: skip


def _new(client, product, **changes):
    data = HEAVY_DAY | {"form_token": str(uuid.uuid4())} | changes
    return client.post(reverse("rule_new", args=[product.slug]), data)


def _value_of(response, name: str) -> str:
    """The value an input of the page holds, as the person would see it in the field."""
    page = response.content.decode()
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', page) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{re.escape(name)}"', page
    )
    return html.unescape(match.group(1)) if match else ""


def test_an_admin_creates_a_rule_that_reads_as_the_sentence(owner_client, owner, product):
    page = text_of(owner_client.get(reverse("rule_new", args=[product.slug])))
    assert "When" in page and "pause it" in page and "once a day" in page

    response = _new(owner_client, product)
    rule = Rule.objects.get(product=product)
    assert response.status_code == 302 and response["Location"] == reverse("rule_detail", args=[product.slug, rule.pk])
    assert (rule.condition_kind, rule.condition) == ("usage_day", {"mb": 50})
    assert rule.actions == [{"kind": "pause"}, {"kind": "email", "roles": ["admin"]}]
    assert (rule.version, rule.created_by, rule.enabled, rule.window_kind) == (1, owner, True, "day")
    detail = text_of(owner_client.get(response["Location"]))
    assert "When a SIM uses more than 50 MB in a day, pause it and email the admins." in detail


def test_the_form_sent_twice_makes_one_rule(owner_client, product):
    token = str(uuid.uuid4())
    first = _new(owner_client, product, form_token=token)
    second = _new(owner_client, product, form_token=token)
    rule = Rule.objects.get(product=product)
    assert first["Location"] == second["Location"] == reverse("rule_detail", args=[product.slug, rule.pk])
    assert "was created already" in text_of(owner_client.get(second["Location"]))
    # A new form (a new token) makes a new rule.
    _new(owner_client, product, name="Heavy day again")
    assert Rule.objects.filter(product=product).count() == 2


def test_editing_bumps_the_version_and_changes_the_sentence(owner_client, product, make_rule):
    rule = make_rule(actions=[{"kind": "pause"}])
    form_page = owner_client.get(reverse("rule_edit", args=[product.slug, rule.pk]))
    assert "When a SIM uses more than 50 MB in a day, pause it." in text_of(form_page)  # the sentence saved
    assert _value_of(form_page, "condition-usage_day-mb") == "50"

    data = HEAVY_DAY | {
        "condition_kind": "usage_rolling", "condition-usage_rolling-mb": "80", "condition-usage_rolling-hours": "6",
        "action-email": "", "action-data_limit": "on", "action-data_limit-mb": "5", "version": "1",
        "window_kind": "hours", "window_hours": "12", "approval_threshold": "20",
    }  # fmt: skip
    response = owner_client.post(reverse("rule_edit", args=[product.slug, rule.pk]), data)
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.version == 2
    assert rule.condition == {"mb": 80, "hours": 6} and rule.actions == [{"kind": "pause"}, {"kind": "data_limit", "mb": 5}]
    assert (rule.window_kind, rule.window_hours, rule.approval_threshold) == ("hours", 12, 20)
    detail = text_of(owner_client.get(response["Location"]))
    assert "When a SIM uses more than 80 MB in the last 6 hours, pause it and set its data limit to 5 MB." in detail
    assert "Version 2" in detail


def test_an_edit_sent_twice_saves_once_and_an_edit_on_a_changed_rule_keeps_the_input(owner_client, product, make_rule):
    rule = make_rule()
    url = reverse("rule_edit", args=[product.slug, rule.pk])
    data = HEAVY_DAY | {"version": "1", "condition-usage_day-mb": "70"}
    owner_client.post(url, data)
    again = owner_client.post(url, data)
    rule.refresh_from_db()
    assert (again.status_code, rule.version, rule.condition) == (302, 2, {"mb": 70})

    stale = owner_client.post(url, data | {"condition-usage_day-mb": "90"})
    assert stale.status_code == 409
    assert "Someone changed the rule since you opened it" in text_of(stale)
    assert _value_of(stale, "condition-usage_day-mb") == "90"
    rule.refresh_from_db()
    assert (rule.version, rule.condition) == (2, {"mb": 70})


# A bad input of each condition kind, and what the error beside it says.
BAD_CONDITIONS = {
    "usage_day": ({"mb": "0"}, "more than 0 MB"),
    "usage_period": ({"mb": "lots"}, "Enter a number"),
    "usage_rolling": ({"mb": "10", "hours": "9999"}, "rolling window must be from 1"),
    "sms_count": ({"count": ""}, "Give count"),
    "spike": ({"factor": "0.5"}, "factor must be more than 1"),
    "no_session": ({"hours": "0"}, "from 1 to"),
    "country": ({"countries": "DE, XX"}, "Not a country code: XX"),
    "state_changed": ({"state": ""}, "Give state"),
    "cost_over_budget": ({"amount": "0"}, "The amount must be more than $0"),
    "carrier_failures": ({"percent": "100"}, "The failure rate must be from 0 % to less than 100 %"),
}


def test_every_condition_kind_with_parameters_is_covered_here():
    with_params = {kind for kind, cls in CONDITIONS.items() if dataclasses.fields(cls)}
    assert with_params <= set(BAD_CONDITIONS)


@pytest.mark.parametrize("kind", sorted(BAD_CONDITIONS))
def test_a_bad_condition_says_what_is_wrong_and_keeps_the_input(owner_client, product, kind):
    params, message = BAD_CONDITIONS[kind]
    typed = {f"condition-{kind}-{name}": value for name, value in params.items()}
    response = _new(owner_client, product, condition_kind=kind, name="Typed by hand", **typed)
    assert response.status_code == 400
    page = text_of(response)
    assert message in page
    assert "The rule is not saved" in page
    for name, value in typed.items():
        if value:
            assert _value_of(response, name) == value
    assert _value_of(response, "name") == "Typed by hand"
    assert not Rule.objects.exists()


BAD_ACTIONS = {
    "data_limit": ({"mb": "0"}, "data limit must be from 1"),
    "tag": ({"tag": "x" * 41}, "tag must be 1 to 40 characters"),
    "email": ({}, "Choose whom to email"),
    "sms": ({"body": ""}, "Give body"),
}


def test_every_action_kind_with_parameters_is_covered_here():
    assert {kind for kind, cls in ACTIONS.items() if dataclasses.fields(cls)} <= set(BAD_ACTIONS)


@pytest.mark.parametrize("kind", sorted(BAD_ACTIONS))
def test_a_bad_action_says_what_is_wrong_and_keeps_the_input(owner_client, product, kind):
    params, message = BAD_ACTIONS[kind]
    typed = {f"action-{kind}-{name}": value for name, value in params.items()}
    data = {key: value for key, value in HEAVY_DAY.items() if not key.startswith("action-email")}
    response = owner_client.post(reverse("rule_new", args=[product.slug]), data | {f"action-{kind}": "on", **typed})
    assert response.status_code == 400
    assert message in text_of(response)
    for name, value in typed.items():
        if value:
            assert _value_of(response, name) == value
    assert re.search(r'<input[^>]*name="action-pause"[^>]*checked', response.content.decode())
    assert not Rule.objects.exists()


def test_a_rule_with_no_action_a_bad_scope_or_window_is_told_so(owner_client, product):
    data = {key: value for key, value in HEAVY_DAY.items() if not key.startswith("action-")}
    response = owner_client.post(reverse("rule_new", args=[product.slug]), data | {"scope_kind": "tac", "scope_value": "1234", "window_kind": "hours"})
    page = text_of(response)
    assert "Choose at least one thing for the rule to do" in page
    assert "first 8 digits of its IMEI" in page
    assert "Say how many hours the rule waits" in page
    assert _value_of(response, "scope_value") == "1234"
    assert not Rule.objects.exists()


def test_a_condition_kind_added_later_gets_inputs_of_its_fields_types(monkeypatch, product):
    @dataclasses.dataclass(frozen=True)
    class CostOver:
        amount: float
        percent: int | None = None
        carriers: list[str] = dataclasses.field(default_factory=list)

    monkeypatch.setitem(CONDITIONS, "cost_over", CostOver)
    # (ConditionKind gets the kind too, in the branch adding it; condition_of reads its label.)
    monkeypatch.setattr("rules.editor.condition_of", lambda kind, data: from_json(CONDITIONS[kind], data, what="cost condition"))
    monkeypatch.setattr("rules.editor.validate_rule", lambda rule: {})
    form = RuleForm(product=product)
    kinds = {inputs.kind: inputs for inputs in form.condition_inputs()}
    assert [param.name for param in kinds["cost_over"].params] == ["amount", "percent", "carriers"]
    bound = RuleForm({**HEAVY_DAY, "condition_kind": "cost_over", "condition-cost_over-amount": "12.5", "condition-cost_over-carriers": "a, b"}, product=product)
    assert bound.is_valid(), bound.errors
    assert bound.rule().condition == {"amount": 12.5, "carriers": ["a", "b"]}
    wrong = RuleForm({**HEAVY_DAY, "condition_kind": "cost_over", "condition-cost_over-amount": "x"}, product=product)
    assert not wrong.is_valid() and "condition-cost_over-amount" in wrong.errors


def test_a_member_is_refused(teammate_client, product, make_rule):
    rule = make_rule()
    for url in (reverse("rule_new", args=[product.slug]), reverse("rule_edit", args=[product.slug, rule.pk])):
        assert teammate_client.get(url).status_code == 403
        assert teammate_client.post(url, HEAVY_DAY | {"version": "1"}).status_code == 403
    assert Rule.objects.count() == 1
    rule.refresh_from_db()
    assert rule.version == 1


def test_a_strangers_product_is_404(outsider_client, product, make_rule):
    rule = make_rule()
    for url in (reverse("rule_new", args=[product.slug]), reverse("rule_edit", args=[product.slug, rule.pk])):
        assert outsider_client.get(url).status_code == 404
        assert outsider_client.post(url, HEAVY_DAY | {"version": "1"}).status_code == 404
    assert Rule.objects.count() == 1


def test_an_admin_finds_new_and_edit_buttons_a_member_none(client, owner, teammate, product, make_rule):
    rule = make_rule()
    new_url, edit_url = reverse("rule_new", args=[product.slug]), reverse("rule_edit", args=[product.slug, rule.pk])
    pages = (reverse("rule_list", args=[product.slug]), reverse("rule_detail", args=[product.slug, rule.pk]))
    client.force_login(teammate)
    for url in pages:
        assert edit_url not in client.get(url).content.decode()
    assert new_url not in client.get(pages[0]).content.decode()
    client.force_login(owner)
    for url in pages:
        assert edit_url in client.get(url).content.decode()
    assert new_url in client.get(pages[0]).content.decode()


def test_the_pages_take_a_fixed_number_of_queries(owner_client, product, make_rule, django_assert_max_num_queries):
    rule = make_rule()
    with django_assert_max_num_queries(10):
        assert owner_client.get(reverse("rule_new", args=[product.slug])).status_code == 200
    with django_assert_max_num_queries(10):
        assert owner_client.get(reverse("rule_edit", args=[product.slug, rule.pk])).status_code == 200
    with django_assert_max_num_queries(14):
        assert _new(owner_client, product, name="Counted").status_code == 302
    with django_assert_max_num_queries(12):
        assert owner_client.post(reverse("rule_edit", args=[product.slug, rule.pk]), HEAVY_DAY | {"version": "1"}).status_code == 302


def test_what_only_the_whole_rule_shows_is_told_too(owner_client, product, monkeypatch):
    """Rule.clean's checks across fields (a kind that allows only some actions) come back beside their part."""
    monkeypatch.setattr("rules.editor.validate_rule", lambda rule: {"actions": "This condition takes only email and webhooks."})
    response = _new(owner_client, product)
    assert response.status_code == 400
    assert "This condition takes only email and webhooks." in text_of(response)
    assert not Rule.objects.exists()


def test_a_rule_about_the_products_cost_is_made_with_the_same_form(owner_client, product):
    """A condition kind the editor was not written for gets its inputs from its typed fields; the rule-wide
    check refuses a SIM action for a rule about the product, beside the actions."""
    cost = {
        "name": "Over budget", "condition_kind": "cost_over_budget", "condition-cost_over_budget-amount": "250",
        "window_kind": "period", "action-email-roles": ["admin"],
    }  # fmt: skip
    refused = _new(owner_client, product, **cost)
    assert refused.status_code == 400 and "can only email people or call the webhooks: remove pause" in text_of(refused)
    made = _new(owner_client, product, **cost, **{"action-pause": ""})
    assert made.status_code == 302
    rule = Rule.objects.get(name="Over budget")
    assert sentence(rule) == "When the product's estimated cost this billing period goes over $250.00, email the admins."


def test_a_country_rule_may_name_a_rate_zone_instead(owner_client, product):
    response = _new(owner_client, product, name="Roaming", condition_kind="country", **{"condition-country-zone": "Z2", "condition-country-countries": ""})
    assert response.status_code == 302
    rule = Rule.objects.get(name="Roaming")
    assert rule.condition == {"zone": "Z2"}
    assert sentence(rule).startswith("When a SIM attaches to a network in rate zone Z2, pause it")
    page = text_of(owner_client.get(reverse("rule_new", args=[product.slug])))
    assert "or in the rate zone" in page

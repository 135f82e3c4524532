"""A rule's parameters checked by their dataclasses (a clear error per field), its version bumped by each change,
and a rule firing once per SIM per window (the database refuses a second row)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from rules.models import Rule, RuleFiring


def make_rule(product, **fields) -> Rule:
    values = {"name": "Heavy users", "condition_kind": "usage_day", "condition": {"mb": 50}, "actions": [{"kind": "pause"}]}
    return Rule(product=product, **(values | fields))


def errors_of(rule: Rule) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as raised:
        rule.full_clean()
    return raised.value.message_dict


def test_a_good_rule_is_accepted(product):
    make_rule(product, scope_kind="filter", scope_value="state=active&country=DE", actions=[{"kind": "email", "roles": ["admin"]}]).full_clean()


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"condition": {"mb": "lots"}}, "condition", "mb must be a number"),
        ({"condition": {}}, "condition", "needs mb"),
        ({"condition": {"mb": 5, "hours": 3}}, "condition", "takes mb, not hours"),
        ({"condition_kind": "country", "condition": {"countries": ["XX"]}}, "condition", "Not a country code: XX"),
        ({"condition_kind": "state_changed", "condition": {"state": "gone"}}, "condition", "'gone' is not a state"),
        ({"condition_kind": "country", "condition": {"zone": "Z99"}}, "condition", "There is no rate zone 'Z99'"),
        ({"condition_kind": "country", "condition": {}}, "condition", "or a rate zone by its code"),
        ({"condition_kind": "country", "condition": {"countries": "DE"}}, "condition", 'countries must be a list of texts, such as ["DE", "FR"]'),
        ({"actions": [{"kind": "email", "roles": "admin"}]}, "actions", 'roles must be a list of texts, such as ["admin", "member"]'),
        ({"actions": []}, "actions", "at least one action"),
        ({"actions": [{"kind": "explode"}]}, "actions", "'explode' is not an action"),
        ({"actions": [{"kind": "data_limit"}]}, "actions", "needs mb"),
        ({"actions": [{"kind": "email"}]}, "actions", "Choose whom to email"),
        ({"actions": [{"kind": "sms", "body": "x" * 200}]}, "actions", "one SMS holds 160"),
        ({"scope_kind": "filter", "scope_value": "state=sleeping"}, "scope_value", "query string"),
        ({"scope_kind": "tac", "scope_value": "12ab"}, "scope_value", "first 8 digits"),
        ({"window_kind": "hours"}, "window_hours", "how many hours"),
    ],
)
def test_a_bad_parameter_says_what_is_wrong(product, fields, field, words):
    assert words in " ".join(errors_of(make_rule(product, **fields))[field])


def test_each_change_bumps_the_version(product):
    rule = make_rule(product)
    rule.save()
    assert rule.version == 1
    rule.enabled = False
    rule.save(update_fields=["enabled"])
    rule.refresh_from_db()
    assert rule.version == 2


def test_a_rule_fires_once_per_sim_per_window(product, sim):
    rule = make_rule(product)
    rule.save()
    RuleFiring.objects.create(rule=rule, rule_version=1, sim=sim, window_key="d2026-12-07")
    RuleFiring.objects.create(rule=rule, rule_version=1, sim=sim, window_key="d2026-12-08")
    with pytest.raises(IntegrityError), transaction.atomic():
        RuleFiring.objects.create(rule=rule, rule_version=1, sim=sim, window_key="d2026-12-07")


def test_the_admin_lists_rules_firings_and_approvals_and_refuses_a_bad_rule(admin_client, product):
    for model in ("rule", "rulefiring", "ruleapproval"):
        assert admin_client.get(f"/admin/rules/{model}/").status_code == 200
    response = admin_client.post(
        "/admin/rules/rule/add/",
        {
            "product": product.pk, "name": "Bad", "enabled": "on", "condition_kind": "usage_day", "condition": '{"mb": -1}',
            "scope_kind": "all", "scope_value": "", "actions": '[{"kind": "pause"}]', "window_kind": "day",
            "created_at_0": "2026-01-01", "created_at_1": "00:00:00", "updated_at_0": "2026-01-01", "updated_at_1": "00:00:00",
        },  # fmt: skip
    )
    assert response.status_code == 200 and "The amount of data must be more than 0 MB" in response.content.decode()
    assert not Rule.objects.exists()

"""The kinds a rule is made of: its condition, scope, window and actions (rules/conditions.py and
rules/actions.py type each kind's parameters)."""

from django.db import models


class ConditionKind(models.TextChoices):
    USAGE_DAY = "usage_day", "uses more than an amount of data in a day"
    USAGE_PERIOD = "usage_period", "uses more than an amount of data in the billing period"
    USAGE_ROLLING = "usage_rolling", "uses more than an amount of data in the last hours"
    SMS_COUNT = "sms_count", "sends more than a number of SMS in a day"
    SPIKE = "spike", "uses far more data in a day than usual (a spike)"
    NO_SESSION = "no_session", "has had no data session for some hours"
    IMEI_CHANGED = "imei_changed", "is seen in a new device (its IMEI changed)"
    COUNTRY = "country", "attaches to a network in a country"
    STATE_CHANGED = "state_changed", "changes state"
    # About the product as a whole, not a SIM: they fire once per product (or carrier account) per window.
    COST_OVER_BUDGET = "cost_over_budget", "the product's estimated cost this billing period goes over an amount or its budget"
    CARRIER_FAILURES = "carrier_failures", "too many of the changes pushed to a carrier account fail"
    # Built in, one rule each per product (rules/builtin.py): evaluated by sims, recorded here; never created by hand.
    DATA_LIMIT = "data_limit", "reaches its data limit (built in)"
    TEST_TRIGGER = "test_trigger", "reaches its product's test trigger (built in)"


# The conditions about the product, not a SIM: no scope, and actions that tell people (rules/product_pass.py).
PRODUCT_KINDS = frozenset({ConditionKind.COST_OVER_BUDGET, ConditionKind.CARRIER_FAILURES})


class ScopeKind(models.TextChoices):
    ALL = "all", "every SIM of the product"
    FILTER = "filter", "the SIMs a filter of the SIMs page lists"
    TAG = "tag", "SIMs in a device with a tag"
    TAC = "tac", "SIMs in a device model (TAC)"


class WindowKind(models.TextChoices):
    DAY = "day", "once a day"
    PERIOD = "period", "once a billing period"
    HOURS = "hours", "once every so many hours"


class ActionKind(models.TextChoices):
    PAUSE = "pause", "pause it"
    SUSPEND = "suspend", "suspend it"
    DATA_LIMIT = "data_limit", "set its data limit"
    TAG = "tag", "tag its device"
    EMAIL = "email", "email people"
    WEBHOOK = "webhook", "call the product's webhooks"
    SMS = "sms", "send an SMS to the device"

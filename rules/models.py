"""A product's rules (issue 18): when a SIM meets a condition, within a scope, do these actions, once per
SIM per window; and each time a rule fired (RuleFiring), with what it saw and what it did.

The condition's and the actions' parameters are JSON, each kind's checked by a typed dataclass
(rules/conditions.py, rules/actions.py): `Rule.clean` refuses what they refuse."""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from rules.kinds import ConditionKind, ScopeKind, WindowKind
from rules.validation import validate_rule


class Rule(models.Model):
    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="rules")
    name = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    # Bumped by each change (save_changes): a firing records the version that fired it.
    version = models.PositiveIntegerField(default=1)
    condition_kind = models.CharField(max_length=16, choices=ConditionKind.choices)
    condition = models.JSONField(default=dict, blank=True, help_text="The condition's parameters, as its kind takes them.")
    scope_kind = models.CharField(max_length=8, choices=ScopeKind.choices, default=ScopeKind.ALL)
    scope_value = models.CharField(
        max_length=500,
        blank=True,
        help_text="The SIMs page's filter (its query string: state=active&country=DE), the device tag, or the TAC.",
    )
    actions = models.JSONField(default=list, blank=True, help_text='A list of actions: [{"kind": "pause"}, ...].')
    # Hysteresis: a rule fires at most once per SIM in each window.
    window_kind = models.CharField(max_length=8, choices=WindowKind.choices, default=WindowKind.DAY)
    window_hours = models.PositiveIntegerField(null=True, blank=True, help_text="With 'once every so many hours'.")
    approval_threshold = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="A pass that would act on more SIMs than this waits for a person's approval. Empty: never waits.",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # The console's New rule form, sent twice (a double click, a resend), makes one rule: its token is unique.
    form_token = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["product", "name"]
        indexes = [models.Index(fields=["product", "condition_kind"], name="rule_product_kind", condition=Q(enabled=True))]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "condition_kind"],
                name="rule_builtin_once_per_product",
                condition=Q(condition_kind__in=[ConditionKind.DATA_LIMIT, ConditionKind.TEST_TRIGGER]),
            ),
            models.UniqueConstraint(fields=["product", "form_token"], name="rule_form_token_once"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Each change to a saved rule bumps its version (its firings name the version that fired them)."""
        if self.pk is not None and not kwargs.get("force_insert"):
            self.version += 1
            self.updated_at = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "version", "updated_at"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors = validate_rule(self)
        if errors:
            raise ValidationError(errors)


class RuleApproval(models.Model):
    """A pass of a rule that would have acted on more SIMs than its threshold: its firings wait here."""

    class Decision(models.TextChoices):
        PENDING = "pending", "Waiting"
        APPROVED = "approved", "Approved"
        REFUSED = "refused", "Refused"

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="approvals")
    pending = models.PositiveIntegerField(help_text="How many firings wait for the decision.")
    decision = models.CharField(max_length=8, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["rule"], name="ruleapproval_waiting", condition=Q(decision="pending"))]

    def __str__(self) -> str:
        return f"{self.rule}: {self.pending} SIMs, {self.get_decision_display().lower()}"


class RuleFiring(models.Model):
    """A rule met by a SIM in a window: once per (rule, SIM, window), the figures that fired it and what it did.

    A condition about the product (rules.kinds.PRODUCT_KINDS) fires with no SIM: its `subject` says what
    it is about ("" the product, "account:12" a carrier account), once per (rule, subject, window)."""

    class Status(models.TextChoices):
        DONE = "done", "Done"
        AWAITING = "awaiting", "Awaiting approval"
        APPROVED = "approved", "Approved and done"
        REFUSED = "refused", "Refused"

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="firings", db_index=False)
    rule_version = models.PositiveIntegerField()
    sim = models.ForeignKey("sims.Sim", null=True, blank=True, on_delete=models.CASCADE, db_constraint=False, related_name="+", db_index=False)
    subject = models.CharField(max_length=40, blank=True, db_default="", help_text="With no SIM: what fired, \"\" the product, \"account:12\" a carrier account.")
    # The window the rule fired in ("d2026-12-07", "p2026-12-01", "h24:123456"): once per SIM per window.
    window_key = models.CharField(max_length=32)
    fired_at = models.DateTimeField(default=timezone.now)
    figures = models.JSONField(default=dict, blank=True, help_text="What the rule saw: {'mb': 61.2, 'day': '2026-12-07'}.")
    did = models.JSONField(default=list, blank=True, help_text="What the rule did, a line per action.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DONE)
    approval = models.ForeignKey(RuleApproval, null=True, blank=True, on_delete=models.SET_NULL, related_name="firings", db_index=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "sim", "window_key"], name="rulefiring_once_per_window"),
            # A NULL SIM is distinct from every other in the key above: the product's firings have their own.
            models.UniqueConstraint(
                fields=["rule", "subject", "window_key"], condition=Q(sim__isnull=True), name="rulefiring_product_once_per_window"
            ),
        ]
        indexes = [
            # The SIM's timeline, newest first.
            models.Index(fields=["sim", "fired_at"], name="rulefiring_sim_fired"),
            # A rule's page, newest first.
            models.Index(fields=["rule", "fired_at"], name="rulefiring_rule_fired"),
            models.Index(fields=["approval"], name="rulefiring_approval", condition=Q(approval__isnull=False)),
        ]

    def __str__(self) -> str:
        about = f"SIM {self.sim_id}" if self.sim_id is not None else (self.subject or "the product")
        return f"{self.rule} on {about} ({self.window_key})"

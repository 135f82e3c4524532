"""Rules and their firings in the Django admin: a rule is checked by Rule.clean (its parameters' dataclasses);
firings are read-only, written by the engine (rules/engine.py) only."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from rules.approval import AlreadyDecided, decide
from rules.builtin import BUILTINS, is_builtin

from rules.models import Rule, RuleApproval, RuleFiring


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ["name", "product", "condition_kind", "scope_kind", "window_kind", "enabled", "version", "updated_at"]
    list_filter = ["enabled", "condition_kind", "product"]
    search_fields = ["name"]
    list_select_related = ["product"]
    raw_id_fields = ["product", "created_by"]
    readonly_fields = ["version", "created_at", "updated_at"]

    # A product's built-in rules (rules/builtin.py) are read here, never changed or deleted.
    def has_change_permission(self, request: HttpRequest, obj: Rule | None = None) -> bool:
        return not (obj is not None and is_builtin(obj)) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Rule | None = None) -> bool:
        return not (obj is not None and is_builtin(obj)) and super().has_delete_permission(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Rule]) -> None:
        if queryset.filter(condition_kind__in=list(BUILTINS)).exists():
            self.message_user(request, "Built-in rules cannot be deleted: they were kept.", level=messages.WARNING)
        super().delete_queryset(request, queryset.exclude(condition_kind__in=list(BUILTINS)))

    def save_model(self, request: HttpRequest, obj: Rule, form: object, change: bool) -> None:
        if not change and obj.created_by_id is None:
            obj.created_by_id = request.user.pk
        super().save_model(request, obj, form, change)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(RuleFiring)
class RuleFiringAdmin(ReadOnly):
    list_display = ["rule", "rule_version", "sim", "subject", "window_key", "fired_at", "status"]
    list_filter = ["status"]
    list_select_related = ["rule", "sim"]
    raw_id_fields = ["rule", "sim", "approval"]
    date_hierarchy = "fired_at"


@admin.register(RuleApproval)
class RuleApprovalAdmin(admin.ModelAdmin):
    """Waiting passes, decided here: approving runs the rule's actions for the waiting firings (rules/approval.py)."""

    list_display = ["rule", "pending", "decision", "decided_by", "decided_at", "created_at"]
    list_filter = ["decision"]
    list_select_related = ["rule", "decided_by"]
    readonly_fields = ["rule", "pending", "decision", "decided_by", "decided_at", "created_at"]
    actions = ["approve", "refuse"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Approve: run the rule's actions for the waiting SIMs")
    def approve(self, request: HttpRequest, queryset: QuerySet[RuleApproval]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Refuse: do nothing for the waiting SIMs")
    def refuse(self, request: HttpRequest, queryset: QuerySet[RuleApproval]) -> None:
        self._decide(request, queryset, approve=False)

    def _decide(self, request: HttpRequest, queryset: QuerySet[RuleApproval], *, approve: bool) -> None:
        for approval in queryset:
            try:
                decide(approval, approve=approve, user=request.user)
            except AlreadyDecided as error:
                self.message_user(request, f"{approval}: {error}", level=messages.WARNING)
            else:
                self.message_user(request, f"{approval.rule}: {'approved' if approve else 'refused'} for {approval.pending:,} SIMs.")

"""A product's rules in the console: every member reads the list and a rule's page (its firings, its
waiting approvals); admins create, edit, enable, disable and delete rules, and approve or refuse."""

from datetime import UTC, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from lib.calendar import billing_period_start
from lib.http import SignedInRequest
from products.access import get_membership_for_user, require_product_admin
from products.models import Membership
from rules.approval import AlreadyDecided, decide
from rules.backtest import Backtest, backtest
from rules.models import Rule, RuleApproval, RuleFiring
from rules.params import ParamError
from rules.sentence import sentence, window_phrase

FIRINGS_PER_PAGE = 50


def _get_rule(membership: Membership, rule_id: int) -> Rule:
    return get_object_or_404(Rule, pk=rule_id, product=membership.product)


@require_GET
@login_required
def rule_list(request: SignedInRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    start = billing_period_start(timezone.now())
    month = datetime(start.year, start.month, 1, tzinfo=UTC)
    rules = list(
        Rule.objects.filter(product=membership.product)
        .annotate(last_fired=Max("firings__fired_at"), fired_this_month=Count("firings", filter=Q(firings__fired_at__gte=month)))
        .order_by("name", "pk")
    )
    for rule in rules:
        rule.sentence = sentence(rule)  # type: ignore[attr-defined]
    return render(request, "rules/rule_list.html", {"product": membership.product, "membership": membership, "rules": rules})


@require_POST
@login_required
def rule_enabled(request: SignedInRequest, slug: str, rule_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    rule = _get_rule(membership, rule_id)
    enabled = request.POST.get("enabled") == "on"
    if rule.enabled != enabled:
        rule.enabled = enabled
        rule.save(update_fields=["enabled"])
    messages.success(request, f"Rule “{rule.name}” {'enabled: it fires from now on' if enabled else 'disabled: it fires no more until enabled'}.")
    if request.POST.get("next") == "rule":
        return redirect("rule_detail", slug=slug, rule_id=rule.pk)
    return redirect("rule_list", slug=slug)


@require_POST
@login_required
def rule_delete(request: SignedInRequest, slug: str, rule_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    rule = _get_rule(membership, rule_id)
    rule.delete()
    messages.success(request, f"Rule “{rule.name}” deleted, with its firings.")
    return redirect("rule_list", slug=slug)


@require_GET
@login_required
def rule_detail(request: SignedInRequest, slug: str, rule_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    rule = _get_rule(membership, rule_id)
    firings = RuleFiring.objects.filter(rule=rule).select_related("sim").order_by("-fired_at", "-pk")
    page = Paginator(firings, FIRINGS_PER_PAGE).get_page(request.GET.get("page"))
    approvals = RuleApproval.objects.filter(rule=rule, decision=RuleApproval.Decision.PENDING).order_by("created_at", "pk")
    replayed, replay_error = _backtest(rule)
    return render(
        request,
        "rules/rule_detail.html",
        {
            "product": membership.product,
            "membership": membership,
            "rule": rule,
            "sentence": sentence(rule),
            "window": window_phrase(rule.window_kind, rule.window_hours),
            "page": page,
            "approvals": list(approvals),
            "backtest": replayed,
            "backtest_error": replay_error,
        },
    )


def _backtest(rule: Rule) -> tuple[Backtest | None, str]:
    """The rule over the last 30 days, or why it cannot be (a condition made invalid outside the console)."""
    try:
        return backtest(rule, now=timezone.now()), ""
    except ParamError as error:
        return None, f"The rule cannot be replayed: {error} Edit its condition to see what it would have done."


@require_POST
@login_required
def rule_approval(request: SignedInRequest, slug: str, rule_id: int, approval_id: int) -> HttpResponse:
    """Approve or refuse a waiting pass: once only; a second decision (a double click, a teammate's) is told so."""
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    rule = _get_rule(membership, rule_id)
    approval = get_object_or_404(RuleApproval, pk=approval_id, rule=rule)
    choice = request.POST.get("decision")
    if choice not in ("approve", "refuse"):
        messages.error(request, "Choose Approve or Refuse.")
        return redirect("rule_detail", slug=slug, rule_id=rule.pk)
    try:
        decide(approval, approve=choice == "approve", user=request.user)
    except AlreadyDecided as error:
        messages.info(request, f"{error} Nothing more was done.")
    else:
        if choice == "approve":
            messages.success(request, f"Approved: the rule's actions ran for {approval.pending:,} SIMs.")
        else:
            messages.success(request, f"Refused: nothing was done for {approval.pending:,} SIMs.")
    return redirect("rule_detail", slug=slug, rule_id=rule.pk)

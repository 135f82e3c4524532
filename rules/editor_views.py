"""New rule and Edit rule, for a product's admins: the form that reads as a sentence (rules/editor.py)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from lib.http import SignedInRequest
from products.access import get_membership_for_user, require_product_admin
from products.models import Membership
from rules.editor import RuleForm
from rules.models import Rule
from rules.sentence import sentence
from rules.builtin import is_builtin
from rules.views import _get_rule, _refuse_builtin

TEMPLATE = "rules/rule_form.html"


def render_form(
    request: SignedInRequest, membership: Membership, form: RuleForm, *, rule: Rule | None = None, preview: dict | None = None, status: int = 200
) -> HttpResponse:
    """The form page; `preview` is what the rule as typed would have done (rules/preview_views.py)."""
    context = {
        "product": membership.product, "membership": membership, "form": form, "rule": rule, "saved_sentence": sentence(rule) if rule else "",
        "preview": preview or {},
    }  # fmt: skip
    return render(request, TEMPLATE + ("#editor" if request.htmx else ""), context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def rule_new(request: SignedInRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    product = membership.product
    if request.method == "GET":
        return render_form(request, membership, RuleForm(product=product))
    form = RuleForm(request.POST, product=product)
    if not form.is_valid():
        return render_form(request, membership, form, status=400)
    token = form.cleaned_data["form_token"]
    sent_before = Rule.objects.filter(product=product, form_token=token).first() if token else None
    if sent_before is not None:
        return _sent_twice(request, slug, sent_before)
    rule = form.rule()
    rule.form_token = token
    rule.created_by = request.user
    try:
        with transaction.atomic():
            rule.save(force_insert=True)
    except IntegrityError:
        # The same form sent twice at once: the other request made the rule.
        return _sent_twice(request, slug, Rule.objects.get(product=product, form_token=rule.form_token))
    messages.success(request, f"Rule “{rule.name}” created: {sentence(rule)}")
    return redirect("rule_detail", slug=slug, rule_id=rule.pk)


def _sent_twice(request: SignedInRequest, slug: str, rule: Rule) -> HttpResponse:
    messages.info(request, f"Rule “{rule.name}” was created already (the form was sent twice): no second rule was made.")
    return redirect("rule_detail", slug=slug, rule_id=rule.pk)


@require_http_methods(["GET", "POST"])
@login_required
def rule_edit(request: SignedInRequest, slug: str, rule_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    rule = _get_rule(membership, rule_id)
    if is_builtin(rule):
        return _refuse_builtin(request, slug, rule, "edited here")
    if request.method == "GET":
        return render_form(request, membership, RuleForm(product=membership.product, instance=rule), rule=rule)
    saved = Rule.objects.get(pk=rule.pk)  # the rule as stored, kept apart from the form's changes
    form = RuleForm(request.POST, product=membership.product, instance=rule)
    if not form.is_valid():
        return render_form(request, membership, form, rule=saved, status=400)
    if form.cleaned_data["version"] not in (None, saved.version):
        if _same(form.rule(), saved):
            messages.info(request, f"Rule “{saved.name}” is saved as you sent it (the form was sent twice).")
            return redirect("rule_detail", slug=slug, rule_id=saved.pk)
        form.add_error(None, f"Someone changed the rule since you opened it (it is at version {saved.version} now). Your changes are below, not saved: compare with the sentence above, then save again.")
        data = request.POST.copy()
        data["version"] = str(saved.version)  # saved again from here, it is on top of the change just seen
        form.data = data
        return render_form(request, membership, form, rule=saved, status=409)
    rule = form.rule()
    rule.save()
    messages.success(request, f"Rule “{rule.name}” saved as version {rule.version}: {sentence(rule)}")
    return redirect("rule_detail", slug=slug, rule_id=rule.pk)


EDITABLE = ("name", "enabled", "scope_kind", "scope_value", "condition_kind", "condition", "actions", "window_kind", "window_hours", "approval_threshold")


def _same(rule: Rule, other: Rule) -> bool:
    return all(getattr(rule, field) == getattr(other, field) for field in EDITABLE)

"""See what it would have done: the rule form as typed, replayed over the last 30 days (rules/backtest.py) and, for a
saved rule, compared with its saved version. Nothing is saved; the form comes back as typed, with the preview in it."""

import copy

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from lib.http import SignedInRequest
from products.access import get_membership_for_user, require_product_admin
from rules.backtest import backtest, compare
from rules.editor import RuleForm
from rules.editor_views import render_form
from rules.params import ParamError
from rules.sentence import sentence
from rules.views import _get_rule


@require_POST
@login_required
def rule_preview(request: SignedInRequest, slug: str, rule_id: int | None = None) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    saved = _get_rule(membership, rule_id) if rule_id is not None else None
    # The form changes its instance: a copy, so that the saved version stays as stored to compare with.
    form = RuleForm(request.POST, product=membership.product, instance=copy.copy(saved) if saved else None)
    preview: dict[str, object] = {}
    if form.is_valid():
        typed, now = form.rule(), timezone.now()
        preview = {"backtest": backtest(typed, now=now), "sentence": sentence(typed)}
        if saved is not None:
            try:
                preview["comparison"] = compare(preview["backtest"], backtest(saved, now=now), typed)  # type: ignore[arg-type]
            except ParamError:
                preview["comparison"] = "The saved version cannot be replayed to compare (its condition is not valid any more)."
    return render_form(request, membership, form, rule=saved, preview=preview, status=200 if preview else 400)

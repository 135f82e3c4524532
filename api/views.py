"""The Tokens page: a member's API tokens, for their products and their own SIMs."""

from datetime import UTC, datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from api.forms import TokenForm
from api.models import ApiToken
from api.tokens import TokenError, create_token, revoke_token
from products.models import Membership

# The new secret waits in the session for the page that shows it once.
NEW_SECRET = "new_api_token_secret"


@require_http_methods(["GET", "POST"])
@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    memberships = list(Membership.objects.filter(user=request.user).select_related("product").order_by("product__name"))
    form = TokenForm(request.POST or None, memberships=memberships)
    if request.method == "POST" and form.is_valid():
        expires_on = form.cleaned_data["expires_on"]
        try:
            token, secret = create_token(
                user=request.user, name=form.cleaned_data["name"], product=form.chosen_product(),
                scopes=form.cleaned_data["scopes"],
                expires_at=datetime.combine(expires_on, time(), tzinfo=UTC) if expires_on else None,
            )
        except TokenError as error:
            form.add_error(None, str(error))
        else:
            request.session[NEW_SECRET] = {"id": token.pk, "secret": secret}
            return redirect("api_tokens")
    new = request.session.pop(NEW_SECRET, None)
    context = {
        "form": form,
        "tokens": ApiToken.objects.filter(user=request.user).select_related("product"),
        "new_secret": new["secret"] if new else "",
        "new_id": new["id"] if new else None,
    }
    return render(request, "api/tokens.html", context, status=400 if form.errors else 200)


@require_POST
@login_required
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    revoke_token(token=token)
    messages.success(request, f"The token {token} is revoked: it no longer works anywhere.")
    return redirect("api_tokens")

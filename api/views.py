"""The Tokens page (a member's API tokens, for their products and their own SIMs) and the API's
OpenAPI document and reference page, which are public like Particle's documentation."""

from datetime import UTC, datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from api.forms import TokenForm
from api.models import ApiToken
from api.reference import Reader, inline_markdown
from api.schema import openapi_document
from api.tokens import TokenError, create_token, revoke_token
from lib.http import SignedInRequest
from products.models import Membership

@require_http_methods(["GET", "POST"])
@login_required
@never_cache  # the answer to a creation holds the secret: no browser or proxy cache may keep it
def tokens(request: SignedInRequest) -> HttpResponse:
    """The new secret is shown in the answer to the POST that made it, and kept nowhere else."""
    memberships = list(Membership.objects.products_of(request.user))
    form = TokenForm(request.POST or None, memberships=memberships)
    new = None
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
            new = token, secret
            form = TokenForm(memberships=memberships)
    context = {
        "form": form,
        "tokens": ApiToken.objects.filter(user=request.user).select_related("product"),
        "new_secret": new[1] if new else "",
        "new_id": new[0].pk if new else None,
    }
    return render(request, "api/tokens.html", context, status=400 if form.errors else 200)


@require_POST
@login_required
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    revoke_token(token=token)
    messages.success(request, f"The token {token} is revoked: it no longer works anywhere.")
    return redirect("api_tokens")


@require_GET
def api_schema(request: HttpRequest) -> HttpResponse:
    return JsonResponse(openapi_document(), json_dumps_params={"indent": 2})


@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    document = openapi_document()
    reader = Reader(document)
    context = {
        "info": document["info"],
        "description": inline_markdown(document["info"].get("description", "")),
        "sections": reader.sections(),
        "schemes": reader.security_schemes(),
    }
    return render(request, "api/docs.html", context)

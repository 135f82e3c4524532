"""Invitations: admins invite, resend and revoke on the team page; the invited person follows the link."""

import logging

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lib.http import SignedInRequest, absolute_url
from products.access import get_membership_for_user, require_product_admin
from products.forms import InviteForm, JoinAsForm, JoinForm
from products.invitations import (
    InvitationError,
    account_for,
    accept,
    invite,
    join_with_new_account,
    resend,
    revoke,
    usable_invitation,
)
from products.models import Invitation, Membership
from products.team import TeamError
from products.views import render_team

log = logging.getLogger(__name__)

# The mail server refused or did not answer (smtplib's errors are OSErrors).
MAIL_FAILED = (
    "The invitation is saved, but its email could not be sent ({error}). "
    "Check the console's email settings, then use Resend in the list of pending invitations."
)


def _link_for(request: HttpRequest):
    return lambda token: absolute_url(request, reverse("invitation", args=[token]))


@require_POST
@login_required
def team_invite(request: SignedInRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = invite(
                product=membership.product, email=form.cleaned_data["email"], role=form.cleaned_data["role"],
                invited_by=request.user, link_for=_link_for(request),
            )  # fmt: skip
        except TeamError as error:
            form.add_error("email", str(error))
        except OSError as error:
            messages.error(request, MAIL_FAILED.format(error=error))
            return _after(request, membership)
        else:
            messages.success(
                request, f"Invitation sent to {invitation.email}: the link works once, until {invitation.expires_at:%-d %b %Y}."
            )
            return _after(request, membership)
    return render_team(request, membership, invite_form=form, status=400)


@require_POST
@login_required
def invitation_resend(request: SignedInRequest, slug: str, invitation_id: int) -> HttpResponse:
    membership, invitation = _invitation_for_admin(request, slug, invitation_id)
    if invitation.accepted_at or invitation.revoked_at:
        messages.error(request, f"The invitation to {invitation.email} was {'accepted' if invitation.accepted_at else 'revoked'}: invite them again instead.")
        return _after(request, membership)
    try:
        fresh = resend(invitation=invitation, invited_by=request.user, link_for=_link_for(request))
    except OSError as error:
        messages.error(request, MAIL_FAILED.format(error=error))
    else:
        messages.success(request, f"A new invitation was sent to {fresh.email}; the earlier link no longer works.")
    return _after(request, membership)


@require_POST
@login_required
def invitation_revoke(request: SignedInRequest, slug: str, invitation_id: int) -> HttpResponse:
    membership, invitation = _invitation_for_admin(request, slug, invitation_id)
    if revoke(invitation=invitation):
        messages.success(request, f"The invitation to {invitation.email} was revoked: its link no longer works.")
    else:
        messages.error(request, f"The invitation to {invitation.email} had already been accepted or revoked.")
    return _after(request, membership)


def _invitation_for_admin(request: SignedInRequest, slug: str, invitation_id: int) -> tuple[Membership, Invitation]:
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    # Looked up among this product's invitations: another product's is 404, as if it did not exist.
    return membership, get_object_or_404(membership.product.invitations, pk=invitation_id)


def _after(request: SignedInRequest, membership: Membership) -> HttpResponse:
    if request.htmx:
        return render_team(request, membership)
    return redirect("team", slug=membership.product.slug)


# The link's token, once its GET has checked it: kept in the session so that the page, its form and
# the sign-in's ?next= use a URL without it (no live token in access logs, warnings or Referer).
SESSION_TOKEN = "invitation_token"


@require_GET
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the email: a usable token goes into the session and the browser on to the
    token-less page, as Django's password reset does. An unusable one says why here (it opens nothing)."""
    try:
        usable_invitation(token)
    except InvitationError as error:
        return _unusable(request, error)
    request.session[SESSION_TOKEN] = token
    return redirect("invitation_accept")


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest) -> HttpResponse:
    """Signed in: accept as yourself. Signed out: choose a password (no account with the invited
    address yet) or sign in first (one exists)."""
    token = request.session.get(SESSION_TOKEN)
    if not token:
        return render(request, "products/invitation_unusable.html", {"reason": "no_link"}, status=404)
    try:
        found = usable_invitation(token)
    except InvitationError as error:
        request.session.pop(SESSION_TOKEN, None)
        return _unusable(request, error)
    if request.user.is_authenticated:
        return _accept_signed_in(request, token, found)
    if account_for(found) is not None:
        return render(request, "products/invitation.html", {"invitation": found, "sign_in_first": True})
    return _join(request, token, found)


def _accept_signed_in(request: HttpRequest, token: str, found: Invitation) -> HttpResponse:
    # Sent to another address than the account's: the person says they mean to join as themselves.
    other_address = (getattr(request.user, "email", "") or "").casefold() != found.email.casefold()
    form = JoinAsForm(request.POST if request.method == "POST" else None, required=other_address)
    if request.method == "GET" or not form.is_valid():
        context = {"invitation": found, "confirm_form": form, "other_address": other_address}
        return render(request, "products/invitation.html", context, status=200 if request.method == "GET" else 400)
    try:
        membership = accept(token=token, user=request.user)
    except InvitationError as error:
        return _unusable(request, error)
    finally:
        request.session.pop(SESSION_TOKEN, None)
    return _welcome(request, membership)


def _join(request: HttpRequest, token: str, found: Invitation) -> HttpResponse:
    if request.method == "GET":
        form = JoinForm(email=found.email, initial={"username": _suggested_username(found.email)})
        return render(request, "products/invitation.html", {"invitation": found, "form": form})
    form = JoinForm(request.POST, email=found.email)
    if form.is_valid():
        try:
            membership = join_with_new_account(
                token=token, username=form.cleaned_data["username"], password=form.cleaned_data["password1"]
            )
        except InvitationError as error:
            request.session.pop(SESSION_TOKEN, None)
            return _unusable(request, error)
        except IntegrityError:
            form.add_error("username", "Someone has just taken this username: choose another.")
        else:
            request.session.pop(SESSION_TOKEN, None)
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            log.info("%s joined product %s by invitation", membership.user.get_username(), membership.product.slug)
            return _welcome(request, membership)
    return render(request, "products/invitation.html", {"invitation": found, "form": form}, status=400)


def _welcome(request: HttpRequest, membership: Membership) -> HttpResponse:
    messages.success(request, f"Welcome to {membership.product.name}: you are in its team as {membership.get_role_display().lower()}.")
    return redirect("sim_list", slug=membership.product.slug)


def _unusable(request: HttpRequest, error: InvitationError) -> HttpResponse:
    """A link that no longer works says what happened and what to do, for anyone holding it."""
    found = error.invitation
    if (
        error.reason == "accepted" and found is not None and request.user.is_authenticated
        and Membership.objects.filter(product=found.product, user=request.user).exists()
    ):  # fmt: skip
        # Clicked twice by the person who joined: they are where the link leads.
        return redirect("sim_list", slug=found.product.slug)
    # Revoked because it was resent: the newer email holds the working link.
    replaced = error.reason == "revoked" and found is not None and found.product.invitations.filter(
        email__iexact=found.email, accepted_at=None, revoked_at=None, created_at__gt=found.created_at
    ).exists()
    context = {"reason": "replaced" if replaced else error.reason, "invitation": found}
    return render(request, "products/invitation_unusable.html", context, status=404 if error.reason == "unknown" else 410)


def _suggested_username(email: str) -> str:
    base = "".join(ch for ch in email.split("@")[0] if ch.isalnum() or ch in "._-+")[:140] or "user"
    users = get_user_model().objects
    candidate, n = base, 1
    while users.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}{n}"
    return candidate

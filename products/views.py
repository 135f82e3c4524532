import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from lib.http import SignedInRequest
from products.access import get_membership_for_user, require_product_admin
from products.fleet import active_sim_count
from products.forms import AddMemberForm, ConfirmForm, DefaultDataLimitForm, InviteForm, RoleForm, TriggersForm
from products.invitations import pending_invitations
from products.models import Membership
from products.team import TeamError, add_member, change_role, ensure_an_admin_remains, remove_member

log = logging.getLogger(__name__)


@require_GET
@login_required
def product_home(request: HttpRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    return redirect("sim_list", slug=membership.product.slug)


@require_GET
@login_required
def team(request: SignedInRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    return _render_team(request, membership, AddMemberForm())


def _render_team(
    request: SignedInRequest,
    membership: Membership,
    form: AddMemberForm | None = None,
    status: int = 200,
    *,
    invite_form: InviteForm | None = None,
    confirm: dict | None = None,
) -> HttpResponse:
    """The team page (its #team fragment for htmx); `confirm` asks the admin to confirm a change to themselves."""
    product = membership.product
    template = "products/team.html"
    if request.htmx:
        template += "#team"
    return render(
        request,
        template,
        {
            "product": product,
            "membership": membership,
            "members": product.memberships.select_related("user"),
            "form": form or AddMemberForm(),
            "invite_form": invite_form or InviteForm(),
            "invitations": pending_invitations(product) if membership.is_admin else [],
            "confirm": confirm,
            "invitation_days": settings.INVITATION_DAYS,
            "roles": Membership.Role.choices,
        },
        status=status,
    )


render_team = _render_team


@require_POST
@login_required
def team_add(request: SignedInRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    form = AddMemberForm(request.POST)
    if form.is_valid():
        try:
            added = add_member(
                product=membership.product,
                username_or_email=form.cleaned_data["username_or_email"],
                role=form.cleaned_data["role"],
            )
        except TeamError as error:
            form.add_error("username_or_email", str(error))
        else:
            messages.success(request, f"{added.user.get_username()} joined the team as {added.get_role_display().lower()}.")
            return _after_change(request, membership)
    return _render_team(request, membership, form, status=400)


@require_POST
@login_required
def team_role(request: SignedInRequest, slug: str, member_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    target = get_object_or_404(membership.product.memberships.select_related("user"), pk=member_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role: admin or member.")
    elif _unconfirmed_self_demotion(target, membership, form):
        try:
            ensure_an_admin_remains(membership=target, what="made a member")
        except TeamError as error:
            messages.error(request, str(error))
        else:
            return _render_team(request, membership, confirm={"action": "role", "role": form.cleaned_data["role"]})
    else:
        try:
            change_role(membership=target, role=form.cleaned_data["role"])
        except TeamError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"{target.user.get_username()} is now {target.get_role_display().lower()}.")
    return _after_change(request, membership)


@require_POST
@login_required
def team_remove(request: SignedInRequest, slug: str, member_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    target = get_object_or_404(membership.product.memberships.select_related("user"), pk=member_id)
    leaving = target.pk == membership.pk
    if leaving and not _confirmed(request):
        try:
            ensure_an_admin_remains(membership=target, what="removed")
        except TeamError as error:
            messages.error(request, str(error))
            return _after_change(request, membership)
        return _render_team(request, membership, confirm={"action": "remove"})
    try:
        remove_member(membership=target)
    except TeamError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{target.user.get_username()} was removed from the team.")
        if leaving:
            return _leave(request)
    return _after_change(request, membership)


def _unconfirmed_self_demotion(target: Membership, membership: Membership, form: RoleForm) -> bool:
    """An admin making themselves a member, without the confirmation step's tick."""
    demoting = target.is_admin and form.cleaned_data["role"] != Membership.Role.ADMIN
    return target.pk == membership.pk and demoting and not form.cleaned_data["confirm"]


def _confirmed(request: SignedInRequest) -> bool:
    form = ConfirmForm(request.POST)
    return form.is_valid() and form.cleaned_data["confirm"]


def _leave(request: SignedInRequest) -> HttpResponse:
    if request.htmx:
        return HttpResponseClientRedirect(reverse("home"))
    return redirect("home")


def _after_change(request: SignedInRequest, membership: Membership) -> HttpResponse:
    if request.htmx:
        membership.refresh_from_db()
        return _render_team(request, membership, AddMemberForm())
    return redirect("team", slug=membership.product.slug)


@require_http_methods(["GET", "POST"])
@login_required
def product_settings(request: SignedInRequest, slug: str) -> HttpResponse:
    """The automatic triggers: product admins edit them, members read them."""
    membership = get_membership_for_user(request, slug)
    product = membership.product
    if request.method == "GET":
        return _render_settings(request, membership, TriggersForm(instance=product, read_only=not membership.is_admin))
    require_product_admin(membership)
    form = TriggersForm(request.POST, instance=product)
    if not form.is_valid():
        return _render_settings(request, membership, form, status=400)
    if form.changed_data:
        # The form has set the fields on the product already.
        product.save(update_fields=form.changed_data)
    log.info(
        "automatic triggers of product %s changed by %s: %s",
        product.slug, request.user.get_username(), {name: form.cleaned_data[name] for name in form.changed_data},
    )  # fmt: skip
    messages.success(request, "Automatic triggers saved: they apply from the next usage that arrives.")
    if request.htmx:
        return _render_settings(request, membership, TriggersForm(instance=product))
    return redirect("product_settings", slug=product.slug)


def _render_settings(request: SignedInRequest, membership: Membership, form: TriggersForm, status: int = 200) -> HttpResponse:
    template = "products/settings.html"
    if request.htmx:
        template += "#triggers"
    return render(
        request, template, {"product": membership.product, "membership": membership, "form": form}, status=status
    )


@require_GET
@login_required
def fleet_active_sims(request: HttpRequest, slug: str) -> HttpResponse:
    """The fleet header's count of active SIMs: it reads the SIM table, so it comes after the page."""
    membership = get_membership_for_user(request, slug)
    return render(request, "sims/partials/fleet_active.html", {"active": active_sim_count(membership.product)})


@require_POST
@login_required
def product_data_limit(request: HttpRequest, slug: str) -> HttpResponse:
    """The product's default data limit, for SIMs imported from now on (any member may set it, as in Particle)."""
    membership = get_membership_for_user(request, slug)
    product = membership.product
    form = DefaultDataLimitForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"The default data limit was not changed: {form.errors['data_limit_mb'][0]}")
        return redirect("sim_list", slug=product.slug)
    before = product.default_data_limit_mb
    product.default_data_limit_mb = form.cleaned_data["data_limit_mb"]
    product.save(update_fields=["default_data_limit_mb"])
    # Not a SIM event per SIM (a product may have millions): a log line and a message say who changed it.
    log.info(
        "default data limit of product %s changed from %s to %s MB by %s",
        product.slug, before, product.default_data_limit_mb, request.user.get_username(),
    )  # fmt: skip
    messages.success(
        request,
        f"Default data limit of {product.name} set to {product.effective_default_data_limit_mb} MB"
        f"{'' if product.default_data_limit_mb is not None else ' (the console default)'}, "
        "for SIMs imported from now on. SIMs already in the product keep their own limit.",
    )
    return redirect("sim_list", slug=product.slug)

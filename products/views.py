from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from products.access import get_membership_for_user, require_product_admin
from products.forms import AddMemberForm, RoleForm
from products.models import Membership
from products.team import TeamError, add_member, change_role, remove_member


@require_GET
@login_required
def product_home(request: HttpRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    return redirect("sim_list", slug=membership.product.slug)


@require_GET
@login_required
def team(request: HttpRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    return _render_team(request, membership, AddMemberForm())


def _render_team(request: HttpRequest, membership: Membership, form: AddMemberForm, status: int = 200) -> HttpResponse:
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
            "form": form,
            "roles": Membership.Role.choices,
        },
        status=status,
    )


@require_POST
@login_required
def team_add(request: HttpRequest, slug: str) -> HttpResponse:
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
def team_role(request: HttpRequest, slug: str, member_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    target = get_object_or_404(membership.product.memberships.select_related("user"), pk=member_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role: admin or member.")
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
def team_remove(request: HttpRequest, slug: str, member_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    target = get_object_or_404(membership.product.memberships.select_related("user"), pk=member_id)
    leaving = target.pk == membership.pk
    try:
        remove_member(membership=target)
    except TeamError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{target.user.get_username()} was removed from the team.")
        if leaving:
            return _leave(request)
    return _after_change(request, membership)


def _leave(request: HttpRequest) -> HttpResponse:
    if request.htmx:
        return HttpResponseClientRedirect(reverse("home"))
    return redirect("home")


def _after_change(request: HttpRequest, membership: Membership) -> HttpResponse:
    if request.htmx:
        membership.refresh_from_db()
        return _render_team(request, membership, AddMemberForm())
    return redirect("team", slug=membership.product.slug)

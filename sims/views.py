from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from products.access import get_membership_for_user
from products.models import Product
from sims.forms import CONSOLE_ACTIONS, BulkActionForm, DataLimitForm, SimFilterForm
from sims.lifecycle import Action, Actor, IllegalTransition, apply_action
from sims.listing import SimSelection, page_of_sims, select_sims
from sims.models import Sim

REFUSED_ICCIDS_SHOWN = 20


def _get_sim_for_product(product: Product, iccid: str) -> Sim:
    return get_object_or_404(Sim.objects.select_related("product"), product=product, iccid=iccid)


def _filtered(product: Product, params: QueryDict) -> tuple[SimFilterForm, SimSelection]:
    form = SimFilterForm(params)
    if not form.is_valid():
        return form, SimSelection(product=product, sims=Sim.objects.none(), fragment="", starts=None)
    data = form.cleaned_data
    return form, select_sims(product=product, state=data["state"], country=data["country"], fragment=data["q"])


@require_GET
@login_required
def sim_list(request: HttpRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    product = membership.product
    form, selection = _filtered(product, request.GET)
    page = page_of_sims(
        selection=selection,
        per_page=settings.SIMS_PER_PAGE,
        after=_cursor(request.GET.get("after")),
        before=_cursor(request.GET.get("before")),
        last=request.GET.get("last") == "1",
    )
    template = "sims/sim_list.html"
    if request.htmx and request.htmx.target == "sim-table":
        template += "#table"
    return render(
        request,
        template,
        {
            "product": product,
            "membership": membership,
            "filter_form": form,
            "page": page,
            "filter_query": _filter_query(request.GET),
            "page_query": _page_query(request.GET),
            "actions": CONSOLE_ACTIONS,
        },
    )


@require_GET
@login_required
def sim_count(request: HttpRequest, slug: str) -> HttpResponse:
    """How many SIMs match the filter: fetched after the rows, so they never wait for it."""
    membership = get_membership_for_user(request, slug)
    _, selection = _filtered(membership.product, request.GET)
    return render(request, "sims/partials/sim_count.html", {"count": selection.count()})


def _cursor(value: str | None) -> str:
    """An ICCID to page from; anything else means the first page."""
    return value if value and value.isdigit() and len(value) <= 22 else ""


def _filter_query(params: QueryDict) -> str:
    """The current filter as a query string, for page links, the count and 'all matching'."""
    kept = QueryDict(mutable=True)
    for name in ("state", "country", "q"):
        if params.get(name):
            kept[name] = params[name]
    return kept.urlencode()


def _page_query(params: QueryDict) -> str:
    """The current filter and page, to reload this very page after a bulk action."""
    kept = QueryDict(_filter_query(params), mutable=True)
    for name in ("after", "before", "last"):
        if params.get(name):
            kept[name] = params[name]
    return kept.urlencode()


@require_GET
@login_required
def sim_detail(request: HttpRequest, slug: str, iccid: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    sim = _get_sim_for_product(membership.product, iccid)
    events = sim.events.select_related("actor_user").order_by("-id")[:200]
    return render(
        request,
        "sims/sim_detail.html",
        {"product": membership.product, "membership": membership, "sim": sim, "events": events, "actions": CONSOLE_ACTIONS},
    )


@require_GET
@login_required
def sim_menu(request: HttpRequest, slug: str, iccid: str) -> HttpResponse:
    """A row's actions, loaded when its menu opens: fifty menus in every page would cost 20 ms."""
    membership = get_membership_for_user(request, slug)
    sim = _get_sim_for_product(membership.product, iccid)
    context = {"product": membership.product, "sim": sim, "actions": CONSOLE_ACTIONS, "in_row": True}
    return render(request, "sims/partials/sim_actions.html", context)


@require_POST
@login_required
def sim_action(request: HttpRequest, slug: str, iccid: str, action: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    product = membership.product
    sim = _get_sim_for_product(product, iccid)
    chosen = next((known for known in CONSOLE_ACTIONS if known.value == action), None)
    if chosen is None:
        raise Http404("No such action.")
    _run_row_action(request, sim, chosen)
    if request.htmx:
        return render(request, "sims/partials/row_result.html", {"product": product, "sim": sim, "actions": CONSOLE_ACTIONS})
    return redirect(_safe_next(request) or reverse("sim_detail", args=[product.slug, sim.iccid]))


def _safe_next(request: HttpRequest) -> str | None:
    """The 'next' page of a form, if it is on this site."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return None


def _run_row_action(request: HttpRequest, sim: Sim, action: Action) -> None:
    data_limit_mb = None
    if action == Action.SET_DATA_LIMIT:
        form = DataLimitForm(request.POST)
        if not form.is_valid():
            messages.error(request, f"{sim.iccid}: {form.errors['data_limit_mb'][0]}")
            return
        data_limit_mb = form.cleaned_data["data_limit_mb"]
    try:
        apply_action(sims=sim, action=action, actor=Actor.for_user(request.user), data_limit_mb=data_limit_mb)
    except IllegalTransition as error:
        messages.error(request, f"{sim.iccid}: {error}")
        return
    messages.success(request, f"{sim.iccid}: {_done_message(action, sim)}")


_DONE = {
    Action.DEACTIVATE: "deactivated",
    Action.REACTIVATE: "reactivated",
    Action.UNPAUSE: "unpaused",
    Action.TERMINATE: "terminated",
    Action.REMOVE: "removed from the product",
}


def _done_message(action: Action, sim: Sim) -> str:
    if action == Action.SET_DATA_LIMIT:
        return f"data limit set to {sim.data_limit_mb} MB."
    return f"{_DONE[action]}; the SIM is now {sim.state}."


@require_POST
@login_required
def sims_bulk(request: HttpRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    product = membership.product
    form = BulkActionForm(request.POST)
    context = {"product": product, "form": form}
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        if data["scope"] == "selected":
            requested = set(data["ids"])
            sims = Sim.objects.filter(product=product, pk__in=requested)
        else:
            _, selection = _filtered(product, request.POST)
            sims = selection.queryset
            requested = None
        report = apply_action(
            sims=sims,
            action=Action(data["action"]),
            actor=Actor.for_user(request.user),
            data_limit_mb=data.get("data_limit_mb"),
        )
        handled = len(report.done) + len(report.refused)
        context.update(
            report=report,
            not_found=(len(requested) - handled) if requested is not None else 0,
            refused_groups=[
                (reason, count, [o.iccid for o in report.refused if o.refused_reason == reason][:REFUSED_ICCIDS_SHOWN])
                for reason, count in report.refused_by_reason.most_common()
            ],
        )
        status = 200
    if request.htmx:
        response = render(request, "sims/partials/bulk_result.html", context, status=status)
        response["HX-Trigger"] = "sims-changed"
        return response
    if status == 200:
        messages.success(request, context["report"].summary())
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(reverse("sim_list", args=[product.slug]))

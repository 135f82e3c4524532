from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_countries.fields import Country

from billing.billing import Period, sim_usage_by_country
from lib.calendar import billing_period_start
from lib.charts import DayUsage
from lib.http import SignedInRequest
from lib.units import MB, human_bytes
from products.access import get_membership_for_user
from products.fleet import fleet_summary
from products.forms import DefaultDataLimitForm
from products.models import PricingModel, Product
from sims.forms import CONSOLE_ACTIONS, BulkActionForm, DataLimitForm, SimFilterForm
from sims.lifecycle import Action, Actor, IllegalTransition
from sims.limits import LimitChange, change_sims, period_usage
from sims.export import sim_csv
from sims.list_links import MAX_PAGE_NUMBER, page_links, page_position, sort_links, with_params
from sims.listing import ListOrder, SimPage, SimSelection, add_period_use, page_of_sims, select_sims, ticked_sims
from sims.models import Sim, SimDailyUsage, State
from sims.spikes import latest_spike_day

REFUSED_ICCIDS_SHOWN = 20
# A SIM's page charts this many days, today included.
CHART_DAYS = 60


def _get_sim_for_product(product: Product, iccid: str) -> Sim:
    return get_object_or_404(Sim.objects.select_related("product"), product=product, iccid=iccid)


def _filtered(product: Product, params: QueryDict) -> tuple[SimFilterForm, SimSelection]:
    form = SimFilterForm(params)
    if not form.is_valid():
        return form, SimSelection(product=product, sims=Sim.objects.none(), fragment="", starts=None)
    data = form.cleaned_data
    spiking_on = None
    if data["spikes"]:
        spiking_on = latest_spike_day(product, today=timezone.now().date())
        if spiking_on is None:
            return form, SimSelection(product=product, sims=Sim.objects.none(), fragment="", starts=None)
    selection = select_sims(
        product=product, state=data["state"], country=data["country"], fragment=data["q"], spiking_on=spiking_on
    )
    return form, selection


@require_GET
@login_required
def sim_list(request: SignedInRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    product = membership.product
    form, selection = _filtered(product, request.GET)
    order = _order(form)
    page = page_of_sims(
        selection=selection,
        per_page=settings.SIMS_PER_PAGE,
        after=_cursor(request.GET.get("after")),
        before=_cursor(request.GET.get("before")),
        last=request.GET.get("last") == "1",
        order=order,
    )
    number = _page_number(request.GET, page)
    filter_query = _filter_query(request.GET)
    context = {
        "product": product,
        "membership": membership,
        "filter_form": form,
        "page": page,
        "order": order,
        "sort_links": sort_links(filter_query, order),
        "page_links": page_links(filter_query, page, number),
        "filter_query": filter_query,
        "count_query": with_params(filter_query, page=number, shown=len(page.sims)),
        "page_query": _page_query(request.GET),
        "actions": CONSOLE_ACTIONS,
    }
    template = "sims/sim_list.html"
    if request.htmx and request.htmx.target == "sim-table":
        template += "#table"
    else:
        context.update(fleet=fleet_summary(product, now=timezone.now()), default_limit_form=DefaultDataLimitForm())
    return render(request, template, context)


@require_GET
@login_required
def sim_count(request: HttpRequest, slug: str) -> HttpResponse:
    """How many SIMs match the filter, and where the page is among them: fetched after the rows,
    so they never wait for it."""
    membership = get_membership_for_user(request, slug)
    _, selection = _filtered(membership.product, request.GET)
    count = selection.count()
    context = {"count": count, "position": page_position(request.GET, count=count, per_page=settings.SIMS_PER_PAGE)}
    return render(request, "sims/partials/sim_count.html", context)


@require_GET
@login_required
def sim_export(request: HttpRequest, slug: str) -> HttpResponse | StreamingHttpResponse:
    """Every SIM the filter shows, in the list's order, as CSV: streamed a chunk at a time."""
    membership = get_membership_for_user(request, slug)
    product = membership.product
    form, selection = _filtered(product, request.GET)
    if not form.is_valid():
        problems = " ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponse(f"Nothing exported: {problems}", status=400, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(sim_csv(selection, order=_order(form)), content_type="text/csv; charset=utf-8")
    filename = f"{product.slug}-sims-{timezone.now():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _order(form: SimFilterForm) -> ListOrder:
    return (ListOrder.parse(form.cleaned_data["sort"]) if form.is_valid() else None) or ListOrder()


def _cursor(value: str | None) -> str:
    """Where to page from, as the page links write it; the sort decides if it makes sense."""
    return value if value and len(value) <= 44 else ""


def _page_number(params: QueryDict, page: SimPage) -> int | None:
    """The page's number, counted from the first page (1, 2, ...) or from the last (-1, -2, ...),
    carried by the page links; None when the link did not say (a bookmark of an old link)."""
    if not page.has_previous:
        return 1
    if params.get("last") == "1":
        return -1
    try:
        number = int(params.get("page", ""))
    except ValueError:
        return None
    return number if number and abs(number) <= MAX_PAGE_NUMBER else None


def _filter_query(params: QueryDict) -> str:
    """The current filter and sort as a query string, for page links, the count, the export and 'all matching'."""
    kept = QueryDict(mutable=True)
    for name in ("state", "country", "q", "spikes", "sort"):
        if value := params.get(name):
            kept[name] = value
    return kept.urlencode()


def _page_query(params: QueryDict) -> str:
    """The current filter and page, to reload this very page after a bulk action."""
    kept = QueryDict(_filter_query(params), mutable=True)
    for name in ("after", "before", "last", "page"):
        if value := params.get(name):
            kept[name] = value
    return kept.urlencode()


@require_GET
@login_required
def sim_detail(request: HttpRequest, slug: str, iccid: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    sim = _get_sim_for_product(membership.product, iccid)
    events = sim.events.select_related("actor_user").order_by("-id")[:200]
    today = timezone.now().date()
    days = _daily_usage(sim, today)
    period_start = billing_period_start(timezone.now())
    home_zone, visited = sim_usage_by_country(sim, product=membership.product, period=Period(period_start))
    return render(
        request,
        "sims/sim_detail.html",
        {
            "product": membership.product,
            "membership": membership,
            "sim": sim,
            "events": events,
            "actions": CONSOLE_ACTIONS,
            "days": days,
            "period_start": period_start,
            "period_used": sum(d.bytes or 0 for d in days if d.day >= period_start),
            "home_zone": home_zone,
            "visited": [(v, Country(v.country) if v.country else None) for v in visited],
            "home_bytes": sum(v.bytes for v in visited if v.at_home),
            "roaming_bytes": sum(v.bytes for v in visited if not v.at_home),
            "per_sim_plan": membership.product.pricing_model == PricingModel.PER_SIM,
        },
    )


def _daily_usage(sim: Sim, today: date) -> list[DayUsage]:
    """The SIM's usage on each of the last CHART_DAYS days (a month is at most 31: the period is in them)."""
    first = today - timedelta(days=CHART_DAYS - 1)
    amounts = dict(SimDailyUsage.objects.filter(sim=sim, day__gte=first, day__lte=today).values_list("day", "bytes"))
    return [DayUsage(day=day, bytes=amounts.get(day, 0)) for day in (first + timedelta(days=n) for n in range(CHART_DAYS))]


@require_GET
@login_required
def sim_menu(request: HttpRequest, slug: str, iccid: str) -> HttpResponse:
    """A row's actions, loaded when its menu opens: fifty menus in every page would cost 20 ms."""
    membership = get_membership_for_user(request, slug)
    sim = _get_sim_for_product(membership.product, iccid)
    context = {
        "product": membership.product,
        "sim": sim,
        "actions": CONSOLE_ACTIONS,
        "in_row": True,
        "period_used": period_usage([sim.pk]).get(sim.pk, 0),
    }
    return render(request, "sims/partials/sim_actions.html", context)


@require_POST
@login_required
def sim_action(request: SignedInRequest, slug: str, iccid: str, action: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    product = membership.product
    sim = _get_sim_for_product(product, iccid)
    chosen = next((known for known in CONSOLE_ACTIONS if known.value == action), None)
    if chosen is None:
        raise Http404("No such action.")
    _run_row_action(request, sim, chosen)
    if request.htmx:
        add_period_use([sim], product)
        return render(request, "sims/partials/row_result.html", {"product": product, "sim": sim, "actions": CONSOLE_ACTIONS})
    return redirect(_safe_next(request) or reverse("sim_detail", args=[product.slug, sim.iccid]))


def _safe_next(request: HttpRequest) -> str | None:
    """The 'next' page of a form, if it is on this site."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return None


def _run_row_action(request: HttpRequest, sim: Sim, action: Action) -> None:
    limit: dict = {}
    if action == Action.SET_DATA_LIMIT:
        form = DataLimitForm(request.POST)
        if not form.is_valid():
            messages.error(request, f"{sim.iccid}: {form.errors['data_limit_mb'][0]}")
            return
        limit = form.cleaned_data
    was_paused = sim.state == State.PAUSED
    try:
        change = change_sims(sims=sim, action=action, actor=Actor.for_user(request.user), **limit)
    except IllegalTransition as error:
        messages.error(request, f"{sim.iccid}: {error}")
        return
    done = _limit_message(sim, change, was_paused) if action == Action.SET_DATA_LIMIT else _done_message(action, sim)
    messages.success(request, f"{sim.iccid}: {done}")


def _limit_message(sim: Sim, change: LimitChange, was_paused: bool) -> str:
    assert sim.data_limit_mb is not None  # it was just set
    text = f"data limit set to {sim.data_limit_mb} MB"
    used = period_usage([sim.pk]).get(sim.pk, 0)
    if change.paused:
        text += f"; paused at once: {human_bytes(used)} used this period reaches it."
    elif change.unpaused:
        text += f"; unpaused: {human_bytes(used)} used this period is under it."
    elif was_paused:
        under = used < sim.data_limit_mb * MB
        text += (
            "; still paused (unpause it when you are ready)." if under
            else f"; still paused: {human_bytes(used)} used this period reaches it."
        )  # fmt: skip
    else:
        text += "."
    return text


_DONE = {
    Action.DEACTIVATE: "deactivated",
    Action.REACTIVATE: "reactivated",
    Action.UNPAUSE: "unpaused",
    Action.TERMINATE: "terminated",
    Action.REMOVE: "removed from the product",
}


def _done_message(action: Action, sim: Sim) -> str:
    return f"{_DONE[action]}; the SIM is now {sim.state}."


def _limit_summary(change: LimitChange) -> str:
    if not (change.paused or change.unpaused):
        return ""
    return f" {change.paused:,} paused at once (at or over the new limit), {change.unpaused:,} unpaused (now under it)."


@require_POST
@login_required
def sims_bulk(request: SignedInRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    product = membership.product
    form = BulkActionForm(request.POST)
    context: dict[str, Any] = {"product": product, "form": form}
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        sims: QuerySet[Sim] | list[int]
        if data["scope"] == "selected":
            requested = set(data["ids"])
            sims, within = ticked_sims(product, list(requested)), product.pk
        else:
            _, selection = _filtered(product, request.POST)
            sims, within = selection.queryset, None
            requested = None
        change = change_sims(
            sims=sims, action=Action(data["action"]), actor=Actor.for_user(request.user),
            data_limit_mb=data["data_limit_mb"], unpause=data["unpause"], product_id=within,
        )
        report = change.report
        handled = len(report.done) + len(report.refused)
        context.update(
            report=report,
            limit_change=change,
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
        messages.success(request, context["report"].summary() + _limit_summary(context["limit_change"]))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return redirect(reverse("sim_list", args=[product.slug]))

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_countries.fields import Country
from django_htmx.http import HttpResponseClientRedirect

from lib.calendar import billing_period_start
from lib.charts import DayUsage
from lib.http import SignedInRequest
from lib.units import MB, human_bytes
from products.access import get_membership_for_user
from products.fleet import fleet_summary
from products.forms import DefaultDataLimitForm
from products.models import Product
from sims.bulk_confirmation import TYPED_CONFIRMATION_ABOVE, needs_typed_count, typed_count_problem, what_it_does
from sims.connectivity_counts import fleet_connectivity
from sims.bulk_jobs import FormAlreadyUsed, recent_bulk_jobs, seconds_left, skipped_by_reason, start_bulk_job
from sims.forms import CONSOLE_ACTIONS, BulkActionForm, DataLimitForm, SimFilterForm
from sims.lifecycle import Action, Actor, IllegalTransition
from sims.limits import LimitChange, change_sims, period_usage
from sims.export import sim_csv
from sims.list_links import MAX_PAGE_NUMBER, page_links, page_position, sort_links, with_params
from sims.listing import ConnectivityFilter, ListOrder, SimPage, SimSelection, add_connectivity, add_period_use, page_of_sims, select_sims, ticked_sims
from sims.models import BulkJob, Sim, SimDailyUsage, State
from sims.network import BUILT_IN_ADAPTER, adapter_can, adapters_unable, carrier_can, carrier_refusal, refusal
from sims.spikes import latest_spike_day
from sims.timeline import Cursor, timeline
from sims.why_offline import connectivity_of, reset_waiting, why_offline

REFUSED_ICCIDS_SHOWN = 20
# A SIM's page charts this many days, today included.
CHART_DAYS = 60


def _get_sim_for_product(product: Product, iccid: str) -> Sim:
    # The device the SIM is in (named by Sim.device: sims knows nothing else of devices), in the same query.
    return get_object_or_404(Sim.objects.select_related("product", "carrier_account", "device"), product=product, iccid=iccid)


def _filter_of(product: Product, params: QueryDict) -> tuple[SimFilterForm, dict[str, Any] | None]:
    """The filter's form, and `select_sims`' arguments for it (None: it selects no SIM)."""
    form = SimFilterForm(params)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    spiking_on = None
    if data["spikes"]:
        spiking_on = latest_spike_day(product, today=timezone.now().date())
        if spiking_on is None:
            return form, None
    return form, {
        "state": data["state"], "country": data["country"], "fragment": data["q"], "spiking_on": spiking_on, "network": data["network"],
        "connectivity": data["connectivity"],
    }  # fmt: skip


def _filtered(product: Product, params: QueryDict) -> tuple[SimFilterForm, SimSelection]:
    form, chosen = _filter_of(product, params)
    if chosen is None:
        return form, SimSelection(product=product, sims=Sim.objects.none(), fragment="", starts=None)
    return form, select_sims(product=product, **chosen)


def selection_for(product: Product, params: QueryDict) -> SimSelection:
    """The SIMs the SIMs page's filter in `params` selects (none when it is not valid): for the views above sims
    (carriers' bulk Retry)."""
    return _filtered(product, params)[1]


def _offered_actions(product: Product) -> list[Action]:
    """The bulk bar's actions: those at least one carrier of the product can carry out (sims/network.py)."""
    adapters = {BUILT_IN_ADAPTER, *product.carrier_accounts.values_list("adapter", flat=True)}
    return [action for action in CONSOLE_ACTIONS if any(adapter_can(adapter, action) for adapter in adapters)]


def _carrier_refusal(product: Product, action: Action, sims: QuerySet[Sim] | list[int]) -> str | None:
    """Why the action cannot go to the carrier of some of these SIMs (None: every carrier can)."""
    adapters = {BUILT_IN_ADAPTER, *product.carrier_accounts.values_list("adapter", flat=True)}
    unable = adapters_unable(adapters, action)
    if not unable:
        return None
    chosen = Sim.objects.filter(pk__in=sims) if isinstance(sims, list) else sims
    on_unable = chosen.filter(carrier_account__adapter__in=unable)
    if BUILT_IN_ADAPTER in unable:
        on_unable = chosen.filter(Q(carrier_account__adapter__in=unable) | Q(carrier_account__isnull=True))
    counted = on_unable.order_by().values("carrier_account__name").annotate(sims=Count("pk"))
    rows = [(row["carrier_account__name"] or "Built-in simulator", row["sims"]) for row in counted]
    if not rows:
        return None
    return refusal(action, ", ".join(name for name, _ in rows), sum(count for _, count in rows))


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
        "actions": _offered_actions(product),
        # One per rendering of the bulk form: submitted twice, it starts one background job.
        "submission": uuid.uuid4().hex,
    }
    template = "sims/sim_list.html"
    if request.htmx and request.htmx.target == "sim-table":
        template += "#table"
    else:
        context.update(
            fleet=fleet_summary(product, now=timezone.now()),
            default_limit_form=DefaultDataLimitForm(),
            bulk_jobs=recent_bulk_jobs(product, now=timezone.now()),
        )
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
def fleet_connectivity_counts(request: HttpRequest, slug: str) -> HttpResponse:
    """The fleet header's online / attached / offline / never seen counts, each a link to its filter:
    they read SimConnectivity's index, so they come after the page, as the active SIMs do."""
    membership = get_membership_for_user(request, slug)
    product = membership.product
    counts = fleet_connectivity(product, now=timezone.now())
    return render(request, "sims/partials/fleet_connectivity.html", {"product": product, "counts": counts})


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
    for name in ("state", "country", "q", "spikes", "network", "connectivity", "sort"):
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
    today = timezone.now().date()
    connectivity = connectivity_of(sim)
    days = _daily_usage(sim, today)
    period_start = billing_period_start(timezone.now())
    on_network = sim.state in (State.ACTIVE, State.PROVISIONED, State.PAUSED)
    return render(
        request,
        "sims/sim_detail.html",
        {
            "product": membership.product,
            "membership": membership,
            "sim": sim,
            "actions": CONSOLE_ACTIONS,
            "timeline": timeline(sim),
            "connectivity": connectivity,
            "why_offline": why_offline(sim, connectivity),
            "reset_waiting": reset_waiting(connectivity),
            "can_reset": on_network and carrier_can(sim, "reset_connectivity"),
            # Said, not only hidden: the carrier (Twilio Super SIM) offers no reset the console can ask for.
            "reset_not_offered": on_network and not carrier_can(sim, "reset_connectivity"),
            "days": days,
            "period_start": period_start,
            "period_used": sum(d.bytes or 0 for d in days if d.day >= period_start),
        },
    )


@require_GET
@login_required
def sim_timeline(request: HttpRequest, slug: str, iccid: str) -> HttpResponse:
    """The "Older" entries of a SIM's timeline: the page after the cursor, as rows for the SIM page's list."""
    membership = get_membership_for_user(request, slug)
    sim = _get_sim_for_product(membership.product, iccid)
    after = None
    if request.GET.get("after"):
        try:
            after = Cursor.decode(request.GET["after"])
        except ValueError:
            return HttpResponse(
                "This link to older entries is broken: reload the SIM page and use its Older button.", status=400, content_type="text/plain"
            )
    page = timeline(sim, after=after)
    return render(request, "sims/partials/timeline_entries.html", {"product": membership.product, "sim": sim, "timeline": page})


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
        add_connectivity([sim])
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
    if (cannot := carrier_refusal(sim, action)) is not None:
        messages.error(request, f"{sim.iccid}: {cannot}")
        return
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


@dataclass(frozen=True)
class _Chosen:
    """The SIMs a bulk form chose: the ids ticked in the product, or the filter's selection."""

    described: str
    ids: list[int] | None = None
    selection: SimSelection | None = None
    requested: int | None = None  # ids ticked, to count those not found in the product
    filters: dict[str, str] | None = None  # for a background job: the filter, worked out again by the worker

    @property
    def sims(self) -> QuerySet[Sim] | list[int]:
        return self.ids if self.ids is not None else self.selection.queryset if self.selection else Sim.objects.none()

    def count(self) -> int:
        return len(self.ids) if self.ids is not None else self.selection.count() if self.selection else 0

    def count_up_to(self, limit: int) -> int:
        if self.ids is not None:
            return min(len(self.ids), limit)
        return self.selection.count_up_to(limit) if self.selection else 0


def _chosen_sims(product: Product, data: dict[str, Any], params: QueryDict) -> _Chosen:
    if data["scope"] == "selected":
        requested = set(data["ids"])
        return _Chosen(described="the SIMs selected on the page", ids=ticked_sims(product, list(requested)), requested=len(requested))
    form, chosen = _filter_of(product, params)
    if chosen is None:
        return _Chosen(described="no SIM (the filter is not valid)")
    filters = {
        "state": chosen["state"], "country": chosen["country"], "q": chosen["fragment"],
        "spiking_on": chosen["spiking_on"].isoformat() if chosen["spiking_on"] else "", "network": chosen["network"],
        "connectivity": chosen["connectivity"],
    }  # fmt: skip
    return _Chosen(described=_described(form, chosen), selection=select_sims(product=product, **chosen), filters=filters)


def _described(form: SimFilterForm, chosen: dict[str, Any]) -> str:
    """The filter in words: 'SIMs matching state Active, home country France'."""
    parts = []
    if chosen["state"]:
        parts.append(f"state {State(chosen['state']).label}")
    if chosen["country"]:
        parts.append(f"home country {Country(chosen['country']).name}")
    if chosen["fragment"]:
        parts.append(f"ICCID containing {chosen['fragment']}")
    if chosen["spiking_on"]:
        parts.append(f"spiking on {chosen['spiking_on']:%-d %b}")
    if chosen["network"]:
        parts.append("pending on the network" if chosen["network"] == "pending" else "refused by the carrier")
    if chosen["connectivity"]:
        parts.append(f"connectivity {ConnectivityFilter(chosen['connectivity']).label.lower()}")
    return "SIMs matching " + ", ".join(parts) if parts else "every SIM of the product"


# Fields of the bulk form that the confirmation sends again as they were; it adds the typed number.
_NOT_CARRIED = {"csrfmiddlewaretoken", "confirm_count", "shown_count", "submission"}


def _confirmation(
    request: SignedInRequest, product: Product, action: Action, chosen: _Chosen, count: int, submission: str, problem: str | None
) -> HttpResponse:
    """Ask for the number of SIMs to be typed: the first time as a question, after a wrong number as an error."""
    context = {
        "product": product,
        "action": action,
        "count": count,
        "count_text": f"{count:,}",
        "does": what_it_does(action, count),
        "described": chosen.described,
        "carried": [(name, value) for name, values in request.POST.lists() if name not in _NOT_CARRIED for value in values],
        "submission": submission,
        "problem": problem,
        "as_job": count > settings.BULK_JOB_ABOVE_SIMS,
        "filter_query": _filter_query(request.POST),
    }
    template = "sims/bulk_confirm.html" + ("#confirm" if request.htmx else "")
    return render(request, template, context, status=400 if problem else 200)


@require_POST
@login_required
def sims_bulk(request: SignedInRequest, slug: str) -> HttpResponse:
    """A bulk action. Above a few SIMs, a harmful one first asks for their number (exactly counted), and runs
    when that number comes back typed. On up to BULK_JOB_ABOVE_SIMS SIMs it runs here, on the SIMs counted
    again now; on more, it starts a job, counting no further than the threshold: the worker checks the typed
    number when it lists the SIMs, so the request costs the same for ten thousand SIMs or a million."""
    membership = get_membership_for_user(request, slug)
    product = membership.product
    form = BulkActionForm(request.POST)
    if not form.is_valid():
        return _bulk_answer(request, product, {"product": product, "form": form}, status=400)
    data = form.cleaned_data
    action = Action(data["action"])
    chosen = _chosen_sims(product, data, request.POST)
    if (refused := _carrier_refusal(product, action, chosen.sims)) is not None:
        form.add_error("action", refused)
        return _bulk_answer(request, product, {"product": product, "form": form}, status=400)
    submission = data["submission"] or uuid.uuid4().hex
    threshold = settings.BULK_JOB_ABOVE_SIMS
    counted = chosen.count_up_to(max(threshold, TYPED_CONFIRMATION_ABOVE) + 1)  # exact up to the threshold
    as_job = counted > threshold
    confirmed = None
    if needs_typed_count(action, counted):
        shown = data["shown_count"]
        if shown is None:
            return _confirmation(request, product, action, chosen, chosen.count() if as_job else counted, submission, None)
        confirmed = shown if as_job else counted
        problem = typed_count_problem(action=action, count=confirmed, typed=data["confirm_count"], shown=shown)
        if problem is not None:
            return _confirmation(request, product, action, chosen, confirmed, submission, problem)
    if as_job:
        try:
            job, _ = start_bulk_job(
                product=product, user=request.user, submission=submission, action=action, confirmed_count=confirmed,
                described=chosen.described, filters=chosen.filters, sim_ids=chosen.ids,
                data_limit_mb=data["data_limit_mb"], unpause=data["unpause"],
            )  # fmt: skip
        except FormAlreadyUsed as used:
            form.add_error(None, str(used))
            return _bulk_answer(request, product, {"product": product, "form": form}, status=409)
        url = reverse("bulk_job", args=[product.slug, job.pk])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    change = change_sims(
        sims=chosen.sims, action=action, actor=Actor.for_user(request.user),
        data_limit_mb=data["data_limit_mb"], unpause=data["unpause"], product_id=product.pk if chosen.ids is not None else None,
    )  # fmt: skip
    report = change.report
    handled = len(report.done) + len(report.refused)
    context = {
        "product": product,
        "form": form,
        "report": report,
        "limit_change": change,
        "not_found": (chosen.requested - handled) if chosen.requested is not None else 0,
        "refused_groups": [
            (reason, count, [o.iccid for o in report.refused if o.refused_reason == reason][:REFUSED_ICCIDS_SHOWN])
            for reason, count in report.refused_by_reason.most_common()
        ],
    }
    return _bulk_answer(request, product, context, status=200)


def _bulk_answer(request: SignedInRequest, product: Product, context: dict[str, Any], *, status: int) -> HttpResponse:
    """The report (or what was wrong) in place for htmx; else a redirect to the SIMs with it as a message."""
    if request.htmx:
        response = render(request, "sims/partials/bulk_result.html", context, status=status)
        response["HX-Trigger"] = "sims-changed"
        return response
    if status == 200:
        messages.success(request, context["report"].summary() + _limit_summary(context["limit_change"]))
    else:
        for errors in context["form"].errors.values():
            for error in errors:
                messages.error(request, str(error))
    return redirect(reverse("sim_list", args=[product.slug]))


@require_GET
@login_required
def bulk_job(request: SignedInRequest, slug: str, bulk_job_id: int) -> HttpResponse:
    """A bulk action's background job: its progress while it runs (htmx polls the fragment), then its report."""
    membership = get_membership_for_user(request, slug)
    job = get_object_or_404(BulkJob.objects.select_related("created_by"), pk=bulk_job_id, product=membership.product)
    context = {
        "product": membership.product,
        "membership": membership,
        "job": job,
        "action_label": Action(job.action).label,
        "skipped_rows": skipped_by_reason(job),
        "seconds_left": seconds_left(job),
    }
    template = "sims/bulk_job.html" + ("#progress" if request.htmx else "")
    return render(request, template, context)

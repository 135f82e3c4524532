"""The import pages of a product: build a queue, review it with a country and a price, watch it run."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_countries import countries

from carriers.models import CarrierAccount
from imports.frames import FrameError, load_frame
from imports.importing import (
    ALREADY,
    NEW,
    CARRIER_REFUSED,
    OTHER_OWNER,
    OUTCOMES,
    TERMINATED,
    TRANSFERRED,
    CannotConfirm,
    classify,
    confirm_import,
    count_input,
    outcome_rows,
    review_import,
    seconds_left,
    start_import,
)
from billing.pricing import NoPriceForCountry, plan_zone_of, price_at, quote
from imports.input import INVALID, VALID, ImportInputError, decode_text, file_line_verdicts, pasted_verdicts, summarise
from imports.models import ImportJob
from imports.scan_advice import advise
from imports.scanning import scan_frame
from lib.csv_export import csv_lines
from lib.http import SignedInRequest
from lib.rate_limit import allow
from products.access import get_membership_for_user
from products.models import Membership
from sims.models import Sim
from sims.uploads import limit_upload

# What the queue tells the person about each ICCID as it arrives.
QUEUE_VERDICTS = {
    NEW: ("ok", "Ready to activate"),
    TRANSFERRED: ("warn", "In your developer account: will be transferred to this product"),
    ALREADY: ("muted", "Already in this product: will be skipped"),
    # Another's SIM: the same words as one the carrier does not hold (imports/claims.py).
    CARRIER_REFUSED: ("error", "Not held by this product's carrier accounts: will be refused"),
    TERMINATED: ("error", "Terminated: will be refused"),
}
QUEUE_LIMIT = 5000


def _get_job(membership: Membership, job_id: int) -> ImportJob:
    return get_object_or_404(ImportJob.objects.select_related("product", "created_by"), pk=job_id, product=membership.product)


@require_http_methods(["GET", "POST"])
@login_required
def import_start(request: SignedInRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    product = membership.product
    if request.method == "POST":
        return _continue_to_review(request, membership)
    recent = product.import_jobs.exclude(status=ImportJob.Status.DRAFT).select_related("created_by").order_by("-created_at")[:10]
    return render(
        request,
        "imports/import_start.html",
        {"product": product, "membership": membership, "recent": recent, "max_upload_mb": settings.IMPORT_MAX_UPLOAD_MB},
    )


def _continue_to_review(request: SignedInRequest, membership: Membership) -> HttpResponse:
    product = membership.product
    typed = [iccid for iccid in request.POST.getlist("iccid") if iccid.strip()][:QUEUE_LIMIT]
    job_id = request.POST.get("job", "")
    if job_id.isdigit():
        job = get_object_or_404(
            ImportJob, pk=int(job_id), product=product, created_by=request.user, status=ImportJob.Status.DRAFT
        )
    elif typed:
        job = start_import(product=product, user=request.user)
    else:
        messages.error(request, "The queue is empty: type, paste or drop some ICCIDs first.")
        return redirect("import_start", slug=product.slug)
    job.typed_text = "\n".join(typed)
    job.save(update_fields=["typed_text"])
    count_input(job)
    return redirect("import_job", slug=product.slug, job_id=job.pk)


@require_POST
@login_required
def import_check(request: HttpRequest, slug: str) -> HttpResponse:
    """Verdicts for ICCIDs typed or pasted into the queue (htmx appends them)."""
    membership = get_membership_for_user(request, slug)
    # A queued value is an ICCID, or "ICCID,CODE" with its registration code.
    queued = {value.split(",")[0].strip() for value in request.POST.getlist("iccid")}
    verdicts = list(pasted_verdicts(request.POST.get("text", "")))[:QUEUE_LIMIT]
    valid = [v.iccid for v in verdicts if v.verdict == VALID and v.iccid is not None and v.iccid not in queued]
    owners = classify(product=membership.product, user=request.user, iccids=valid)
    items = []
    for verdict in verdicts:
        if verdict.verdict == INVALID:
            items.append({"text": verdict.text, "tone": "error", "says": verdict.reason})
        elif verdict.iccid in queued or verdict.verdict != VALID:
            items.append({"text": verdict.iccid or verdict.text, "tone": "muted", "says": "Already in the queue"})
        else:
            assert verdict.iccid is not None  # a valid line has its ICCID
            items.append(_queue_item(verdict.iccid, owners[verdict.iccid], registration_code=verdict.code))
    if not verdicts:
        items.append({"text": request.POST.get("text", "").strip()[:40] or "(nothing)", "tone": "error", "says": "No ICCID found: an ICCID is 19 or 20 digits starting with 89."})
    return render(request, "imports/partials/queue_items.html", {"items": items})


def _frame_too_large(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        f"The frame is too large: the limit is {settings.SCAN_MAX_FRAME_BYTES:,} bytes. Send the region around the guide box as JPEG.",
        status=413,
        content_type="text/plain",
    )


@require_POST
@login_required
@limit_upload(lambda: settings.SCAN_MAX_FRAME_BYTES, _frame_too_large)
def import_scan(request: HttpRequest, slug: str) -> HttpResponse:
    """One camera frame from the scanner, answered in JSON: {"iccid", "item", "advice"}.

    A frame that gives an ICCID: the ICCID and its queue item (HTML), advice null. One that does
    not: iccid and item null, and advice {"cause", "says"}: what to do for a better frame."""
    membership = get_membership_for_user(request, slug)
    if not allow(f"scan:{request.user.pk}", per_second=settings.SCAN_FRAMES_PER_SECOND):
        response = HttpResponse("Too many frames: the scanner slows down for a second.", status=429, content_type="text/plain")
        response["Retry-After"] = "1"
        return response
    upload = request.FILES.get("frame")
    if upload is None:
        return HttpResponse("Send the frame as a file field named 'frame'.", status=400, content_type="text/plain")
    assert upload.size is not None  # Django's upload handlers always set it
    if upload.size > settings.SCAN_MAX_FRAME_BYTES:  # before reading it: never a big file in memory
        return _frame_too_large(request)
    try:
        scan = scan_frame(load_frame(upload.read()))
    except FrameError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain")
    if scan.iccid is None:
        advice = advise(scan)
        return JsonResponse({"iccid": None, "item": None, "advice": advice and {"cause": advice.cause, "says": advice.says}})
    code = classify(product=membership.product, user=request.user, iccids=[scan.iccid])[scan.iccid]
    item = render_to_string("imports/partials/queue_items.html", {"items": [_queue_item(scan.iccid, code)]}, request)
    return JsonResponse({"iccid": scan.iccid, "item": item, "advice": None})


def _queue_item(iccid: str, code: str, *, registration_code: str = "") -> dict:
    """A queued ICCID with what importing would do to it, typed or scanned alike; a registration code
    typed after it ("ICCID,CODE") rides along in the queue's value."""
    tone, says = QUEUE_VERDICTS[code]
    if registration_code:
        return {"text": iccid, "tone": tone, "says": f"{says} (registration code {registration_code})", "iccid": iccid, "value": f"{iccid},{registration_code}"}
    return {"text": iccid, "tone": tone, "says": says, "iccid": iccid}


def _file_too_large(request: HttpRequest) -> HttpResponse:
    error = f"The file is over {settings.IMPORT_MAX_UPLOAD_MB} MB: the limit is {settings.IMPORT_MAX_UPLOAD_MB} MB. Split it into smaller files."
    return render(request, "imports/partials/file_summary.html", {"error": error}, status=413)


@require_POST
@login_required
@limit_upload(lambda: settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024, _file_too_large)
def import_file(request: SignedInRequest, slug: str) -> HttpResponse:
    """A dropped .txt file: stored as a draft import, answered with a summary of its lines."""
    membership = get_membership_for_user(request, slug)
    upload = request.FILES.get("file")
    error = _file_problem(upload)
    if upload is None or error:
        return render(request, "imports/partials/file_summary.html", {"error": error}, status=400)
    data = upload.read()
    try:
        parsed = summarise(file_line_verdicts(decode_text(data)))
    except ImportInputError as problem:
        return render(request, "imports/partials/file_summary.html", {"error": str(problem)}, status=400)
    job = start_import(product=membership.product, user=request.user, data=data, source_name=upload.name or "")
    return render(request, "imports/partials/file_summary.html", {"job": job, "parsed": parsed, "filename": upload.name})


def _file_problem(upload: UploadedFile | None) -> str | None:
    if upload is None:
        return "Choose a .txt file with one ICCID per line."
    assert upload.size is not None  # Django's upload handlers always set it
    if upload.size > settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024:
        return f"{upload.name} is {upload.size / 1024 / 1024:.0f} MB: the limit is {settings.IMPORT_MAX_UPLOAD_MB} MB. Split it into smaller files."
    if upload.size == 0:
        return f"{upload.name} is empty. Choose the file with your ICCIDs, one per line."
    return None


@require_GET
@login_required
def import_job(request: SignedInRequest, slug: str, job_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    job = _get_job(membership, job_id)
    context: dict[str, object] = {"product": membership.product, "membership": membership, "job": job}
    if job.status == ImportJob.Status.DRAFT:
        # The account chosen for the ICCIDs no prefix routes: the page is asked again on each change.
        chosen = _chosen_account(membership, request.GET.get("unrouted_account"))
        review = review_import(job, unrouted=chosen)
        context.update(review=review, countries=countries, outcomes=OUTCOMES)
        return render(request, "imports/import_review.html", context)
    context.update(_progress_context(job))
    template = "imports/import_progress.html"
    if request.htmx:
        template += "#progress"
    return render(request, template, context)


def _chosen_account(membership: Membership, value: str | None) -> CarrierAccount | None:
    """The product's carrier account a form names by id; None for none, the routing's own, or one not the product's."""
    if not value or not value.isdigit():
        return None
    return membership.product.carrier_accounts.filter(pk=int(value)).first()


def _progress_context(job: ImportJob) -> dict:
    # OTHER_OWNER only counts in jobs from before claims were checked.
    shown = [code for code in OUTCOMES if code != OTHER_OWNER or job.other_owner]
    rows = [(OUTCOMES[code][1], getattr(job, OUTCOMES[code][0]), code) for code in shown]
    return {"outcome_counts": rows, "seconds_left": seconds_left(job), "now": timezone.now()}


@require_GET
@login_required
def import_quote(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    job = _get_job(membership, job_id)
    country = request.GET.get("country", "")
    product = membership.product
    context: dict[str, object] = {"country": country, "model": product.pricing_model, "model_label": product.get_pricing_model_display()}
    if country:
        try:
            context["quote"] = quote(country=country, sims=int(request.GET.get("sims", job.valid) or 0), today=timezone.localdate())
            context["fleet_zone"] = zone = plan_zone_of(product)
            context["fleet_price"] = price_at(zone, timezone.now())
        except (NoPriceForCountry, ValueError) as error:
            context["error"] = str(error)
    return render(request, "imports/partials/quote.html", context)


@require_POST
@login_required
def import_confirm(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    job = _get_job(membership, job_id)
    country = request.POST.get("country", "")
    chosen = request.POST.get("unrouted_account", "")
    account = _chosen_account(membership, chosen)
    if country not in countries:
        messages.error(request, "Choose the home country of these SIMs: the country they will operate in most.")
    elif chosen and account is None:
        messages.error(request, "Choose one of this product's carrier accounts for the ICCIDs no prefix routes, or leave the routing's own.")
    elif job.status == ImportJob.Status.DRAFT and account != job.unrouted_account and not _set_unrouted(job, account):
        messages.error(request, "This import was already confirmed: its progress is below.")
    else:
        try:
            confirm_import(job=job, country=country)
        except (CannotConfirm, NoPriceForCountry) as error:
            messages.error(request, str(error))
    return redirect("import_job", slug=membership.product.slug, job_id=job.pk)


def _set_unrouted(job: ImportJob, account: CarrierAccount | None) -> bool:
    """Store the choice on the draft (only a draft: a confirmed job keeps the routing it runs with)."""
    job.unrouted_account = account
    return bool(ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.DRAFT).update(unrouted_account=account))


@require_GET
@login_required
def import_outcomes_csv(request: HttpRequest, slug: str, job_id: int) -> StreamingHttpResponse:
    membership = get_membership_for_user(request, slug)
    job = _get_job(membership, job_id)
    response = StreamingHttpResponse(csv_lines(outcome_rows(job)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-outcomes.csv"'
    return response


@require_POST
@login_required
def my_sim_to_product(request: SignedInRequest, iccid: str) -> HttpResponse:
    """My SIMs' "to product": start an import of this SIM into one of my products; the review shows the
    transfer."""
    sim = get_object_or_404(Sim, owner_user=request.user, iccid=iccid)
    membership = get_membership_for_user(request, request.POST.get("product", ""))
    job = start_import(product=membership.product, user=request.user, typed_text=sim.iccid)
    count_input(job)
    return redirect("import_job", slug=membership.product.slug, job_id=job.pk)

"""A person's notifications, newest first, marked read one by one or all at once; the unread count
in the top bar; and their choices of what they are told, per product. Each sees only their own
notifications, and only of the products they are members of."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from lib.http import SignedInRequest
from notifications.forms import ChoicesForm
from notifications.models import Notification
from notifications.preferences import choices_for, set_choices
from products.access import get_membership_for_user
from products.models import Membership

# The top bar shows at most "99+".
UNREAD_SHOWN = 99
# Sent when something was marked read: the top bar's count asks again.
READ_EVENT = "notifications-read"


def _mine(request: SignedInRequest) -> QuerySet[Notification]:
    """The person's notifications shown in the console, of products they are (still) a member of."""
    my_products = Membership.objects.products_of(request.user).values("product_id")
    return Notification.objects.filter(user=request.user, in_console=True, product_id__in=my_products)


@require_GET
@login_required
def notifications(request: SignedInRequest) -> HttpResponse:
    before = request.GET.get("before", "")
    if before and not (before.isascii() and before.isdigit() and len(before) <= 18):
        error = f"“before={before}” is not a notification number: follow “Older notifications” from the list."
        return render(request, "notifications/list.html", {"error": error, "notifications": []}, status=400)
    shown = _mine(request).select_related("product").order_by("-id")
    if before:
        shown = shown.filter(pk__lt=int(before))
    per_page = settings.NOTIFICATIONS_PER_PAGE
    page = list(shown[: per_page + 1])
    context = {
        "notifications": page[:per_page],
        "next_before": page[per_page - 1].pk if len(page) > per_page else None,
        "memberships": Membership.objects.products_of(request.user),
        "paged": bool(before),
    }
    return render(request, "notifications/list.html", context)


@require_GET
@login_required
def notifications_unread(request: SignedInRequest) -> HttpResponse:
    """The top bar's count, asked for by htmx once the page is shown: no page waits for it."""
    unread = _mine(request).filter(read_at__isnull=True)[: UNREAD_SHOWN + 1].count()
    shown = f"{UNREAD_SHOWN}+" if unread > UNREAD_SHOWN else str(unread)
    return render(request, "notifications/partials/unread.html", {"unread": unread, "shown": shown})


@require_POST
@login_required
def notification_read(request: SignedInRequest, notification_id: int) -> HttpResponse:
    notification = get_object_or_404(_mine(request).select_related("product"), pk=notification_id)
    notification.mark_read()
    if request.htmx:
        response = render(request, "notifications/list.html#item", {"n": notification})
        return trigger_client_event(response, READ_EVENT)
    return redirect("notifications")


@require_POST
@login_required
def notifications_read_all(request: SignedInRequest) -> HttpResponse:
    marked = _mine(request).filter(read_at__isnull=True).update(read_at=timezone.now())
    messages.success(request, f"{marked:,} notification{'s' if marked != 1 else ''} marked as read.")
    return redirect("notifications")


@require_http_methods(["GET", "POST"])
@login_required
def notification_settings(request: SignedInRequest, slug: str) -> HttpResponse:
    """What this person is told about this product, by email and in the console: any member chooses their own."""
    membership = get_membership_for_user(request, slug)
    product = membership.product
    chosen = choices_for(user=request.user, product=product)
    form = ChoicesForm(request.POST if request.method == "POST" else None, chosen=chosen)
    if request.method == "POST" and form.is_valid():
        set_choices(user=request.user, product=product, choices=form.choices())
        messages.success(request, f"Saved: what you get about {product.name}.")
        return redirect("notification_settings", slug=product.slug)
    context = {"product": product, "membership": membership, "form": form, "has_email": bool(request.user.email)}
    return render(request, "notifications/settings.html", context)

"""Notifications by email: plain text with an HTML alternative, through Django's configured backend (EMAIL_BACKEND), from
DEFAULT_FROM_EMAIL, links made absolute with CONSOLE_BASE_URL. Each row is mailed once: its
`emailed_at` is set in the transaction that sends it. A row whose task did not run to its end is
mailed by the periodic tick (`send_unsent_emails`)."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from lib.http import absolute_url
from notifications.models import Notification

log = logging.getLogger(__name__)

# Older than this, an unsent email lost its task; older than GIVE_UP, it is news no more.
STRAGGLER_AGE = timedelta(minutes=5)
GIVE_UP = timedelta(days=1)


@task
def send_emails(notification_ids: list[int]) -> str:
    sent = sum(_send_or_log(notification_id) for notification_id in notification_ids)
    return f"{sent} of {len(notification_ids)} emails sent"


def send_email(notification_id: int) -> bool:
    """Mail one notification, unless it was mailed already. False when there was nothing to send."""
    with transaction.atomic():
        # A second sender of the same row waits here, then finds it sent.
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("user", "product")
            .filter(pk=notification_id, email=True, emailed_at__isnull=True)
            .first()
        )
        if notification is None or not notification.user.email:
            return False
        email_of(notification).send()
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


def email_of(notification: Notification) -> EmailMultiAlternatives:
    base = absolute_url(None, "")
    context = {
        "n": notification,
        "base": base,
        "choices_url": base + reverse("notification_settings", args=[notification.product.slug]),
    }
    email = EmailMultiAlternatives(
        # One line whatever the product's name holds (a header with a line break is refused).
        subject=" ".join(f"[{notification.product.name}] {notification.title}".split()),
        body=render_to_string("notifications/email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.user.email],
    )
    email.attach_alternative(render_to_string("notifications/email.html", context), "text/html")
    return email


def send_unsent_emails(*, now: datetime) -> int:
    """Mail what a task did not (a worker killed, the mail server down): older than STRAGGLER_AGE,
    younger than GIVE_UP. One that fails stays, logged, for the next tick."""
    unsent = Notification.objects.filter(
        email=True, emailed_at__isnull=True, created_at__lt=now - STRAGGLER_AGE, created_at__gte=now - GIVE_UP
    )
    return sum(_send_or_log(notification_id) for notification_id in unsent.values_list("pk", flat=True))


def _send_or_log(notification_id: int) -> bool:
    """One mail server error does not stop the others: the row stays unsent, for the next tick."""
    try:
        return send_email(notification_id)
    except Exception:
        log.exception("Notification %s could not be emailed; the next tick tries again.", notification_id)
        return False

"""Telling the members of a product who want to hear of something: one Notification row each (in
the console, by email, or both, as each chose), and the task that emails them, written in the
caller's transaction. django-tasks-db keeps tasks in the same database: the rows and their task
commit together or not at all, so a digest or an event handled twice never mails twice."""

from notifications.emails import send_emails
from notifications.messages import Message
from notifications.models import Notification
from notifications.preferences import recipients


def notify(*, product_id: int, kind: str, message: Message, user_ids: list[int] | None = None) -> int:
    """Tell the product's members who chose `kind` (only those of `user_ids`, if given). How many were told."""
    people = recipients(product_id=product_id, kind=kind, user_ids=user_ids)
    if not people:
        return 0
    rows = Notification.objects.bulk_create(
        Notification(
            user_id=person.user_id, product_id=product_id, kind=kind,
            in_console=person.choice.in_console, email=person.choice.email, **message.fields(),
        )  # fmt: skip
        for person in people
    )
    to_mail = [row.pk for row in rows if row.email]
    if to_mail:
        send_emails.enqueue(to_mail)
    return len(rows)

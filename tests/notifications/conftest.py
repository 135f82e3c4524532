import pytest


def deliver_queued_emails() -> None:
    """What a worker does with the email tasks that notifications queued: send them."""
    from django_tasks_db.models import DBTaskResult

    from notifications.emails import send_emails

    for result in DBTaskResult.objects.ready().filter(task_path=send_emails.module_path).order_by("enqueued_at"):
        result.claim("test")
        result.set_successful(send_emails.call(*result.task_result.args))


@pytest.fixture
def base_url(settings):
    settings.CONSOLE_BASE_URL = "https://console.example.com"
    return settings.CONSOLE_BASE_URL

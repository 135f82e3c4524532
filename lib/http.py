"""The request a signed-in page receives, typed for the type checker: @login_required has made its
user a real User, and django-htmx's HtmxMiddleware has added `htmx`."""

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class SignedInRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


# Where ./run serves the console: the start of links in emails a worker sends when CONSOLE_BASE_URL is unset.
RUN_ADDRESS = "http://127.0.0.1:8000"


def absolute_url(request: HttpRequest | None, path: str) -> str:
    """A link for an email: CONSOLE_BASE_URL and the path, or the address the request came to
    (its host already checked against ALLOWED_HOSTS); without a request (a worker's email), ./run's address."""
    if settings.CONSOLE_BASE_URL:
        return settings.CONSOLE_BASE_URL + path
    if request is None:
        return RUN_ADDRESS + path
    return request.build_absolute_uri(path)

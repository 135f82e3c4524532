import logging
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import resolve_url
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

DATABASE_UNREACHABLE = "The database is unreachable right now. Try again in a moment."
# Seconds a client is told to wait before trying again.
RETRY_AFTER = "5"


class HtmxSignInRedirectMiddleware:
    """A signed-out htmx request would swap the sign-in page into a table cell;
    send the whole browser to the sign-in page instead (HX-Redirect)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        login_url = resolve_url(settings.LOGIN_URL)
        if getattr(request, "htmx", False) and response.status_code == 302 and response["Location"].startswith(login_url):
            redirect = HttpResponse(status=204)
            redirect["HX-Redirect"] = response["Location"]
            return redirect
        return response


class DatabaseUnavailableMiddleware:
    """The database gone (restarting, failing over, the network cut): a 503 that says so and to try again,
    in the API's JSON under /v1/ and /api/, not a bare 500. Django replaces the dead connection by itself
    (CONN_HEALTH_CHECKS; a connection that raised is closed at the end of the request), so the next
    request after the database is back succeeds."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.error("Database unreachable during %s %s", request.method, request.path, exc_info=exception)
        response: HttpResponse
        if request.path.startswith("/api/"):  # emnify's error shape
            response = JsonResponse(
                {"error_code": 503, "error_token": "service_unavailable", "message": DATABASE_UNREACHABLE}, status=503
            )
        elif request.path.startswith("/v1/"):  # Particle's
            response = JsonResponse({"ok": False, "error": DATABASE_UNREACHABLE}, status=503)
        else:
            # Without the request: its context would load the user and the messages from the database.
            response = HttpResponse(render_to_string("503.html", {"message": DATABASE_UNREACHABLE}), status=503)
        response["Retry-After"] = RETRY_AFTER
        return response

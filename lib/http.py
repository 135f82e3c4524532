"""The request a signed-in page receives, typed for the type checker: @login_required has made its
user a real User, and django-htmx's HtmxMiddleware has added `htmx`."""

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class SignedInRequest(HttpRequest):
    user: User
    htmx: HtmxDetails

import math
import time

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, PasswordChangeView
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console.sign_in import LIMITED, LimitedPasswordChangeForm, SignInForm, refused_until
from lib.http import SignedInRequest
from products.models import Membership


def _refused(response: HttpResponse, until: float | None) -> HttpResponse:
    """A refusal by the sign-in limits: 429, with Retry-After when the limit's window is known."""
    response.status_code = 429
    if until:
        response["Retry-After"] = str(max(1, math.ceil(until - time.time())))
    return response


class SignInView(LoginView):
    """Django's sign-in, with the sign-in limits: a refused attempt answers 429 with Retry-After."""

    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error("__all__", code=LIMITED):
            return _refused(response, refused_until(request=self.request, username=form.cleaned_data.get("username", "")))
        return response


class LimitedPasswordChangeView(PasswordChangeView):
    """Django's password change, its current password checked under the sign-in limits (429 when refused)."""

    form_class = LimitedPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error("old_password", code=LIMITED):
            return _refused(response, refused_until(request=self.request, username=self.request.user.get_username()))
        return response


@require_GET
@login_required
def home(request: SignedInRequest) -> HttpResponse:
    memberships = Membership.objects.products_of(request.user)
    return render(request, "console/home.html", {"memberships": memberships})

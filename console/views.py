import math
import time

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console.sign_in import LIMITED, SignInForm, refused_until
from products.models import Membership


class SignInView(LoginView):
    """Django's sign-in, with the sign-in limits: a refused attempt answers 429 with Retry-After."""

    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error("__all__", code=LIMITED):
            response.status_code = 429
            until = refused_until(request=self.request, username=form.cleaned_data.get("username", ""))
            if until:
                response["Retry-After"] = str(max(1, math.ceil(until - time.time())))
        return response


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    memberships = Membership.objects.filter(user=request.user).select_related("product").order_by("product__name")
    return render(request, "console/home.html", {"memberships": memberships})

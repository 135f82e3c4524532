"""Anyone signed in makes a product, and becomes its admin."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from lib.http import SignedInRequest
from products.forms import NewProductForm
from products.new_product import create_product


@require_http_methods(["GET", "POST"])
@login_required
def product_new(request: SignedInRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "products/new_product.html", {"form": NewProductForm()})
    form = NewProductForm(request.POST)
    if not form.is_valid():
        return render(request, "products/new_product.html", {"form": form}, status=400)
    product = create_product(name=form.cleaned_data["name"], creator=request.user)
    messages.success(request, f"{product.name} is ready and you are its admin. Invite your team, then import SIMs.")
    return redirect("team", slug=product.slug)

from django.urls import path

from carriers import reconciliation_views

# Included from console/urls.py before the SIM pages.
urlpatterns = [
    path("products/<slug:slug>/carriers/reconciliation/", reconciliation_views.carrier_reconciliation, name="carrier_reconciliation"),
    path(
        "products/<slug:slug>/carriers/<int:account_id>/reconciliation/fix/",
        reconciliation_views.carrier_reconciliation_fix,
        name="carrier_reconciliation_fix",
    ),
    path(
        "products/<slug:slug>/carriers/<int:account_id>/reconciliation/check/",
        reconciliation_views.carrier_reconciliation_check,
        name="carrier_reconciliation_check",
    ),
]

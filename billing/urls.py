from django.urls import path

from billing import budget_views, views

# Included from console/urls.py before the SIM pages: "sims/cost/" must match before "sims/<iccid>/".
urlpatterns = [
    path("products/<slug:slug>/billing/", views.billing, name="billing"),
    path("products/<slug:slug>/billing/period/", views.billing_period, name="billing_period"),
    path("products/<slug:slug>/billing/model/", views.billing_model, name="billing_model"),
    path("products/<slug:slug>/billing/compare/", views.billing_compare, name="billing_compare"),
    path("products/<slug:slug>/billing/advisor/", views.billing_advisor, name="billing_advisor"),
    path("products/<slug:slug>/billing/advisor/apply/", views.billing_advisor_apply, name="billing_advisor_apply"),
    path("products/<slug:slug>/billing/invoices/<str:number>/", views.invoice_detail, name="invoice_detail"),
    path("products/<slug:slug>/billing/invoices/<str:number>.csv", views.invoice_csv, name="invoice_csv"),
    path("products/<slug:slug>/billing/budget/", budget_views.budget, name="budget"),
    path("products/<slug:slug>/sims/cost/", views.fleet_monthly_cost, name="fleet_monthly_cost"),
    path("products/<slug:slug>/billing/sims/<str:iccid>/", views.sim_usage_by_zone, name="sim_usage_by_zone"),
]

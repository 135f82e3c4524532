from django.urls import path

from imports import from_carrier_views, views

urlpatterns = [
    path("products/<slug:slug>/import/", views.import_start, name="import_start"),
    path("products/<slug:slug>/import/check/", views.import_check, name="import_check"),
    path("products/<slug:slug>/import/file/", views.import_file, name="import_file"),
    path("products/<slug:slug>/import/scan/", views.import_scan, name="import_scan"),
    path("products/<slug:slug>/import/<int:job_id>/", views.import_job, name="import_job"),
    path("products/<slug:slug>/import/<int:job_id>/quote/", views.import_quote, name="import_quote"),
    path("products/<slug:slug>/import/<int:job_id>/confirm/", views.import_confirm, name="import_confirm"),
    path("products/<slug:slug>/carriers/<int:account_id>/import/", from_carrier_views.carrier_import, name="carrier_import"),
    path("products/<slug:slug>/import/<int:job_id>/outcomes.csv", views.import_outcomes_csv, name="import_outcomes_csv"),
    # My SIMs' "to product" (sims.developer_views lists them): moving a SIM into a product is an import.
    path("sims/<str:iccid>/to-product/", views.my_sim_to_product, name="my_sim_to_product"),
]

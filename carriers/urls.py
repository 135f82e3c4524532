from django.urls import path

from carriers import connectivity_views, reconciliation_views, sms_views, views

# Included from console/urls.py before the SIM pages ("sims/retry/" must match before "sims/<iccid>/").
urlpatterns = [
    path("products/<slug:slug>/carriers/", views.carrier_accounts, name="carrier_accounts"),
    path("products/<slug:slug>/carriers/health/", views.carrier_health, name="carrier_health"),
    path("products/<slug:slug>/carriers/new/", views.carrier_account_new, name="carrier_account_new"),
    path("products/<slug:slug>/carriers/reconciliation/", reconciliation_views.carrier_reconciliation, name="carrier_reconciliation"),
    path("products/<slug:slug>/carriers/<int:account_id>/", views.carrier_account_edit, name="carrier_account_edit"),
    path("products/<slug:slug>/carriers/<int:account_id>/delete/", views.carrier_account_delete, name="carrier_account_delete"),
    path("products/<slug:slug>/carriers/<int:account_id>/test/", views.carrier_account_test, name="carrier_account_test"),
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
    path("products/<slug:slug>/messages/", sms_views.sms_messages, name="sms_messages"),
    path("products/<slug:slug>/sims/sms/", sms_views.sims_sms_bulk, name="sims_sms_bulk"),
    path("products/<slug:slug>/sims/<str:iccid>/sms/", sms_views.sim_sms, name="sim_sms"),
    path("products/<slug:slug>/sims/<str:iccid>/sms/send/", sms_views.sim_sms_send, name="sim_sms_send"),
    path("carrier/sms/", sms_views.carrier_sms_push, name="carrier_sms_push"),
    path("products/<slug:slug>/sims/retry/", views.carrier_sims_retry, name="carrier_sims_retry"),
    path("products/<slug:slug>/sims/<str:iccid>/network/retry/", views.carrier_sim_retry, name="carrier_sim_retry"),
    path(
        "products/<slug:slug>/sims/<str:iccid>/network/reset/",
        connectivity_views.carrier_sim_reset_connectivity,
        name="carrier_sim_reset_connectivity",
    ),
]

from django.urls import path

from devices import imei_lock_views

# Included from console/urls.py before the SIM pages ("sims/<iccid>/imei-lock/" must match before
# "sims/<iccid>/<action>/").
urlpatterns = [
    path("products/<slug:slug>/imei-lock/", imei_lock_views.imei_lock, name="imei_lock"),
    path("products/<slug:slug>/imei-lock/swap/", imei_lock_views.imei_lock_swap, name="imei_lock_swap"),
    path("products/<slug:slug>/sims/<str:iccid>/imei-lock/", imei_lock_views.sim_imei_lock, name="sim_imei_lock"),
    path("products/<slug:slug>/sims/<str:iccid>/imei-lock/swap/", imei_lock_views.sim_imei_lock_swap, name="sim_imei_lock_swap"),
]

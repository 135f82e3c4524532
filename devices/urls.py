from django.urls import path

from devices import views

urlpatterns = [
    path("products/<slug:slug>/devices/", views.device_list, name="device_list"),
    path("products/<slug:slug>/devices/new/", views.device_new, name="device_new"),
    path("products/<slug:slug>/devices/<int:device_pk>/", views.device_detail, name="device_detail"),
    path("products/<slug:slug>/devices/<int:device_pk>/edit/", views.device_edit, name="device_edit"),
    path("products/<slug:slug>/devices/<int:device_pk>/assign/", views.device_assign, name="device_assign"),
    path("products/<slug:slug>/devices/<int:device_pk>/release/", views.device_release, name="device_release"),
]

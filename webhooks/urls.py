"""A product's webhooks, under products/<slug>/webhooks/ (console/urls.py includes them)."""

from django.urls import path

from webhooks import views

urlpatterns = [
    path("", views.webhooks, name="webhooks"),
    path("add/", views.webhook_add, name="webhook_add"),
    path("<int:webhook_id>/active/", views.webhook_active, name="webhook_active"),
    path("<int:webhook_id>/delete/", views.webhook_delete, name="webhook_delete"),
    path("deliveries/<int:delivery_id>/", views.webhook_delivery, name="webhook_delivery"),
    path("deliveries/<int:delivery_id>/body.json", views.webhook_delivery_body, name="webhook_delivery_body"),
]

"""A product's rules, under products/<slug>/rules/ (console/urls.py includes them)."""

from django.urls import path

from rules import views

urlpatterns = [
    path("", views.rule_list, name="rule_list"),
    path("<int:rule_id>/", views.rule_detail, name="rule_detail"),
    path("<int:rule_id>/backtest/", views.rule_backtest, name="rule_backtest"),
    path("<int:rule_id>/enabled/", views.rule_enabled, name="rule_enabled"),
    path("<int:rule_id>/delete/", views.rule_delete, name="rule_delete"),
    path("<int:rule_id>/approvals/<int:approval_id>/", views.rule_approval, name="rule_approval"),
]

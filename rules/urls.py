"""A product's rules, under products/<slug>/rules/ (console/urls.py includes them)."""

from django.urls import path

from rules import editor_views, preview_views, views

urlpatterns = [
    path("", views.rule_list, name="rule_list"),
    path("new/", editor_views.rule_new, name="rule_new"),
    path("new/preview/", preview_views.rule_preview, name="rule_preview_new"),
    path("<int:rule_id>/", views.rule_detail, name="rule_detail"),
    path("<int:rule_id>/backtest/", views.rule_backtest, name="rule_backtest"),
    path("<int:rule_id>/edit/", editor_views.rule_edit, name="rule_edit"),
    path("<int:rule_id>/preview/", preview_views.rule_preview, name="rule_preview"),
    path("<int:rule_id>/enabled/", views.rule_enabled, name="rule_enabled"),
    path("<int:rule_id>/delete/", views.rule_delete, name="rule_delete"),
    path("<int:rule_id>/approvals/<int:approval_id>/", views.rule_approval, name="rule_approval"),
]

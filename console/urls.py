from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from api import emnify, emnify_endpoints, emnify_operators, emnify_sms, particle, particle_rules
from api import views as api_views
from console import views as console_views
from console.password_reset import ConsolePasswordResetView
from products import invitation_views, new_product_views
from products import views as product_views
from sims import carrier_views, developer_views
from sims import views as sim_views

urlpatterns = [
    path("", console_views.home, name="home"),
    path("accounts/login/", console_views.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", console_views.LimitedPasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/password/reset/", ConsolePasswordResetView.as_view(), name="password_reset"),
    path("accounts/password/reset/sent/", auth_views.PasswordResetDoneView.as_view(extra_context={"timeout_days": settings.PASSWORD_RESET_TIMEOUT // 86400}), name="password_reset_done"),
    path("accounts/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("invitations/accept/", invitation_views.invitation_accept, name="invitation_accept"),
    path("invitations/<str:token>/", invitation_views.invitation, name="invitation"),
    path("products/new/", new_product_views.product_new, name="product_new"),
    path("products/<slug:slug>/", product_views.product_home, name="product_home"),
    path("products/<slug:slug>/team/", product_views.team, name="team"),
    path("products/<slug:slug>/settings/", product_views.product_settings, name="product_settings"),
    path("", include("billing.urls")),
    path("products/<slug:slug>/team/add/", product_views.team_add, name="team_add"),
    path("products/<slug:slug>/team/<int:member_id>/role/", product_views.team_role, name="team_role"),
    path("products/<slug:slug>/team/<int:member_id>/remove/", product_views.team_remove, name="team_remove"),
    path("products/<slug:slug>/team/invite/", invitation_views.team_invite, name="team_invite"),
    path("products/<slug:slug>/team/invitations/<int:invitation_id>/resend/", invitation_views.invitation_resend, name="invitation_resend"),
    path("products/<slug:slug>/team/invitations/<int:invitation_id>/revoke/", invitation_views.invitation_revoke, name="invitation_revoke"),
    path("", include("imports.urls")),
    path("", include("carriers.urls")),
    path("", include("devices.urls")),
    path("", include("devices.imei_lock_urls")),
    path("products/<slug:slug>/sims/", sim_views.sim_list, name="sim_list"),
    path("products/<slug:slug>/sims/bulk/", sim_views.sims_bulk, name="sims_bulk"),
    path("products/<slug:slug>/sims/bulk/<int:bulk_job_id>/", sim_views.bulk_job, name="bulk_job"),
    path("products/<slug:slug>/sims/count/", sim_views.sim_count, name="sim_count"),
    path("products/<slug:slug>/sims/export.csv", sim_views.sim_export, name="sim_export"),
    path("products/<slug:slug>/sims/active/", product_views.fleet_active_sims, name="fleet_active_sims"),
    path("products/<slug:slug>/sims/connectivity/", sim_views.fleet_connectivity_counts, name="fleet_connectivity"),
    path("products/<slug:slug>/sims/data-limit/", product_views.product_data_limit, name="product_data_limit"),
    path("products/<slug:slug>/sims/<str:iccid>/", sim_views.sim_detail, name="sim_detail"),
    path("products/<slug:slug>/sims/<str:iccid>/menu/", sim_views.sim_menu, name="sim_menu"),
    path("products/<slug:slug>/sims/<str:iccid>/timeline/", sim_views.sim_timeline, name="sim_timeline"),
    path("products/<slug:slug>/sims/<str:iccid>/<str:action>/", sim_views.sim_action, name="sim_action"),
    path("products/<slug:slug>/webhooks/", include("webhooks.urls")),
    path("products/<slug:slug>/rules/", include("rules.urls")),
    path("", include("notifications.urls")),
    path("sims/", developer_views.my_sims, name="my_sims"),
    path("sims/<str:iccid>/<str:action>/", developer_views.my_sim_action, name="my_sim_action"),
    path("carrier/usage/", carrier_views.carrier_usage_push, name="carrier_usage_push"),
    path("carrier/events/", carrier_views.carrier_events_push, name="carrier_events_push"),
    path("tokens/", api_views.tokens, name="api_tokens"),
    path("tokens/<int:token_id>/revoke/", api_views.token_revoke, name="api_token_revoke"),
    path("api/schema/", api_views.api_schema, name="api_schema"),
    path("api/docs/", api_views.api_docs, name="api_docs"),
    # Particle's SIM API (api/particle.py): no trailing slashes, as its clients send them.
    path("v1/products/<str:product>/sims", particle.product_sims, name="particle_product_sims"),
    path("v1/products/<str:product>/sims/data_usage", particle.product_fleet_data_usage, name="particle_fleet_data_usage"),
    path("v1/products/<str:product>/sims/<str:iccid>", particle.product_sim, name="particle_product_sim"),
    path("v1/products/<str:product>/sims/<str:iccid>/data_usage", particle.product_sim_data_usage, name="particle_product_sim_data_usage"),
    # A product's rules, in Particle's dialect (api/particle_rules.py).
    path("v1/products/<str:product>/rules", particle_rules.product_rules, name="particle_product_rules"),
    path("v1/products/<str:product>/rules/<str:rule_id>", particle_rules.product_rule, name="particle_product_rule"),
    path("v1/products/<str:product>/rules/<str:rule_id>/firings", particle_rules.product_rule_firings, name="particle_product_rule_firings"),
    path(
        "v1/products/<str:product>/rules/<str:rule_id>/approvals/<str:approval_id>",
        particle_rules.product_rule_approval,
        name="particle_product_rule_approval",
    ),
    path("v1/sims", particle.own_sims, name="particle_own_sims"),
    path("v1/sims/<str:iccid>", particle.own_sim, name="particle_own_sim"),
    path("v1/sims/<str:iccid>/data_usage", particle.own_sim_data_usage, name="particle_own_sim_data_usage"),
    # emnify's SIM API (api/emnify.py), as emnify-sdk calls it: no trailing slashes.
    path("api/v1/authenticate", emnify.authenticate, name="emnify_authenticate"),
    path("api/v1/sim", emnify.sims_endpoint, name="emnify_sims"),
    path("api/v1/sim/<str:id>", emnify.sim_endpoint, name="emnify_sim"),
    path("api/v1/sim_batch/bic/<str:bic>", emnify.sim_batch_endpoint, name="emnify_sim_batch"),
    # emnify's endpoint resource (api/emnify_endpoints.py): an endpoint is a device.
    path("api/v1/endpoint", emnify_endpoints.endpoints_endpoint, name="emnify_endpoints"),
    path("api/v1/endpoint/<str:endpoint_id>", emnify_endpoints.endpoint_endpoint, name="emnify_endpoint"),
    path("api/v1/endpoint/<str:endpoint_id>/connectivity", emnify_endpoints.connectivity_endpoint, name="emnify_endpoint_connectivity"),
    path("api/v1/endpoint/<str:endpoint_id>/event", emnify_endpoints.events_endpoint, name="emnify_endpoint_events"),
    path("api/v1/endpoint/<str:endpoint_id>/operator_blacklist", emnify_endpoints.blacklist_endpoint, name="emnify_endpoint_blacklist"),
    path(
        "api/v1/endpoint/<str:endpoint_id>/operator_blacklist/<str:operator_id>",
        emnify_endpoints.blacklisted_operator_endpoint,
        name="emnify_endpoint_blacklisted_operator",
    ),
    path("api/v1/operator", emnify_operators.operators_endpoint, name="emnify_operators"),
    # The endpoint's SMS (api/emnify_sms.py), through the console's SMS path.
    path("api/v1/endpoint/<str:endpoint_id>/sms", emnify_sms.sms_endpoint, name="emnify_endpoint_sms"),
    path("api/v1/endpoint/<str:endpoint_id>/sms/<str:sms_id>", emnify_sms.one_sms_endpoint, name="emnify_endpoint_one_sms"),
    path("admin/", admin.site.urls),
]

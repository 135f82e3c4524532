"""The console's URLs as the access tests walk them: the method each view answers, a sensible form
for each POST, and who may use what. Shared by tests/console/test_access.py and tests/console/test_access_walk.py;
both fail when a URL is added without a line here."""

# The method each console view answers ("GET,POST": both, the first one is the page).
METHODS = {
    "home": "GET",
    "product_new": "GET,POST",
    "product_home": "GET",
    "team": "GET",
    "team_add": "POST",
    "team_role": "POST",
    "team_remove": "POST",
    "team_invite": "POST",
    "invitation_resend": "POST",
    "invitation_revoke": "POST",
    "sim_list": "GET",
    "sims_bulk": "POST",
    "bulk_job": "GET",
    "sim_count": "GET",
    "sim_export": "GET",
    "fleet_active_sims": "GET",
    "fleet_connectivity": "GET",
    "product_data_limit": "POST",
    "product_settings": "GET,POST",
    "fleet_monthly_cost": "GET",
    "budget": "GET,POST",
    "billing": "GET",
    "billing_period": "GET",
    "billing_model": "POST",
    "billing_compare": "GET",
    "billing_advisor": "GET",
    "billing_advisor_apply": "POST",
    "invoice_detail": "GET",
    "invoice_csv": "GET",
    "sim_detail": "GET",
    "sim_menu": "GET",
    "sim_timeline": "GET",
    "sim_usage_by_zone": "GET",
    "sim_action": "POST",
    "import_start": "GET,POST",
    "import_check": "POST",
    "import_file": "POST",
    "import_scan": "POST",
    "import_job": "GET",
    "import_quote": "GET",
    "import_confirm": "POST",
    "import_outcomes_csv": "GET",
    "my_sims": "GET",
    "my_sim_action": "POST",
    "my_sim_to_product": "POST",
    "api_tokens": "GET,POST",
    "api_token_revoke": "POST",
    "webhooks": "GET",
    "webhook_add": "POST",
    "webhook_active": "POST",
    "webhook_delete": "POST",
    "webhook_delivery": "GET",
    "webhook_delivery_body": "GET",
    "notifications": "GET",
    "notifications_unread": "GET",
    "notifications_read_all": "POST",
    "notification_read": "POST",
    "notification_settings": "GET,POST",
    "carrier_accounts": "GET",
    "carrier_health": "GET",
    "carrier_account_new": "GET,POST",
    "carrier_account_edit": "GET,POST",
    "carrier_account_delete": "POST",
    "carrier_account_test": "POST",
    "carrier_sim_retry": "POST",
    "carrier_sim_reset_connectivity": "POST",
    "carrier_sims_retry": "POST",
    "carrier_reconciliation": "GET",
    "carrier_reconciliation_fix": "POST",
    "carrier_reconciliation_check": "POST",
    "carrier_import": "GET,POST",
    "device_list": "GET",
    "device_new": "GET,POST",
    "device_detail": "GET",
    "device_edit": "POST",
    "device_assign": "POST",
    "device_release": "POST",
    "imei_lock": "GET,POST",
    "imei_lock_swap": "POST",
    "sim_imei_lock": "GET,POST",
    "sim_imei_lock_swap": "POST",
    "sms_messages": "GET",
    "sims_sms_bulk": "GET,POST",
    "sim_sms": "GET",
    "sim_sms_send": "POST",
    "rule_list": "GET",
    "rule_new": "GET,POST",
    "rule_preview_new": "POST",
    "rule_detail": "GET",
    "rule_backtest": "GET",
    "rule_edit": "GET,POST",
    "rule_preview": "POST",
    "rule_enabled": "POST",
    "rule_delete": "POST",
    "rule_approval": "POST",
}
# A teammate's own developer SIM: the outsider must not reach it either.
DEVELOPER_PAGES = {"my_sim_action", "my_sim_to_product"}
# A notification of the teammate's: nobody else may mark it read.
OWN_NOTIFICATION_PAGES = {"notification_read"}
# What each POST sends: a sensible form, so a teammate's request succeeds.
POST_DATA = {
    "team_add": {"username_or_email": "nobody", "role": "member"},
    "team_role": {"role": "member"},
    "team_invite": {"email": "walk-invitee@example.net", "role": "member"},
    "product_new": {"name": "Walk Product"},
    "password_reset": {"email": "nobody@example.net"},
    "sims_bulk": {"action": "deactivate", "scope": "matching"},
    "product_data_limit": {"data_limit_mb": "10"},
    "product_settings": {"trigger_data_kb": "5", "trigger_sms": "2"},
    "billing_model": {"pricing_model": "payg"},
    "budget": {"amount": "1000", "alert_percentages": "50, 80, 100", "recipients": "admins"},
    "import_start": {"iccid": ["89012600000000000017"]},
    "import_check": {"text": "8901260000000000017"},
    "import_file": {"file": "see _request"},
    "import_confirm": {"country": "DE"},
    "my_sim_to_product": {"product": "acme"},
    "webhook_add": {"url": "https://hooks.example.com/sims"},
    "api_tokens": {"name": "walk", "product": "", "scopes": ["sims:list"]},
    "carrier_usage_push": {"records": []},
    "carrier_events_push": {"events": []},
    "notification_settings": {"spikes_email": "on", "sims_paused_console": "on"},
    "carrier_account_new": {"name": "Walk carrier", "adapter": "simulator", "iccid_prefixes": "894400"},
    "carrier_account_edit": {"name": "Walk carrier renamed", "iccid_prefixes": "894401"},
    "carrier_sims_retry": {"scope": "matching"},
    "carrier_reconciliation_fix": {"direction": "ours", "all": "on"},
    "carrier_import": {"country": "DE"},
    "device_new": {"device_id": "walk-device-2", "name": "Walk device"},
    "device_edit": {"device_id": "walk-device-1", "name": "Walk device renamed"},
    "device_assign": {"iccid": "the product's SIM: set by the tests"},
    "imei_lock": {"mode": "first"},
    "sim_imei_lock": {"mode": "first"},
    "sim_sms_send": {"body": "walk"},
    "sims_sms_bulk": {"template": "walk {iccid}"},
    "carrier_sms_push": {"messages": []},
    "rule_enabled": {"enabled": "on"},
    "rule_approval": {"decision": "refuse"},
    "rule_new": {
        "name": "Walk rule", "scope_kind": "all", "condition_kind": "usage_day", "condition-usage_day-mb": "50",
        "action-pause": "on", "window_kind": "day", "form_token": "7b0c6f0e-2f7e-4a43-9d55-2b3f1c4b2a10",
    },
    "rule_preview_new": {"name": "Walk rule", "scope_kind": "all", "condition_kind": "usage_day", "condition-usage_day-mb": "50", "action-pause": "on", "window_kind": "day"},
    "rule_preview": {"name": "Walk rule", "scope_kind": "all", "condition_kind": "usage_day", "condition-usage_day-mb": "70", "action-pause": "on", "window_kind": "day"},
    "rule_edit": {"name": "Walk rule renamed", "scope_kind": "all", "condition_kind": "usage_day", "condition-usage_day-mb": "60", "action-pause": "on", "window_kind": "day"},
}
# Pages of the person, not of a product: every signed-in person has their own.
NOT_PRODUCT_PAGES = {
    "home", "product_new", "my_sims", "api_tokens", "api_token_revoke", "notifications", "notifications_unread",
    "notifications_read_all", *OWN_NOTIFICATION_PAGES,
}  # fmt: skip
# Password reset by email: for anyone, signed in or not, the same answer whatever the address.
PASSWORD_RESET = {"password_reset": "GET,POST", "password_reset_done": "GET", "password_reset_confirm": "GET", "password_reset_complete": "GET"}
# The link of an invitation by email: whoever holds it (its token is the credential). Its GET puts the
# token in the session and leads on to invitation_accept, the page and its form, without the token.
INVITATION_LINK = {"invitation": "GET", "invitation_accept": "GET,POST"}
# Every method of these is for product admins only; a member gets 403.
ADMIN_ONLY = {
    "team_add", "team_role", "team_remove", "team_invite", "invitation_resend", "invitation_revoke", "billing_model", "billing_advisor_apply",
    "webhook_add", "webhook_active", "webhook_delete", "carrier_account_new", "carrier_account_edit", "carrier_account_delete",
    "carrier_account_test", "carrier_reconciliation_fix", "carrier_reconciliation_check", "imei_lock_swap", "sim_imei_lock_swap",
    "rule_enabled", "rule_delete", "rule_approval", "rule_new", "rule_edit", "rule_preview_new", "rule_preview",
}  # fmt: skip
# Members read these pages; only admins change them (their POST).
ADMIN_ONLY_POST = {"product_settings", "carrier_import", "imei_lock", "sim_imei_lock", "budget"}
PUBLIC = {"login", "logout", "password_change", "password_change_done", "api_schema", "api_docs", *PASSWORD_RESET, *INVITATION_LINK}
# Public documentation, like Particle's: anyone may read how the API works, signed in or not.
PUBLIC_DOCS = {"api_schema": "application/json", "api_docs": "text/html"}
# Endpoints for machines, not people: a bearer token instead of a session.
TOKEN_ENDPOINTS = {"carrier_usage_push": "POST", "carrier_events_push": "POST", "carrier_sms_push": "POST"}
# The REST API's two dialects: tests/api/test_particle.py, tests/api/test_emnify.py, tests/console/test_access_walk.py.
API_PREFIXES = ("particle_", "emnify_")

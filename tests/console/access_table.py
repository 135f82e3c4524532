"""The console's URLs as the access tests walk them: the method each view answers, a sensible form
for each POST, and who may use what. Shared by tests/console/test_access.py and tests/console/test_access_walk.py;
both fail when a URL is added without a line here."""

# The method each console view answers ("GET,POST": both, the first one is the page).
METHODS = {
    "home": "GET",
    "product_home": "GET",
    "team": "GET",
    "team_add": "POST",
    "team_role": "POST",
    "team_remove": "POST",
    "sim_list": "GET",
    "sims_bulk": "POST",
    "bulk_job": "GET",
    "sim_count": "GET",
    "fleet_active_sims": "GET",
    "product_data_limit": "POST",
    "product_settings": "GET,POST",
    "fleet_monthly_cost": "GET",
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
}
# A teammate's own developer SIM: the outsider must not reach it either.
DEVELOPER_PAGES = {"my_sim_action", "my_sim_to_product"}
# What each POST sends: a sensible form, so a teammate's request succeeds.
POST_DATA = {
    "team_add": {"username_or_email": "nobody", "role": "member"},
    "team_role": {"role": "member"},
    "sims_bulk": {"action": "deactivate", "scope": "matching"},
    "product_data_limit": {"data_limit_mb": "10"},
    "product_settings": {"trigger_data_kb": "5", "trigger_sms": "2"},
    "billing_model": {"pricing_model": "payg"},
    "import_start": {"iccid": ["89012600000000000017"]},
    "import_check": {"text": "8901260000000000017"},
    "import_file": {"file": "see _request"},
    "import_confirm": {"country": "DE"},
    "my_sim_to_product": {"product": "acme"},
    "webhook_add": {"url": "https://hooks.example.com/sims"},
    "api_tokens": {"name": "walk", "product": "", "scopes": ["sims:list"]},
    "carrier_usage_push": {"records": []},
}
# Pages of the person, not of a product: every signed-in person has their own.
NOT_PRODUCT_PAGES = {"home", "my_sims", "api_tokens", "api_token_revoke"}
# Every method of these is for product admins only; a member gets 403.
ADMIN_ONLY = {"team_add", "team_role", "team_remove", "billing_model", "billing_advisor_apply", "webhook_add", "webhook_active", "webhook_delete"}
# Members read these pages; only admins change them (their POST).
ADMIN_ONLY_POST = {"product_settings"}
PUBLIC = {"login", "logout", "password_change", "password_change_done", "api_schema", "api_docs"}
# Public documentation, like Particle's: anyone may read how the API works, signed in or not.
PUBLIC_DOCS = {"api_schema": "application/json", "api_docs": "text/html"}
# Endpoints for machines, not people: a bearer token instead of a session.
TOKEN_ENDPOINTS = {"carrier_usage_push": "POST"}
# The REST API's two dialects: tests/api/test_particle.py, tests/api/test_emnify.py, tests/console/test_access_walk.py.
API_PREFIXES = ("particle_", "emnify_")

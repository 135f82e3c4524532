"""Bad input in every form of the console, in a real browser, with DEBUG on (as `./run` starts it, with
django-htmx's debug script on the page) and off (production): the page keeps its navigation and the
error shows in the form it belongs to."""

import pytest
from playwright.sync_api import expect

from products.models import Membership, Product
from sims.models import Sim, State
from tests.conftest import make_iccid, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=[True, False], ids=["DEBUG=1", "DEBUG=0"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def product(transactional_db, prices):
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers")
    Membership.objects.create(user=make_user("demo"), product=product, role=Membership.Role.ADMIN)
    Sim.objects.bulk_create([Sim(iccid=make_iccid(), product=product, state=State.ACTIVE) for _ in range(3)])
    return product


@pytest.fixture
def signed_in(page, live_server, product, debug):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "pw")
    page.click("button:has-text('Sign in')")
    expect(page.get_by_role("heading", name="Your products")).to_be_visible()
    debug_script = page.locator('script[src$="django-htmx.js"][data-debug="True"]')
    expect(debug_script).to_have_count(1 if debug else 0)

    def visit(path: str) -> None:
        page.goto(f"{live_server.url}/products/{product.slug}/{path}")
        expect(debug_script).to_have_count(1 if debug else 0)
        page.wait_for_load_state("networkidle")  # the fragments that load after the page are in

    return visit


def expect_page_intact(page) -> None:
    expect(page.locator("header.topbar .topnav")).to_be_visible()
    expect(page.get_by_role("navigation", name="Product")).to_be_visible()


def test_bulk_apply_with_nothing_chosen(page, signed_in):
    signed_in("sims/")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#bulk-result .form-error").first).to_contain_text("Choose")
    expect_page_intact(page)


def test_bulk_data_limit_without_megabytes(page, signed_in):
    signed_in("sims/")
    page.locator('#sim-table input[name="ids"]').first.check()
    page.select_option('select[name="action"]', "set_data_limit")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#bulk-result .form-error")).to_contain_text("MB")
    expect_page_intact(page)


def test_bulk_terminate_without_its_confirmation(page, signed_in):
    signed_in("sims/")
    page.locator('#sim-table input[name="ids"]').first.check()
    page.select_option('select[name="action"]', "terminate")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#bulk-result .form-error")).to_contain_text("Terminating is permanent")
    expect_page_intact(page)
    assert not Sim.objects.filter(state=State.TERMINATED).exists()


def test_a_row_data_limit_without_megabytes(page, signed_in):
    signed_in("sims/")
    row = page.locator("#sim-table tbody tr").first
    row.locator("summary.button").click()
    row.get_by_label("Data limit in MB").fill("")
    row.get_by_role("button", name="Set data limit").click()
    expect(page.locator("#messages .message-error")).to_contain_text("data limit")
    expect_page_intact(page)


def test_an_unknown_user_added_to_the_team(page, signed_in):
    signed_in("team/")
    page.fill("#id_username_or_email", "nobody-here")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator("#team .field-error")).to_contain_text("No one has the username or email")
    expect_page_intact(page)


def test_an_invalid_trigger_in_settings(page, signed_in):
    signed_in("settings/")
    page.fill("#id_trigger_sms", "-3")
    page.get_by_role("button", name="Save triggers").click()
    expect(page.locator("#triggers .field-error")).to_have_text(["Use 1 or more, or leave it empty to turn the rule off."])
    expect_page_intact(page)


def test_a_webhook_with_a_bad_url(page, signed_in):
    signed_in("webhooks/")
    page.fill("#id_url", "ftp://hooks.acme.example/sims")
    page.get_by_role("button", name="Add webhook").click()
    expect(page.locator("#webhooks .field-error")).to_be_visible()
    expect_page_intact(page)


def test_a_pricing_model_that_does_not_exist(page, signed_in):
    signed_in("billing/")
    page.locator('input[name="pricing_model"]').first.evaluate("radio => { radio.value = 'no-such-model'; radio.checked = true; }")
    page.locator("#pricing button.primary").click()
    expect(page.locator("#pricing .field-error, #pricing .form-error").first).to_contain_text("not one of the available choices")
    expect_page_intact(page)


def test_an_empty_file_to_import(page, signed_in):
    signed_in("import/")
    page.set_input_files("#file-input", files=[{"name": "empty.txt", "mimeType": "text/plain", "buffer": b""}])
    expect(page.locator("#file-summary")).to_contain_text("empty.txt is empty")
    expect_page_intact(page)


def test_a_pasted_line_that_is_not_an_iccid(page, signed_in):
    signed_in("import/")
    page.fill("#paste-iccids", "8901260000000000018")
    page.get_by_role("button", name="Add all to the queue").click()
    expect(page.locator("#queue")).to_contain_text("fails the Luhn check")
    expect_page_intact(page)


def test_a_row_action_on_a_sim_removed_meanwhile(page, signed_in):
    signed_in("sims/")
    row = page.locator("#sim-table tbody tr").first
    iccid = row.locator("td.mono").inner_text()
    row.locator("summary.button").click()
    expect(row.get_by_role("button", name="Deactivate")).to_be_visible()
    Sim.objects.filter(iccid=iccid).delete()
    row.get_by_role("button", name="Deactivate").click()  # a 404: under DEBUG too, a message and not a debug page
    expect(page.locator("#messages .message-error")).to_contain_text("not there any more")
    expect_page_intact(page)


def test_the_sims_page_and_its_row_menu_log_no_htmx_error(page, signed_in):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    signed_in("sims/")
    expect(page.locator("#sim-count")).not_to_contain_text("Counting")
    row = page.locator("#sim-table tbody tr").first
    row.locator("summary.button").click()
    row.get_by_role("button", name="Deactivate").click()
    expect(page.locator("#messages")).to_contain_text("deactivated")
    assert errors == []


def test_a_missing_page_keeps_the_consoles_look_and_leads_home(page, live_server, product, settings, screenshot):
    settings.DEBUG = False
    page.goto(f"{live_server.url}/accounts/login/?next=/products/acme-trackers/no-such-tab/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "pw")
    page.click("button:has-text('Sign in')")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.locator("header.topbar .topnav")).to_be_visible()
    screenshot("error-404")
    page.get_by_role("link", name="Back to your products").click()
    expect(page.get_by_role("heading", name="Your products")).to_be_visible()

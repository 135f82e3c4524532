"""A bulk terminate of "all matching" in a real browser: the typed number, refused when wrong, then a
background job run by a real worker, its progress page and its report."""

import re

import pytest
from playwright.sync_api import expect

from products.models import Membership, Product
from sims.models import Sim, State
from tests.conftest import make_iccid, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fleet(transactional_db, settings):
    settings.BULK_JOB_ABOVE_SIMS = 10  # the live server's rule: a job above 10 SIMs, as above 10,000
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers")
    Membership.objects.create(user=make_user("demo"), product=product, role=Membership.Role.ADMIN)
    states = [State.ACTIVE] * 12 + [State.TERMINATED] * 2
    Sim.objects.bulk_create([Sim(iccid=make_iccid(), product=product, state=state, home_country="US") for state in states])
    return product


def test_terminating_all_matching_asks_for_the_number_then_runs_as_a_job_with_progress(page, live_server, fleet, start_worker, screenshot):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "pw")
    page.click("button:has-text('Sign in')")
    page.goto(f"{live_server.url}/products/acme-trackers/sims/")
    expect(page.locator("#match-count")).to_have_text("14")
    page.check('input[name="scope"][value="matching"]')
    page.select_option('select[name="action"]', "terminate")
    page.check('input[name="confirm_terminate"]')
    page.get_by_role("button", name="Apply").click()

    field = page.get_by_label("Type 14 to terminate 14 SIMs")
    expect(field).to_be_visible()
    screenshot("bulk-01-type-the-number")
    field.fill("12")
    page.get_by_role("button", name="Terminate 14 SIMs").click()
    expect(page.locator("#bulk-confirm .form-error")).to_contain_text("you typed 12, but this would change 14 SIMs. Type 14")
    screenshot("bulk-02-wrong-number")
    assert Sim.objects.filter(product=fleet, state=State.ACTIVE).count() == 12  # nothing changed

    start_worker()
    page.get_by_label("Type 14 to terminate 14 SIMs").fill("14")
    page.get_by_role("button", name="Terminate 14 SIMs").click()
    expect(page).to_have_url(re.compile(r"/products/acme-trackers/sims/bulk/\d+/$"))
    expect(page.locator("#progress")).to_contain_text("Done. 12 SIMs changed, 2 skipped.", timeout=60_000)
    expect(page.locator("#progress")).to_contain_text("the SIM is terminated")
    screenshot("bulk-03-job-done")
    assert Sim.objects.filter(product=fleet, state=State.TERMINATED).count() == 14
    page.get_by_role("link", name="See the SIMs").click()
    expect(page.locator(".bulk-jobs")).to_contain_text("Terminate on every SIM of the product: 12 changed, 2 skipped")
    screenshot("bulk-04-sims-page-lists-the-job", full_page=False)

"""A team starts without the Django admin: a person signs in, creates a product, invites a teammate
by email; the teammate follows the link from the sent mail, chooses a password and lands in the product."""

import re

import pytest
from playwright.sync_api import expect

from products.models import Membership
from tests.browser.conftest import SCREENSHOTS, accept_invitation, create_first_product, invite_by_email, link_in, open_invitation, sign_in
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STRONG = "quiet-harbour-lantern-47"


def test_a_founder_creates_a_product_and_an_invited_teammate_joins_from_the_mail(browser, page, live_server, mailoutbox, screenshot):
    make_user("founder")
    sign_in(page, live_server, "founder")
    expect(page.get_by_role("heading", name="Welcome to SIM Console")).to_be_visible()
    screenshot("onboarding-01-welcome")

    create_first_product(page, "Cold Chain Sensors")
    expect(page).to_have_url(re.compile(r"/products/cold-chain-sensors/team/$"))
    invite_by_email(page, "dana@example.net")
    screenshot("onboarding-02-invited")

    [mail] = mailoutbox
    assert mail.to == ["dana@example.net"]
    link = link_in(mail, live_server, "/invitations/")

    teammate = browser.new_context(viewport={"width": 375, "height": 800}).new_page()
    open_invitation(teammate, link, product_name="Cold Chain Sensors", username="dana", password=STRONG)
    teammate.screenshot(path=str(SCREENSHOTS / "onboarding-03-join-375.png"), full_page=True)
    accept_invitation(teammate, "Cold Chain Sensors")
    expect(teammate).to_have_url(re.compile(r"/products/cold-chain-sensors/sims/"))
    assert Membership.objects.get(user__username="dana").product.name == "Cold Chain Sensors"

    # The founder's team page: dana is in, the invitation no longer pending.
    page.reload()
    expect(page.locator("#team table").first).to_contain_text("dana")
    expect(page.locator("#invitations")).to_have_count(0)

    # The same link again: used, and the page says so.
    teammate.context.clear_cookies()
    teammate.goto(link)
    expect(teammate.get_by_role("heading", name="This invitation was already used")).to_be_visible()


def test_giving_up_admin_asks_once_in_the_page(page, live_server, screenshot):
    from products.models import Product

    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers")
    founder = make_user("founder")
    Membership.objects.create(user=founder, product=product, role=Membership.Role.ADMIN)
    Membership.objects.create(user=make_user("bob"), product=product, role=Membership.Role.ADMIN)
    page.goto(f"{live_server.url}/products/acme-trackers/team/")
    page.fill("#id_username", "founder")
    page.fill("#id_password", "pw")
    page.click("button:has-text('Sign in')")
    row = page.locator("#team tbody tr", has_text="founder")
    row.locator("select").select_option("member")
    row.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Make yourself a member?")).to_be_visible()
    screenshot("onboarding-04-confirm-demotion")
    assert Membership.objects.get(user=founder).role == "admin"
    page.get_by_label("Yes, make me a member").check()
    page.get_by_role("button", name="Give up admin").click()
    expect(page.locator(".messages")).to_contain_text("founder is now member")
    assert Membership.objects.get(user=founder).role == "member"

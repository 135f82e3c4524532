"""A team starts without the Django admin: a person signs in, creates a product, invites a teammate
by email; the teammate follows the link from the sent mail, chooses a password and lands in the product."""

import re

import pytest
from playwright.sync_api import expect

from products.models import Membership
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STRONG = "quiet-harbour-lantern-47"


def test_a_founder_creates_a_product_and_an_invited_teammate_joins_from_the_mail(browser, page, live_server, mailoutbox, screenshot):
    make_user("founder")
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "founder")
    page.fill("#id_password", "pw")
    page.click("button:has-text('Sign in')")
    expect(page.get_by_role("heading", name="Welcome to SIM Console")).to_be_visible()
    screenshot("onboarding-01-welcome")

    page.get_by_role("link", name="Create your first product").click()
    page.fill("#id_name", "Cold Chain Sensors")
    page.click("button:has-text('Create product')")
    expect(page).to_have_url(re.compile(r"/products/cold-chain-sensors/team/$"))
    expect(page.locator(".messages")).to_contain_text("Cold Chain Sensors is ready and you are its admin")

    page.fill("#id_invite_email", "dana@example.net")
    page.click("button:has-text('Send invitation')")
    expect(page.locator("#invitations")).to_contain_text("dana@example.net")
    expect(page.locator(".messages")).to_contain_text("Invitation sent to dana@example.net")
    screenshot("onboarding-02-invited")

    [mail] = mailoutbox
    assert mail.to == ["dana@example.net"]
    link = re.search(r"https?://\S+/invitations/\S+/", mail.body).group(0)
    assert link.startswith(live_server.url)

    teammate = browser.new_context(viewport={"width": 375, "height": 800}).new_page()
    teammate.goto(link)
    expect(teammate.get_by_role("heading", name="Join Cold Chain Sensors")).to_be_visible()
    expect(teammate).to_have_url(f"{live_server.url}/invitations/accept/")  # the token is in the session, not the URL
    expect(teammate.locator("#id_username")).to_have_value("dana")
    teammate.fill("#id_password1", STRONG)
    teammate.fill("#id_password2", STRONG)
    teammate.screenshot(path=str(SCREENSHOTS / "onboarding-03-join-375.png"), full_page=True)
    teammate.click("button:has-text('Create my account and join')")
    expect(teammate).to_have_url(re.compile(r"/products/cold-chain-sensors/sims/"))
    expect(teammate.locator(".messages")).to_contain_text("Welcome to Cold Chain Sensors")
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

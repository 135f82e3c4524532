"""Notifications in a real browser: the unread count in the top bar, the list, marking one read
(the count follows), and choosing what one gets."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from imports.models import ImportJob
from notifications import messages
from notifications.models import Kind, Notification, Preference
from notifications.notify import notify
from products.models import Membership, Product
from tests.conftest import make_iccid, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def told(transactional_db):
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers")
    user = make_user("demo")
    Membership.objects.create(user=user, product=product, role=Membership.Role.ADMIN)
    job = ImportJob.objects.create(
        product=product, created_by=user, status=ImportJob.Status.DONE, valid=1203, processed=1203, activated=1180,
        transferred=3, other_owner=12, terminated=2, carrier_refused=6, invalid=4, lines=1207,
    )  # fmt: skip
    notify(product_id=product.pk, kind=Kind.IMPORT_FINISHED, message=messages.import_finished(job))
    paused = [make_iccid() for _ in range(37)]
    window = timezone.now().replace(minute=0, second=0, microsecond=0)
    notify(product_id=product.pk, kind=Kind.SIMS_PAUSED, message=messages.sims_paused(slug=product.slug, count=37, iccids=paused, window_start=window))
    return product, user


def _sign_in(page, live_server) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "pw")
    page.click("button:has-text('Sign in')")


def test_the_top_bar_counts_unread_and_marking_one_read_lowers_it(page, live_server, told, screenshot):
    product, user = told
    _sign_in(page, live_server)
    expect(page.locator(".topbar .notify-count")).to_have_text("2 unread")
    page.get_by_role("link", name="Notifications").click()
    expect(page.locator(".notification")).to_have_count(2)
    expect(page.locator(".notification").first).to_contain_text("37 SIMs were paused at their data limit")
    expect(page.locator(".notification").first.locator(".notification-items a")).to_have_count(20)
    expect(page.locator(".notification").first).to_contain_text("and 17 more")
    screenshot("notifications")

    page.locator(".notification").first.get_by_role("button", name="Mark as read").click()
    expect(page.locator(".notification.unread")).to_have_count(1)
    expect(page.locator(".topbar .notify-count")).to_have_text("1 unread")
    assert Notification.objects.filter(read_at__isnull=True).count() == 1

    page.set_viewport_size({"width": 375, "height": 800})
    screenshot("notifications-phone")


def test_a_person_chooses_what_they_get_about_a_product(page, live_server, told, screenshot):
    product, user = told
    _sign_in(page, live_server)
    page.goto(f"{live_server.url}/notifications/")
    page.get_by_role("link", name=product.name).last.click()
    page.get_by_label("Yesterday's usage spikes (one digest a day): by email").uncheck()
    screenshot("notification-choices")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#messages")).to_contain_text("Saved")
    expect(page.get_by_label("Yesterday's usage spikes (one digest a day): by email")).not_to_be_checked()
    assert Preference.objects.get(user=user, kind=Kind.SPIKES).email is False

"""A team's first hour, from a database as `migrate` leaves it: the person `createsuperuser` made signs
in, creates a product and invites a teammate by email; the teammate follows the mail's link on a phone,
chooses a password, scans three SIM cards with the camera, picks their home country, sees the cost,
confirms, watches the import finish and gets the "import finished" email, whose link opens the import."""

import re

import pytest
from django.contrib.auth import get_user_model
from django_tasks_db.management.commands.db_worker import Worker
from playwright.sync_api import expect

from imports.models import ImportJob
from products.models import Membership, Product
from sims.models import Sim, State
from tests.browser.conftest import (
    PHONE,
    SCREENSHOTS,
    accept_invitation,
    create_first_product,
    invite_by_email,
    link_in,
    open_invitation,
    sign_in,
)
from tests.browser.fake_camera import card_frame, write_slideshow_y4m
from tests.conftest import make_iccid

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOUNDER_PASSWORD = "amber-kettle-orchard-31"
TEAMMATE_PASSWORD = "quiet-harbour-lantern-47"
CARDS = 3


@pytest.fixture
def freshly_migrated(prices):
    """The database `migrate` leaves: nobody, no product, the default prices (its data migration's,
    which a transactional test's flush empties)."""
    assert not get_user_model().objects.exists() and not Product.objects.exists()


def run_tasks() -> None:
    """What ./run's `manage.py db_worker` does, here until the queue is empty: the import, its events,
    the notification's email (into this process's outbox, on its clock when TEST_CLOCK moved it).
    The command's loop without the command, which would leave its SIGINT handler in pytest."""
    worker = Worker(
        queue_names=["default"], excluded_queue_names=[], backend_name="default", worker_id="first-hour",
        batch=True, interval=0.1, startup_delay=False, max_tasks=None,
    )  # fmt: skip
    worker.run()


def test_the_first_hour_of_a_team_from_an_empty_database(page, live_server, camera_browser, freshly_migrated, mailoutbox, settings, tmp_path):
    settings.CONSOLE_BASE_URL = live_server.url  # as a deployment sets it: the worker's email links here
    get_user_model().objects.create_superuser("founder", "founder@example.com", FOUNDER_PASSWORD)  # createsuperuser's user

    # The founder: a product, and a teammate invited by email.
    sign_in(page, live_server, "founder", FOUNDER_PASSWORD)
    expect(page.get_by_role("heading", name="Welcome to SIM Console")).to_be_visible()
    create_first_product(page, "Cold Chain Sensors")
    invite_by_email(page, "dana@example.net")
    shoot(page, "first-hour-01-invited")
    [invitation] = mailoutbox
    assert invitation.to == ["dana@example.net"]

    # The teammate, on a phone whose camera will see three cards in turn.
    iccids = [make_iccid() for _ in range(CARDS)]
    cards = write_slideshow_y4m([card_frame(iccid) for iccid in iccids], tmp_path / "cards.y4m")
    phone = camera_browser(cards).new_page(viewport=PHONE, has_touch=True)
    phone.set_default_timeout(10_000)
    open_invitation(phone, link_in(invitation, live_server, "/invitations/"), product_name="Cold Chain Sensors", username="dana", password=TEAMMATE_PASSWORD)
    shoot(phone, "first-hour-02-join")
    accept_invitation(phone, "Cold Chain Sensors")
    expect(phone).to_have_url(re.compile(r"/products/cold-chain-sensors/sims/$"))
    shoot(phone, "first-hour-03-in-the-product")

    phone.get_by_role("link", name="Import SIMs").click()
    phone.get_by_role("button", name="Scan barcodes with the camera").click()
    expect(phone.locator("[data-queue-count]")).to_have_text(str(CARDS), timeout=30_000)
    for iccid in iccids:
        expect(phone.locator(f'#queue li[data-iccid="{iccid}"]')).to_contain_text("Ready to activate")
    shoot(phone, "first-hour-04-scanned")
    phone.get_by_role("button", name="Stop scanning").click()

    phone.get_by_role("button", name="Continue").click()
    expect(phone.get_by_role("heading", name="Review the import")).to_be_visible()
    expect(phone.locator(".lead")).to_have_text(f"{CARDS} lines typed, pasted or scanned. Nothing happens until you confirm.")
    phone.fill("#country-search", "Netherl")
    expect(phone.locator("#quote")).to_contain_text("Zone 1")
    expect(phone.locator("#quote")).to_contain_text(f"Activating {CARDS} SIMs charges")
    assert past_the_card(phone, "#quote") == [], "the cost runs out of its card at 375 px"
    shoot(phone, "first-hour-05-review")

    phone.get_by_role("button", name=f"Activate {CARDS} SIMs").click()
    expect(phone.locator("#progress")).to_be_visible()
    run_tasks()
    expect(phone.locator("#progress progress")).to_have_attribute("value", "100")
    expect(phone.locator("#progress")).to_contain_text(f"{CARDS} SIMs activated")
    shoot(phone, "first-hour-06-done")
    job = ImportJob.objects.get()
    assert job.created_by.username == "dana"
    assert set(Sim.objects.filter(product__slug="cold-chain-sensors", state=State.ACTIVE, home_country="NL").values_list("iccid", flat=True)) == set(iccids)
    assert Membership.objects.get(user__username="dana").role == Membership.Role.MEMBER

    # The "import finished" email: to the teammate, the count, and a link that opens the import.
    [_, finished] = mailoutbox
    assert finished.to == ["dana@example.net"]
    assert f"{CARDS} SIMs went in" in finished.subject
    assert f"{CARDS} SIMs went in ({CARDS} activated)" in finished.body
    phone.goto(link_in(finished, live_server, f"/products/cold-chain-sensors/import/{job.pk}/"))
    expect(phone.locator("#progress")).to_contain_text(f"{CARDS} SIMs activated")


def past_the_card(page, selector: str) -> list[str]:
    """The texts in `selector` whose box runs past the right edge of the card holding it."""
    return page.evaluate(
        """(selector) => {
            const box = document.querySelector(selector);
            const right = box.closest(".card").getBoundingClientRect().right;
            return [...box.querySelectorAll("*")].filter((el) => el.getBoundingClientRect().right > right).map((el) => el.textContent.trim());
        }""",
        selector,
    )


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def playwright():
    """One Playwright for the session: its sync API cannot be started twice in one thread."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (./test installs it as root: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(name: str, full_page: bool = True) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

    return take


PHONE = {"width": 375, "height": 812}


@pytest.fixture
def camera_browser(playwright):
    """Launches a Chromium whose camera films a Y4M video (tests/browser/fake_camera.py); closed after the test."""
    launched = []

    def launch(video: Path):
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={video}"],
        )
        launched.append(browser)
        return browser

    yield launch
    for browser in launched:
        browser.close()


# --- A team's first steps, shared by the tests that start from nobody ---------------------------------------------


def sign_in(page, live_server, username: str, password: str = "pw") -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button:has-text('Sign in')")


def create_first_product(page, name: str) -> None:
    """From the welcome page of someone in no product: the product is made and its team page opens."""
    page.get_by_role("link", name="Create your first product").click()
    page.fill("#id_name", name)
    page.click("button:has-text('Create product')")
    expect(page).to_have_url(re.compile(r"/team/$"))
    expect(page.locator(".messages")).to_contain_text(f"{name} is ready and you are its admin")


def invite_by_email(page, email: str) -> None:
    """On the team page."""
    page.fill("#id_invite_email", email)
    page.click("button:has-text('Send invitation')")
    expect(page.locator("#invitations")).to_contain_text(email)
    expect(page.locator(".messages")).to_contain_text(f"Invitation sent to {email}")


def link_in(mail, live_server, path_part: str) -> str:
    """The link in a sent mail whose path holds path_part; it leads to the live server."""
    link = re.search(rf"https?://\S*{re.escape(path_part)}\S*", mail.body).group(0)
    assert link.startswith(live_server.url), f"{link} does not lead to {live_server.url}"
    return link


def open_invitation(page, link: str, *, product_name: str, username: str, password: str) -> None:
    """A newcomer follows the invitation's link and types a password twice (accept_invitation sends it)."""
    page.goto(link)
    expect(page.get_by_role("heading", name=f"Join {product_name}")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/invitations/accept/$"))  # the token is in the session, not the URL
    expect(page.locator("#id_username")).to_have_value(username)
    page.fill("#id_password1", password)
    page.fill("#id_password2", password)


def accept_invitation(page, product_name: str) -> None:
    """The account is made and the product's SIMs open."""
    page.click("button:has-text('Create my account and join')")
    expect(page).to_have_url(re.compile(r"/products/[\w-]+/sims/"))
    expect(page.locator(".messages")).to_contain_text(f"Welcome to {product_name}")

"""The README's pictures of the SIMs page, on a desktop (1280 px) and on a phone (375 px), taken from a
running console with seed_demo's data:

    ./run                                   # in another terminal: the demo console on :8000
    .venv/bin/python scripts/readme_screenshots.py [http://127.0.0.1:8000]

Writes docs/sims-page.png and docs/sims-page-phone.png (Playwright with Debian's chromium, as the
browser tests use)."""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).resolve().parents[1] / "docs"
USERNAME, PASSWORD = "demo", "demo-sim-console"  # seed_demo's
PRODUCT = "acme-trackers"


def take(base: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--headless"])
        for name, viewport, scale in [
            ("sims-page.png", {"width": 1280, "height": 1100}, 1),
            ("sims-page-phone.png", {"width": 375, "height": 812}, 2),
        ]:
            page = browser.new_page(viewport=viewport, device_scale_factor=scale)
            page.goto(f"{base}/accounts/login/")
            page.fill("#id_username", USERNAME)
            page.fill("#id_password", PASSWORD)
            page.click("button:has-text('Sign in')")
            page.wait_for_url(f"{base}/")
            page.goto(f"{base}/products/{PRODUCT}/sims/")
            page.wait_for_load_state("networkidle")  # the active count and the monthly cost arrive after the page
            page.screenshot(path=str(DOCS / name))
            print(DOCS / name)
            page.close()
        browser.close()


if __name__ == "__main__":
    take(sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000")

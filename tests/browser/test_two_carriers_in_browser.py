"""One product, two carriers, one browser: SIMs imported in one go split between a simulator account
and a Twilio Super SIM account (the fake Super SIM API, tests/carriers/twilio_fake.py) by their ICCID
prefixes, then deactivated in one bulk action; each carrier hears of its own SIMs and of no other."""

import pytest
from playwright.sync_api import expect

from carriers.credentials import encrypt
from carriers.models import CarrierAccount, SimulatedSim
from products.models import Membership, Product
from sims.iccid import luhn_check_digit
from sims.models import NetworkStatus, Sim, State
from tests.browser.test_first_hour_in_browser import run_tasks
from tests.carriers.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeSuperSim
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def iccids(prefix: str, count: int) -> list[str]:
    bodies = [f"{prefix}{serial:0{18 - len(prefix)}d}" for serial in range(31, 31 + count)]
    return [body + luhn_check_digit(body) for body in bodies]


EUROPE, AMERICA = iccids("894450", 3), iccids("890126", 3)


@pytest.fixture
def twilio():
    fake = FakeSuperSim().start()
    fake.add_fleet("simconsole-active")
    for iccid in AMERICA:
        fake.add_sim(iccid)  # on the Twilio account, never activated
    yield fake
    fake.stop()
    assert not fake.violations, "\n".join(fake.violations)


@pytest.fixture
def product(prices, twilio):
    product = Product.objects.create(name="Cold Chain Sensors", slug="cold-chain")
    Membership.objects.create(user=make_user("demo"), product=product, role=Membership.Role.ADMIN)
    CarrierAccount.objects.create(product=product, name="Simulator EU", adapter="simulator", iccid_prefixes="8944")
    CarrierAccount.objects.create(
        product=product, name="Twilio US", adapter="twilio", iccid_prefixes="8901",
        settings={"api_base_url": twilio.url, "timeout_s": 5, "workers": 4},
        credentials=encrypt({"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}),
    )  # fmt: skip
    return product


def twilio_iccids_asked_about(fake: FakeSuperSim) -> set[str]:
    """Every ICCID the fake was sent, in a query, a form, or a SIM's path (by its SID)."""
    sids = {fake.sim(iccid)["sid"]: iccid for iccid in AMERICA}
    seen = set()
    for received in fake.requests:
        for text in [received.path, *received.query.values(), *received.form.values()]:
            seen.update(iccid for iccid in EUROPE + AMERICA if iccid in text)
            seen.update(iccid for sid, iccid in sids.items() if sid in text)
    return seen


def test_an_import_splits_by_prefix_and_a_bulk_deactivate_reaches_each_carrier_with_its_own_sims(page, live_server, product, twilio, screenshot):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "pw")
    page.click("button:has-text('Sign in')")

    # The import: six ICCIDs pasted, split 3 and 3 on the review page.
    page.goto(f"{live_server.url}/products/cold-chain/import/")
    page.fill("#paste-iccids", "\n".join(EUROPE + AMERICA))
    page.get_by_role("button", name="Add all to the queue").click()
    expect(page.locator("[data-queue-count]")).to_have_text("6")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Review the import")).to_be_visible()
    split = page.locator(".carrier-split")
    expect(split).to_contain_text("3 on Simulator EU")
    expect(split).to_contain_text("3 on Twilio US")
    # Only Twilio's SIMs could need a registration code, and these three are on its account already.
    expect(page.locator(".notice.warn")).to_contain_text("(3 came without one)")
    expect(page.locator("#id_unrouted_account")).to_have_count(0)  # every ICCID is in a range
    page.fill("#country-search", "Germ")
    expect(page.locator("#quote")).to_contain_text("Activating 6 SIMs charges")
    screenshot("two-carriers-01-review")
    page.get_by_role("button", name="Activate 6 SIMs").click()
    run_tasks()  # the import, its events, and a push to each carrier
    expect(page.locator("#progress")).to_contain_text("6 SIMs activated", timeout=30_000)

    sims = {sim.iccid: sim for sim in Sim.objects.select_related("carrier_account")}
    assert {iccid: sims[iccid].carrier_account.name for iccid in EUROPE + AMERICA} == {
        **dict.fromkeys(EUROPE, "Simulator EU"), **dict.fromkeys(AMERICA, "Twilio US")
    }
    assert all(sim.state == State.ACTIVE and sim.network_status == NetworkStatus.SYNCED for sim in sims.values())
    assert {iccid: twilio.state(iccid)[0] for iccid in AMERICA} == dict.fromkeys(AMERICA, "active")
    assert dict(SimulatedSim.objects.values_list("iccid", "status")) == dict.fromkeys(EUROPE, "active")

    # One bulk deactivate over both carriers' SIMs.
    page.goto(f"{live_server.url}/products/cold-chain/sims/")
    expect(page.locator("#match-count")).to_have_text("6")
    page.check('input[name="scope"][value="matching"]')
    page.select_option('select[name="action"]', "deactivate")
    page.get_by_role("button", name="Apply").click()
    page.get_by_label("Type 6 to deactivate 6 SIMs").fill("6")
    page.get_by_role("button", name="Deactivate 6 SIMs").click()
    expect(page.locator("#bulk-result")).to_contain_text("Deactivate: 6 done")
    expect(page.locator("table.sims .network-pending")).to_have_count(6)
    screenshot("two-carriers-02-pending-on-both")
    run_tasks()

    assert {iccid: twilio.state(iccid)[0] for iccid in AMERICA} == dict.fromkeys(AMERICA, "inactive")
    assert dict(SimulatedSim.objects.values_list("iccid", "status")) == dict.fromkeys(EUROPE, "suspended")
    assert twilio_iccids_asked_about(twilio) == set(AMERICA)  # Twilio never heard of Europe's SIMs
    assert set(Sim.objects.values_list("state", "network_status")) == {(State.SUSPENDED, NetworkStatus.SYNCED)}
    page.reload()
    expect(page.locator("table.sims .network-pending")).to_have_count(0)
    screenshot("two-carriers-03-synced")

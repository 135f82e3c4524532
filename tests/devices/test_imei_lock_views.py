"""The IMEI lock's fragments: Settings (the product's lock, its swap window) and the SIM page (the SIM's
lock and last mismatch). Members see them; admins change them."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from devices.imei_lock import SWAP_WINDOW
from devices.models import ImeiLock, ImeiMismatch, LockMode, SimImeiLock
from tests.conftest import text_of

HTMX = {"HTTP_HX_REQUEST": "true"}


def _save(client, product, **data):
    form = {"mode": "off", "tacs": "", "imei": "", **data}
    return client.post(reverse("imei_lock", args=[product.slug]), form, **HTMX)


def test_settings_load_the_lock_fragment(owner_client, product):
    page = owner_client.get(reverse("product_settings", args=[product.slug]))
    assert reverse("imei_lock", args=[product.slug]) in page.content.decode()
    fragment = owner_client.get(reverse("imei_lock", args=[product.slug]), **HTMX)
    assert fragment.status_code == 200
    assert "Open a 24 h swap window" in text_of(fragment)


def test_an_admin_saves_each_mode(owner_client, product):
    assert _save(owner_client, product, mode="tacs", tacs="35693803, 86753001\n35693803", suspend="on").status_code == 200
    lock = ImeiLock.objects.get(product=product)
    assert (lock.mode, lock.tacs, lock.suspend, lock.notify) == (LockMode.TACS, ["35693803", "86753001"], True, False)
    _save(owner_client, product, mode="fixed", imei="35-693803-564380-9", notify="on")
    lock.refresh_from_db()
    assert (lock.mode, lock.imei, lock.suspend, lock.notify) == (LockMode.FIXED, "356938035643809", False, True)
    response = _save(owner_client, product, mode="first")
    assert "IMEI lock saved: lock to the first IMEI seen" in text_of(response)
    lock.refresh_from_db()
    assert lock.mode == LockMode.FIRST


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"mode": "tacs"}, "Type at least one TAC to allow, or choose another mode."),
        ({"mode": "tacs", "tacs": "3569380"}, "“3569380” is not a TAC: a TAC is the first 8 digits of an IMEI."),
        ({"mode": "fixed"}, "Type the IMEI to lock to, or choose another mode."),
        ({"mode": "fixed", "imei": "35693803564380X"}, "“35693803564380X” is not an IMEI: type its 15 digits"),
        ({"mode": "sometimes"}, "Select a valid choice."),
    ],
)
def test_a_wrong_lock_says_what_to_do(owner_client, product, data, error):
    response = _save(owner_client, product, **data)
    assert response.status_code == 400
    assert error in text_of(response)
    assert not ImeiLock.objects.exists()


def test_a_member_reads_the_lock_and_cannot_change_it(teammate_client, product):
    ImeiLock.objects.create(product=product, mode=LockMode.FIXED, imei="356938035643809", suspend=True)
    text = text_of(teammate_client.get(reverse("imei_lock", args=[product.slug]), **HTMX))
    assert "Lock to one IMEI" in text and "356938035643809" in text and "the SIM is suspended" in text
    assert "Only a product admin can change the IMEI lock" in text
    assert _save(teammate_client, product, mode="off").status_code == 403
    assert teammate_client.post(reverse("imei_lock_swap", args=[product.slug])).status_code == 403
    assert ImeiLock.objects.get().mode == LockMode.FIXED


def test_an_admin_opens_and_closes_the_products_swap_window(owner_client, product):
    response = owner_client.post(reverse("imei_lock_swap", args=[product.slug]), **HTMX)
    lock = ImeiLock.objects.get(product=product)
    assert lock.swap_until - timezone.now() > SWAP_WINDOW - timedelta(minutes=1)
    assert "Swap window open until" in text_of(response) and "Close the swap window now" in text_of(response)
    owner_client.post(reverse("imei_lock_swap", args=[product.slug]), {"close": "1"})
    lock.refresh_from_db()
    assert lock.swap_until is None


def test_the_sim_page_shows_the_sims_lock_and_last_mismatch(teammate_client, product, sim):
    ImeiLock.objects.create(product=product, mode=LockMode.FIRST, suspend=True)
    SimImeiLock.objects.create(sim=sim, locked_imei="356938035643809")
    ImeiMismatch.objects.create(
        sim=sim, product=product, event_id="e1", expected="356938035643809", seen="867530012345678",
        at=timezone.now() - timedelta(hours=2), action=ImeiMismatch.Action.SUSPENDED,
    )  # fmt: skip
    page = teammate_client.get(reverse("sim_detail", args=[product.slug, sim.iccid]))
    assert reverse("sim_imei_lock", args=[product.slug, sim.iccid]) in page.content.decode()
    text = text_of(teammate_client.get(reverse("sim_imei_lock", args=[product.slug, sim.iccid]), **HTMX))
    assert "Lock to the first IMEI seen (the product's)" in text
    assert "Locked to 356938035643809" in text
    assert "Last mismatch 867530012345678 seen, locked to 356938035643809" in text
    assert "2 hours ago . SIM suspended." in text
    assert "Change this SIM's lock" not in text


def test_an_admin_gives_a_sim_its_own_mode_and_a_swap_window(owner_client, product, sim):
    url = reverse("sim_imei_lock", args=[product.slug, sim.iccid])
    response = owner_client.post(url, {"mode": "fixed", "imei": "356938035643809"}, **HTMX)
    assert "Lock to one IMEI (this SIM's own)" in text_of(response)
    assert "The product's (off)" in text_of(response)
    assert (SimImeiLock.objects.get(sim=sim).mode, SimImeiLock.objects.get(sim=sim).imei) == (LockMode.FIXED, "356938035643809")
    assert owner_client.post(url, {"mode": "fixed"}, **HTMX).status_code == 400
    owner_client.post(reverse("sim_imei_lock_swap", args=[product.slug, sim.iccid]), **HTMX)
    assert SimImeiLock.objects.get(sim=sim).swap_until > timezone.now()
    # Back to the product's.
    owner_client.post(url, {"mode": ""}, **HTMX)
    assert SimImeiLock.objects.get(sim=sim).mode == ""


def test_forget_the_locked_imei(owner_client, product, sim):
    ImeiLock.objects.create(product=product, mode=LockMode.FIRST)
    SimImeiLock.objects.create(sim=sim, locked_imei="356938035643809")
    owner_client.post(reverse("sim_imei_lock_swap", args=[product.slug, sim.iccid]), {"forget": "1"})
    assert SimImeiLock.objects.get(sim=sim).locked_imei == ""


def test_a_sim_of_another_product_is_404(owner_client, product, other_product, make_sim):
    foreign = make_sim(other_product)
    assert owner_client.get(reverse("sim_imei_lock", args=[product.slug, foreign.iccid])).status_code == 404
    assert owner_client.post(reverse("sim_imei_lock_swap", args=[product.slug, foreign.iccid])).status_code == 404

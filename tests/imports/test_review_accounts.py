"""The review page says how the SIMs to import split across the product's carrier accounts, and lets
the person choose the account for ICCIDs no prefix routes."""

from django.urls import reverse

from carriers.models import CarrierAccount
from imports.importing import start_import, count_input
from imports.models import ImportJob
from sims.iccid import luhn_check_digit
from tests.conftest import text_of

HTMX = {"HX-Request": "true"}


def iccid(prefix: str, serial: int) -> str:
    body = f"{prefix}{serial:0{18 - len(prefix)}d}"
    return body + luhn_check_digit(body)


def draft(product, owner, iccids: list[str]) -> ImportJob:
    job = start_import(product=product, user=owner, typed_text="\n".join(iccids))
    count_input(job)
    return job


def review_url(product, job) -> str:
    return reverse("import_job", args=[product.slug, job.pk])


def two_accounts(product):
    us = CarrierAccount.objects.create(product=product, name="Twilio US", adapter="simulator", iccid_prefixes="890126")
    eu = CarrierAccount.objects.create(product=product, name="emnify EU", adapter="simulator", iccid_prefixes="8988")
    return us, eu


def test_the_review_shows_the_split_and_what_no_account_takes(owner_client, product, owner):
    two_accounts(product)
    elsewhere = iccid("8944500", 1)
    job = draft(product, owner, [iccid("890126", 1), iccid("890126", 2), iccid("8988303", 1), elsewhere])

    page = text_of(owner_client.get(review_url(product, job)))

    assert "Carrier accounts: 2 on Twilio US, 1 on emnify EU." in page
    assert "1 ICCID in no account's prefix range: refused." in page
    assert f"In no carrier account's range: refused 1 Show ICCIDs {elsewhere}" in page
    assert "No carrier account of this product takes ICCIDs starting 894450...: add the range to an account in Settings." in page
    assert "Activate 3 SIMs" in page
    assert "Carrier account for ICCIDs no prefix routes" in page and "As routed (refused)" in page


def test_choosing_an_account_for_unrouted_iccids_shows_the_new_split_and_the_import_uses_it(owner_client, product, owner):
    us, eu = two_accounts(product)
    elsewhere = iccid("8944500", 1)
    job = draft(product, owner, [iccid("890126", 1), elsewhere])

    response = owner_client.get(review_url(product, job), {"unrouted_account": eu.pk})
    split = text_of(response)
    assert "Carrier accounts: 1 on Twilio US, 1 on emnify EU." in split
    assert "1 ICCID in no account's prefix range: to emnify EU." in split
    assert "Activate 2 SIMs" in split
    # The confirm form carries the choice on.
    assert f'name="unrouted_account" value="{eu.pk}"' in response.content.decode()

    owner_client.post(reverse("import_confirm", args=[product.slug, job.pk]), {"country": "US", "unrouted_account": eu.pk})
    job.refresh_from_db()
    assert (job.status, job.unrouted_account) == (ImportJob.Status.QUEUED, eu)


def test_an_account_of_another_product_is_refused_as_the_choice(owner_client, product, other_product, owner):
    two_accounts(product)
    theirs = CarrierAccount.objects.create(product=other_product, name="Theirs", adapter="simulator")
    job = draft(product, owner, [iccid("890126", 1)])
    page = text_of(
        owner_client.post(reverse("import_confirm", args=[product.slug, job.pk]), {"country": "US", "unrouted_account": theirs.pk}, follow=True)
    )
    assert "Choose one of this product's carrier accounts for the ICCIDs no prefix routes" in page
    job.refresh_from_db()
    assert (job.status, job.unrouted_account) == (ImportJob.Status.DRAFT, None)


def test_a_product_without_carrier_accounts_shows_no_split_and_no_choice(owner_client, product, owner):
    job = draft(product, owner, [iccid("890126", 1)])
    page = text_of(owner_client.get(review_url(product, job)))
    assert "Carrier accounts:" not in page and "no prefix routes" not in page
    assert "Activate 1 SIM" in page


def test_a_typed_iccid_with_its_registration_code_keeps_the_code_through_the_queue(owner_client, product, owner):
    from imports.importing import job_codes

    typed = iccid("890126", 1)
    page = owner_client.post(reverse("import_check", args=[product.slug]), {"text": f"{typed},KX7P2Q"}, headers=HTMX)
    assert f'value="{typed},KX7P2Q"' in page.content.decode() and "(registration code KX7P2Q)" in text_of(page)
    owner_client.post(reverse("import_start", args=[product.slug]), {"iccid": [f"{typed},KX7P2Q"]})
    job = ImportJob.objects.get()
    assert (job.valid, job_codes(job)) == (1, {typed: "KX7P2Q"})


def test_where_an_account_asks_for_registration_codes_the_review_says_what_a_missing_one_means(owner_client, product, owner, monkeypatch):
    from carriers import adapters

    monkeypatch.setitem(adapters.ADAPTERS, "proof", "tests.imports.test_claims.ProofSimulator")
    adapters.adapter_class.cache_clear()
    CarrierAccount.objects.create(product=product, name="Twilio", adapter="proof")
    job = draft(product, owner, [f"{iccid('890126', 1)},KX7P2Q", iccid("890126", 2)])
    page = text_of(owner_client.get(review_url(product, job)))
    adapters.adapter_class.cache_clear()
    assert "A carrier account here asks for the registration code printed on each SIM." in page
    assert "A SIM the account does not hold already and that comes without its code is refused (1 came without one)." in page

"""Which carrier account of a product owns an imported ICCID: the longest prefix, else the catch-all."""

from carriers.models import CarrierAccount
from carriers.routing import route, router_for

US = "8901260000000000018"
US_TWILIO = "8901260880000000017"
EU = "8988303000000000014"
ELSEWHERE = "8944500000000000014"


def account(product, name, prefixes=""):
    return CarrierAccount.objects.create(product=product, name=name, adapter="simulator", iccid_prefixes=prefixes)


def test_a_product_without_accounts_uses_the_built_in_simulator(product):
    routes = route(product.pk, [US, EU])
    assert routes.by_account == {None: [US, EU]}
    assert routes.refused == {}


def test_the_longest_prefix_wins(product):
    broad = account(product, "A broad", "890126")
    narrow = account(product, "B narrow", "89012608, 8988")
    routes = route(product.pk, [US, US_TWILIO, EU])
    assert routes.by_account == {broad: [US], narrow: [US_TWILIO, EU]}


def test_an_iccid_no_prefix_takes_is_refused_with_the_range_to_add(product):
    account(product, "Twilio US", "890126")
    routes = route(product.pk, [US, EU])
    assert list(routes.refused) == [EU]
    assert routes.refused[EU] == (
        "No carrier account of this product takes ICCIDs starting 898830...: add the range to an account in Settings."
    )


def test_an_account_without_prefixes_takes_what_no_prefix_claims(product):
    twilio = account(product, "Twilio US", "890126")
    emnify = account(product, "emnify EU")
    routes = route(product.pk, [US, EU, ELSEWHERE])
    assert routes.by_account == {twilio: [US], emnify: [EU, ELSEWHERE]}
    assert routes.refused == {}


def test_the_account_chosen_for_unrouted_iccids_takes_them_instead(product):
    twilio = account(product, "Twilio US", "890126")
    account(product, "emnify EU")
    routes = route(product.pk, [US, EU], unrouted=twilio)
    assert routes.by_account == {twilio: [US, EU]}


def test_accounts_of_another_product_never_route(product, other_product):
    account(other_product, "Theirs", "8988")
    mine = account(product, "Mine", "890126")
    assert route(product.pk, [EU]).refused.keys() == {EU}
    assert router_for(product.pk).account_for(US) == (True, mine)

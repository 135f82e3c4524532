"""The Reconciliation page and Import from a carrier account: members read them, admins fix and import,
outsiders get 404."""

import pytest
from django.urls import reverse

from billing.models import Charge
from carriers.models import CarrierAccount, NetworkDifference, SimulatedSim
from carriers.reconciliation import reconcile
from imports.models import ImportJob
from sims.models import NetworkStatus, Sim, SimEvent, State
from tests.carriers.test_reconciliation import at_carrier
from tests.conftest import make_iccid, text_of


@pytest.fixture
def account(product):
    return CarrierAccount.objects.create(product=product, name="Simulated EU", adapter="simulator")


@pytest.fixture
def differing(product, account, make_sim):
    """Two SIMs active here and suspended at the carrier, one active here and missing there, and three
    at the carrier that the console does not have (active, suspended, paused)."""
    sims = [make_sim(product, State.ACTIVE, carrier_account=account) for _ in range(3)]
    for sim in sims[:2]:
        at_carrier(account, SimulatedSim.Status.SUSPENDED, sim.iccid)
    new = {status: at_carrier(account, status) for status in ("active", "suspended", "paused")}
    reconcile(account.pk)
    return sims, new


def page(client, product, account=None):
    url = reverse("carrier_reconciliation", args=[product.slug])
    return client.get(url + (f"?account={account.pk}" if account else ""))


def fix_url(product, account):
    return reverse("carrier_reconciliation_fix", args=[product.slug, account.pk])


def test_the_page_shows_each_difference_in_words(owner_client, product, account, differing):
    sims, _ = differing
    response = page(owner_client, product)

    assert response.status_code == 200
    text = text_of(response)
    assert sims[0].iccid in text and sims[2].iccid in text
    assert "not at the carrier" in text
    assert "3 SIMs at Simulated EU not in the console: import" in text
    assert text.count("Take theirs") == 2 and text.count("Push ours") == 4  # three rows, and "for all"
    assert "Take the carrier's state for all" in text


def test_an_admin_takes_the_carriers_state_for_one_row(owner_client, product, account, differing):
    sims, _ = differing
    difference = NetworkDifference.objects.get(iccid=sims[0].iccid)

    response = owner_client.post(fix_url(product, account), {"direction": "theirs", "difference": difference.pk}, follow=True)

    assert "1 SIM now as at Simulated EU." in text_of(response)
    sim = Sim.objects.get(pk=sims[0].pk)
    assert (sim.state, sim.network_status) == (State.SUSPENDED, NetworkStatus.SYNCED)
    assert Sim.objects.get(pk=sims[1].pk).state == State.ACTIVE
    assert "Reconciled with Simulated EU" in SimEvent.objects.get(sim=sim).reason


def test_an_admin_pushes_ours_for_all_differences(owner_client, product, account, differing):
    sims, _ = differing

    response = owner_client.post(fix_url(product, account), {"direction": "ours", "all": "on"}, follow=True)

    assert "3 SIMs pending: our state is on its way to Simulated EU" in text_of(response)
    assert set(Sim.objects.filter(pk__in=[s.pk for s in sims]).values_list("network_status", flat=True)) == {NetworkStatus.PENDING}
    assert "No difference" in text_of(page(owner_client, product))


def test_a_fix_without_a_direction_says_what_is_missing(owner_client, product, account, differing):
    response = owner_client.post(fix_url(product, account), {"all": "on"}, follow=True)
    assert "Choose a direction: take the carrier's state, or push ours." in text_of(response)
    response = owner_client.post(fix_url(product, account), {"direction": "ours"}, follow=True)
    assert "Say which difference to fix, or fix them all." in text_of(response)
    assert not Sim.objects.filter(network_status=NetworkStatus.PENDING).exists()


def test_a_member_reads_but_cannot_fix_check_or_import(teammate_client, product, account, differing):
    sims, _ = differing
    response = page(teammate_client, product)
    assert response.status_code == 200
    assert "Only product admins can fix differences" in text_of(response)
    assert "Take theirs" not in text_of(response)

    assert teammate_client.post(fix_url(product, account), {"direction": "theirs", "all": "on"}).status_code == 403
    check = reverse("carrier_reconciliation_check", args=[product.slug, account.pk])
    assert teammate_client.post(check).status_code == 403
    importing = reverse("carrier_import", args=[product.slug, account.pk])
    assert teammate_client.get(importing).status_code == 200
    assert teammate_client.post(importing, {"country": "DE"}).status_code == 403
    assert Sim.objects.get(pk=sims[0].pk).state == State.ACTIVE
    assert not ImportJob.objects.exists()


def test_an_outsider_gets_404_everywhere(outsider_client, product, account, differing):
    assert page(outsider_client, product).status_code == 404
    assert outsider_client.post(fix_url(product, account), {"direction": "theirs", "all": "on"}).status_code == 404
    importing = reverse("carrier_import", args=[product.slug, account.pk])
    assert outsider_client.get(importing).status_code == 404
    assert outsider_client.post(importing, {"country": "DE"}).status_code == 404


def test_another_products_account_is_not_found_here(owner_client, product, other_product, account):
    theirs = CarrierAccount.objects.create(product=other_product, name="Theirs", adapter="simulator")
    assert page(owner_client, product, theirs).status_code == 404
    assert owner_client.post(fix_url(product, theirs), {"direction": "ours", "all": "on"}).status_code == 404


def test_a_product_without_carrier_accounts_says_so(owner_client, product):
    response = page(owner_client, product)
    assert response.status_code == 200
    assert "no carrier account that can list its SIMs" in text_of(response)


def test_the_differences_are_paged(owner_client, product, account, make_sim):
    sims = [make_sim(product, State.ACTIVE, carrier_account=account, iccid=make_iccid()) for _ in range(55)]
    reconcile(account.pk)
    first = text_of(page(owner_client, product))
    assert sims[0].iccid in first and sims[54].iccid not in first
    url = reverse("carrier_reconciliation", args=[product.slug]) + f"?account={account.pk}&after={sims[49].iccid}"
    second = text_of(owner_client.get(url))
    assert sims[54].iccid in second and sims[49].iccid not in second


def test_importing_from_the_account_brings_the_sims_in_with_their_states_and_events(owner_client, owner, product, account, differing):
    _, new = differing
    url = reverse("carrier_import", args=[product.slug, account.pk])
    listing = text_of(owner_client.get(url))
    assert all(iccid in listing for iccid in new.values())
    assert "Import 3 SIMs" in listing

    response = owner_client.post(url, {"country": "DE"})

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("import_job", args=[product.slug, job.pk])
    assert (job.status, job.activated) == (ImportJob.Status.DONE, 3)
    imported = {sim.iccid: sim for sim in Sim.objects.filter(iccid__in=new.values())}
    assert {iccid: imported[iccid].state for iccid in new.values()} == {
        new["active"]: State.ACTIVE, new["suspended"]: State.SUSPENDED, new["paused"]: State.PAUSED,
    }  # fmt: skip
    for sim in imported.values():
        assert (sim.product, sim.carrier_account, sim.network_status, sim.home_country) == (product, account, NetworkStatus.SYNCED, "DE")
    events = list(SimEvent.objects.filter(sim=imported[new["suspended"]]).order_by("pk").values_list("action", "actor_name", "reason"))
    assert events[0][:2] == ("import", "owner") and events[1][:2] == ("deactivate", "owner")
    assert events[1][2] == f"Import #{job.pk} from Simulated EU: suspended at the carrier (Off the network) since 2026-12-07 14:02"
    # Billed as any import: the per-SIM plan's first month of the three.
    assert Charge.objects.get(product=product, kind=Charge.Kind.FIRST_MONTH).quantity == 3
    # Nothing went to the carrier, and there is nothing more to import.
    assert dict(SimulatedSim.objects.filter(iccid__in=new.values()).values_list("iccid", "status")) == {v: k for k, v in new.items()}
    assert "Nothing to import" in text_of(owner_client.get(url))
    assert not NetworkDifference.objects.filter(kind=NetworkDifference.Kind.NOT_HERE).exists()


def test_an_import_without_a_country_says_what_to_choose(owner_client, product, account, differing):
    response = owner_client.post(reverse("carrier_import", args=[product.slug, account.pk]), {"country": ""}, follow=True)
    assert "Choose the home country of these SIMs" in text_of(response)
    assert not ImportJob.objects.exists()


def test_a_check_on_demand_is_queued_for_the_worker(owner_client, product, account):
    from django_tasks_db.models import DBTaskResult

    from carriers.reconciliation import reconcile_account

    response = owner_client.post(reverse("carrier_reconciliation_check", args=[product.slug, account.pk]), follow=True)
    assert "A check of Simulated EU is queued" in text_of(response)
    assert DBTaskResult.objects.ready().filter(task_path=reconcile_account.module_path).count() == 1


def test_check_now_clicked_twice_queues_one_check(owner_client, product, account):
    """A check lists the whole account at the carrier (a call per 1,000 SIMs at Twilio): a double click,
    or a second admin's click while one waits, does not queue a second one."""
    from django_tasks_db.models import DBTaskResult

    from carriers.reconciliation import reconcile_account

    url = reverse("carrier_reconciliation_check", args=[product.slug, account.pk])
    owner_client.post(url)
    response = owner_client.post(url, follow=True)
    assert "A check of Simulated EU is queued already" in text_of(response)
    assert DBTaskResult.objects.ready().filter(task_path=reconcile_account.module_path).count() == 1

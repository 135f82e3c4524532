"""Only what the product's carrier accounts hold is imported, each SIM on the account that owns it."""

from typing import ClassVar

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from carriers import adapters
from carriers.adapters.base import Capability, CarrierUnavailable, Result
from carriers.adapters.simulator import SimulatorAdapter
from carriers.models import CarrierAccount
from imports.importing import confirm_import, count_input, import_iccids, outcome_rows, run_import, start_import
from imports.models import ImportJob
from sims.iccid import luhn_check_digit
from sims.models import NetworkStatus, Sim, SimEvent, State
from tests.conftest import make_iccid

NOT_HELD = "Refused: Not held by this product's carrier accounts: check the ICCID, or add the SIM to your carrier account first."


def iccid(prefix: str, serial: int) -> str:
    body = f"{prefix}{serial:0{18 - len(prefix)}d}"
    return body + luhn_check_digit(body)


def simulator_account(product, name, prefixes="", inventory=()):
    return CarrierAccount.objects.create(
        product=product, name=name, adapter="simulator", iccid_prefixes=prefixes, settings={"inventory_prefixes": list(inventory)}
    )


def outcomes(job) -> dict[str, tuple[str, str]]:
    return {row[3]: (row[4], row[5]) for row in list(outcome_rows(job))[1:] if row[3]}


def test_an_import_splits_across_two_accounts_by_prefix_each_sim_on_its_own(product, owner, make_sim):
    us = simulator_account(product, "Twilio US", "890126", inventory=["890126"])
    eu = simulator_account(product, "emnify EU", "8988", inventory=["8988"])
    on_us = [iccid("890126", n) for n in range(3)]
    on_eu = [iccid("8988303", n) for n in range(2)]
    waiting = make_sim(None, state=State.ISSUED, iccid=iccid("8988303", 99))

    job = import_iccids(product=product, user=owner, data="\n".join(on_us + on_eu + [waiting.iccid]), country="US")

    assert (job.status, job.activated, job.carrier_refused) == ("done", 6, 0)
    accounts = dict(Sim.objects.values_list("iccid", "carrier_account"))
    assert {i: accounts[i] for i in on_us} == dict.fromkeys(on_us, us.pk)
    assert {i: accounts[i] for i in [*on_eu, waiting.iccid]} == dict.fromkeys([*on_eu, waiting.iccid], eu.pk)
    assert set(Sim.objects.values_list("network_status", flat=True)) == {NetworkStatus.PENDING}
    assert SimEvent.objects.count() == 6


def test_an_iccid_outside_the_accounts_inventory_is_refused_with_the_same_words_as_anothers_sim(
    product, other_product, owner, make_sim
):
    simulator_account(product, "Simulated US", inventory=["890126"])
    held = iccid("890126", 1)
    nobodys = iccid("8944500", 1)
    theirs = make_sim(other_product, iccid=iccid("890126", 2))
    theirs_terminated = make_sim(other_product, state=State.TERMINATED, iccid=iccid("890126", 3))

    job = import_iccids(product=product, user=owner, data="\n".join([held, nobodys, theirs.iccid, theirs_terminated.iccid]), country="US")

    got = outcomes(job)
    assert got[held] == ("activated", "Activated")
    assert got[nobodys] == got[theirs.iccid] == got[theirs_terminated.iccid] == ("carrier_refused", NOT_HELD)
    assert (job.activated, job.carrier_refused, job.other_owner, job.terminated) == (1, 3, 0, 0)
    assert not Sim.objects.filter(iccid=nobodys).exists()
    assert Sim.objects.get(iccid=theirs.iccid).product == other_product


def test_an_iccid_no_account_takes_is_refused_with_the_range_to_add(product, owner):
    simulator_account(product, "Twilio US", "890126")
    elsewhere = iccid("898830", 1)
    job = import_iccids(product=product, user=owner, data=elsewhere, country="US")
    assert outcomes(job)[elsewhere] == (
        "carrier_refused",
        "No carrier account of this product takes ICCIDs starting 898830...: add the range to an account in Settings.",
    )


def test_the_account_chosen_for_unrouted_iccids_takes_them(product, owner):
    simulator_account(product, "Twilio US", "890126")
    chosen = simulator_account(product, "emnify EU", "8988")
    elsewhere = iccid("8944500", 1)
    job = start_import(product=product, user=owner, typed_text=elsewhere)
    job.unrouted_account = chosen
    job.save()
    count_input(job)
    confirm_import(job=job, country="US", enqueue=False)
    assert run_import(job_id=job.pk).activated == 1
    assert Sim.objects.get(iccid=elsewhere).carrier_account == chosen


def test_a_carrier_unavailable_during_the_check_fails_the_job_with_nothing_imported_and_it_resumes(
    product, owner, monkeypatch, settings
):
    settings.IMPORT_BATCH_SIZE = 2
    account = simulator_account(product, "Flaky")
    iccids = [make_iccid() for _ in range(5)]
    job = start_import(product=product, user=owner, typed_text="\n".join(iccids))
    count_input(job)
    confirm_import(job=job, country="US", enqueue=False)
    real_holds = SimulatorAdapter.holds
    calls = []

    def down_on_the_second_batch(self, batch):
        calls.append(batch)
        if len(calls) == 2:
            raise CarrierUnavailable("timed out after 10 s")
        return real_holds(self, batch)

    monkeypatch.setattr(SimulatorAdapter, "holds", down_on_the_second_batch)
    with pytest.raises(CarrierUnavailable):
        run_import(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.batches_done, job.activated) == (ImportJob.Status.FAILED, 1, 2)
    assert "the carrier could not be asked which SIMs it holds" in job.error and "timed out after 10 s" in job.error
    assert set(Sim.objects.values_list("iccid", flat=True)) == set(sorted(iccids)[:2])  # nothing of the second batch
    account.refresh_from_db()
    assert "timed out" in account.last_failure

    done = run_import(job_id=job.pk)  # what resume_imports does
    assert (done.status, done.activated) == (ImportJob.Status.DONE, 5)
    assert Sim.objects.filter(carrier_account=account).count() == 5


def _run(product, owner, serials: range) -> ImportJob:
    data = "\n".join([iccid("890126", n) for n in serials] + [iccid("8988303", n) for n in serials])
    job = start_import(product=product, user=owner, data=data.encode())
    count_input(job)
    confirm_import(job=job, country="US", enqueue=False)
    return job


def test_the_queries_of_an_import_batch_do_not_grow_with_its_sims(product, owner, django_assert_max_num_queries):
    simulator_account(product, "Twilio US", "890126")
    simulator_account(product, "emnify EU", "8988")
    few = _run(product, owner, range(3))
    with CaptureQueriesContext(connection) as captured:
        assert run_import(job_id=few.pk).activated == 6
    many = _run(product, owner, range(1000, 1300))
    with django_assert_max_num_queries(len(captured.captured_queries)):
        assert run_import(job_id=many.pk).activated == 600


class ProofSimulator(SimulatorAdapter):
    """A simulator that holds nothing of its own and takes SIMs registered with the code "OK" + ICCID's last 4 digits."""

    capabilities: ClassVar[frozenset[Capability]] = SimulatorAdapter.capabilities | {Capability.CLAIM_WITH_PROOF}
    registered: ClassVar[list[tuple[str, str]]] = []

    def holds(self, iccids):
        return set()

    def register(self, iccid, proof):
        self.registered.append((iccid, proof))
        return Result(iccid, proof == f"OK{iccid[-4:]}", "Wrong registration code.")


def test_where_the_carrier_asks_for_proof_iccid_code_lines_register_the_sims(product, owner, monkeypatch):
    monkeypatch.setitem(adapters.ADAPTERS, "proof", f"{__name__}.ProofSimulator")
    adapters.adapter_class.cache_clear()
    CarrierAccount.objects.create(product=product, name="Twilio", adapter="proof")
    good, wrong, none = iccid("890126", 1), iccid("890126", 2), iccid("890126", 3)
    typed = f"{good},OK{good[-4:]}\n{wrong}, NOPE1"
    job = start_import(product=product, user=owner, typed_text=typed, data=f"{none}\n".encode())
    count_input(job)
    confirm_import(job=job, country="US", enqueue=False)

    done = run_import(job_id=job.pk)

    assert (done.valid, done.activated, done.carrier_refused) == (3, 1, 2)
    assert sorted(ProofSimulator.registered) == [(good, f"OK{good[-4:]}"), (wrong, "NOPE1")]
    got = outcomes(done)
    assert "the carrier did not accept the registration code given" in got[wrong][1]
    assert "give the registration code printed on the SIM after its ICCID (ICCID,CODE)" in got[none][1]
    adapters.adapter_class.cache_clear()


# --- Another's SIM and one nobody holds: told apart nowhere (issue 16: "says nothing about who holds the SIM")


def _verdict_words(text: str, iccid: str) -> str:
    """What a page says right after an ICCID (its queue item's verdict)."""
    return text.split(iccid, 2)[-1].strip().split(" Remove")[0]


def test_the_queue_says_the_same_of_anothers_sim_and_of_one_nobody_holds(owner_client, product, other_product, make_sim):
    from tests.conftest import text_of

    theirs = make_sim(other_product, iccid=iccid("890126", 2))
    nobodys = iccid("890126", 3)
    page = text_of(owner_client.post(f"/products/{product.slug}/import/check/", {"text": f"{theirs.iccid}\n{nobodys}"}, headers={"HX-Request": "true"}))
    assert _verdict_words(page, theirs.iccid) == _verdict_words(page, nobodys) == "Ready to activate"


def test_the_review_counts_anothers_sim_as_it_counts_one_nobody_holds(owner_client, product, other_product, owner, make_sim):
    from tests.conftest import text_of

    simulator_account(product, "Twilio US", "890126")
    theirs, nobodys = make_sim(other_product, iccid=iccid("890126", 2)), iccid("890126", 3)
    theirs_elsewhere, nobodys_elsewhere = make_sim(other_product, iccid=iccid("898830", 2)), iccid("898830", 3)
    job = start_import(product=product, user=owner, typed_text="\n".join([theirs.iccid, nobodys, theirs_elsewhere.iccid, nobodys_elsewhere]))
    count_input(job)

    page = text_of(owner_client.get(f"/products/{product.slug}/import/{job.pk}/"))

    assert "Not held by this product's carrier accounts: refused 0 " in page
    assert f"New SIMs to activate 2 Show ICCIDs {theirs.iccid} {nobodys}" in page
    assert f"In no carrier account's range: refused 2 Show ICCIDs {theirs_elsewhere.iccid} {nobodys_elsewhere}" in page


def test_the_outcome_of_anothers_sim_is_word_for_word_that_of_one_nobody_holds(product, other_product, owner, make_sim, monkeypatch):
    monkeypatch.setitem(adapters.ADAPTERS, "proof", f"{__name__}.ProofSimulator")
    adapters.adapter_class.cache_clear()
    CarrierAccount.objects.create(product=product, name="Twilio", adapter="proof", iccid_prefixes="890126")
    pairs = {
        "no code": (make_sim(other_product, iccid=iccid("890126", 2)).iccid, iccid("890126", 3)),
        "wrong code": (make_sim(other_product, iccid=iccid("890126", 4)).iccid, iccid("890126", 5)),
        "no route": (make_sim(other_product, iccid=iccid("898830", 2)).iccid, iccid("898830", 3)),
    }
    lines = [pairs["no code"][0], pairs["no code"][1], *(f"{i},NOPE1" for i in pairs["wrong code"]), *pairs["no route"]]
    job = import_iccids(product=product, user=owner, data="\n".join(lines), country="US")

    got = outcomes(job)
    for case, (theirs, nobodys) in pairs.items():
        assert got[theirs] == got[nobodys], case
        assert got[theirs][0] == "carrier_refused"
    assert Sim.objects.get(iccid=pairs["no code"][0]).product == other_product
    adapters.adapter_class.cache_clear()

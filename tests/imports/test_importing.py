import re
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import Charge
from carriers.adapters.simulator import SimulatorAdapter
from billing.pricing import quote
from imports import importing
from imports.importing import (
    CannotConfirm,
    confirm_import,
    import_iccids,
    importable,
    outcome_rows,
    run_import,
    start_import,
)
from imports.models import ImportJob
from imports.sql import find_sims
from lib.bulk_insert import bulk_insert, db_datetime
from products.models import Product
from sims.lifecycle import ALLOWED_STATE_CHANGES
from sims.models import Sim, SimEvent, State
from tests.conftest import make_iccid, make_user


def lines(*iccids: str) -> str:
    return "\n".join(iccids)


def outcomes_by_iccid(job: ImportJob) -> dict[str, str]:
    """Each ICCID's outcome, from the first line that names it (later ones are duplicates)."""
    found: dict[str, str] = {}
    for row in list(outcome_rows(job))[1:]:
        if row[3]:
            found.setdefault(row[3], row[4])
    return found


def test_new_sims_become_active_in_the_product_with_an_event_and_a_first_month_charge(product, owner):
    new = [make_iccid() for _ in range(3)]
    job = import_iccids(product=product, user=owner, data=lines(*new), country="DE")
    assert (job.status, job.activated) == ("done", 3)
    for sim in Sim.objects.filter(iccid__in=new):
        assert (sim.product, sim.state, sim.home_country.code, sim.data_limit_mb) == (product, State.ACTIVE, "DE", 5)
        assert (sim.activations_count, sim.first_activated_at is not None) == (1, True)
        event = sim.events.get()
        assert (event.action, event.from_state, event.to_state, event.actor_user) == ("import", "issued", "active", owner)
    charge = Charge.objects.get(product=product)
    unit = quote(country="DE", sims=1, today=charge.created_at.date()).unit_first_month
    assert (charge.kind, charge.quantity, charge.unit_price, charge.amount) == ("first_month", 3, unit, (unit * 3).quantize(Decimal("0.01")))


def test_the_products_default_data_limit_is_given_to_imported_sims(product, owner):
    product.default_data_limit_mb = 40
    product.save()
    iccid = make_iccid()
    import_iccids(product=product, user=owner, data=iccid, country="US")
    assert Sim.objects.get(iccid=iccid).data_limit_mb == 40


def test_every_outcome_of_the_review_list(product, other_product, owner, make_sim, settings):
    stranger = make_user("stranger")
    mine = make_sim(None, state=State.SUSPENDED, owner_user=owner, promotion_ends_on="2027-01-01")
    inventory = make_sim(None, state=State.ISSUED)
    already = make_sim(product)
    theirs = make_sim(other_product)
    strangers = make_sim(None, owner_user=stranger)
    dead = make_sim(None, state=State.TERMINATED)
    refused = make_iccid()
    settings.CARRIER_SIMULATOR_REFUSE_SUFFIXES = [refused]
    new = make_iccid()
    text = lines(new, mine.iccid, inventory.iccid, already.iccid, theirs.iccid, strangers.iccid, dead.iccid, refused, "89012600000000000X", new)

    job = import_iccids(product=product, user=owner, data=text, country="FR")

    got = outcomes_by_iccid(job)
    assert got[new] == "activated" and got[inventory.iccid] == "activated"
    assert got[mine.iccid] == "transferred"
    assert got[already.iccid] == "already_in_product"
    # Another's SIM and one the carrier does not hold: the same outcome, the same words.
    assert got[theirs.iccid] == got[strangers.iccid] == got[refused] == "carrier_refused"
    assert got[dead.iccid] == "terminated"
    assert (job.activated, job.transferred, job.already_in_product, job.other_owner, job.terminated, job.carrier_refused) == (2, 1, 1, 0, 1, 3)
    assert (job.invalid, job.duplicates) == (1, 1)
    mine.refresh_from_db()
    assert (mine.product, mine.owner_user, mine.state, mine.promotion_ends_on) == (product, None, State.ACTIVE, None)
    theirs.refresh_from_db()
    strangers.refresh_from_db()
    assert theirs.product == other_product and strangers.owner_user == stranger
    assert not Sim.objects.filter(iccid=refused).exists()
    rows = list(outcome_rows(job))
    reasons = {row[3]: row[5] for row in rows}
    assert reasons[refused] == reasons[theirs.iccid] == reasons[strangers.iccid] == (
        "Refused: Not held by this product's carrier accounts: check the ICCID, or add the SIM to your carrier account first."
    )
    assert any(row[4] == "invalid" and "has 17 digits" in row[5] for row in rows)
    assert Charge.objects.get(product=product).quantity == 3


def test_batches_are_cut_in_iccid_order_and_the_csv_keeps_the_input_order(product, owner, make_sim, settings):
    settings.IMPORT_BATCH_SIZE = 3
    iccids = [make_iccid() for _ in range(8)]
    already = make_sim(product, iccid=iccids[5])
    shuffled = [iccids[i] for i in (6, 0, 5, 3, 7, 1, 4, 2)]

    job = import_iccids(product=product, user=owner, data=lines(*shuffled), country="US")

    assert [batch.outcomes for batch in job.batches.order_by("number")] == ["AAA", "AAS", "AA"]
    rows = list(outcome_rows(job))[1:]
    assert [row[3] for row in rows] == shuffled
    assert [row[4] for row in rows] == ["activated", "activated", "already_in_product"] + ["activated"] * 5
    assert Sim.objects.get(iccid=already.iccid).events.count() == 0
    events = SimEvent.objects.filter(product=product).select_related("sim")
    assert sorted(event.sim.iccid for event in events) == sorted(set(iccids) - {already.iccid})


def test_a_job_cut_in_input_order_before_the_upgrade_resumes_and_reports_in_input_order(product, owner, make_sim):
    iccids = [make_iccid() for _ in range(6)][::-1]  # input order is not ICCID order
    make_sim(product, iccid=iccids[0])
    job = ImportJob.objects.create(product=product, created_by=owner, typed_text=lines(*iccids), batches_in_iccid_order=False)
    importing.count_input(job)
    confirm_import(job=job, country="US", enqueue=False)
    ImportJob.objects.filter(pk=job.pk).update(batch_size=4)

    done = run_import(job_id=job.pk)

    assert [batch.outcomes for batch in done.batches.order_by("number")] == ["SAAA", "AA"]
    assert [row[4] for row in list(outcome_rows(done))[1:]] == ["already_in_product"] + ["activated"] * 5


def test_sims_already_known_are_activated_a_chunk_at_a_time(product, owner, make_sim, monkeypatch):
    monkeypatch.setattr(importing, "EXISTING_CHUNK", 2)
    inventory = [make_sim(None, state=State.ISSUED) for _ in range(3)]
    mine = [make_sim(None, state=State.SUSPENDED, owner_user=owner) for _ in range(3)]
    job = import_iccids(product=product, user=owner, data=lines(*(sim.iccid for sim in inventory + mine)), country="US")
    assert (job.activated, job.transferred) == (3, 3)
    assert Sim.objects.filter(product=product, state=State.ACTIVE).count() == SimEvent.objects.count() == 6


def test_sims_another_import_inserts_while_the_carrier_answers_are_left_to_it(product, other_product, owner, monkeypatch):
    ours, theirs, here = make_iccid(), make_iccid(), make_iccid()
    real_holds = SimulatorAdapter.holds

    def another_import_meanwhile(self, iccids):
        Sim.objects.create(iccid=theirs, product=other_product, state=State.ACTIVE)
        Sim.objects.create(iccid=here, product=product, state=State.ACTIVE)
        return real_holds(self, iccids)

    monkeypatch.setattr(SimulatorAdapter, "holds", another_import_meanwhile)
    job = import_iccids(product=product, user=owner, data=lines(ours, theirs, here), country="US")

    assert outcomes_by_iccid(job) == {ours: "activated", theirs: "carrier_refused", here: "already_in_product"}
    assert (job.activated, job.carrier_refused, job.already_in_product) == (1, 1, 1)
    assert Sim.objects.get(iccid=theirs).product == other_product
    assert list(SimEvent.objects.values_list("sim__iccid", flat=True)) == [ours]
    assert Charge.objects.get().quantity == 1


@pytest.mark.parametrize("others_in_range", [2, 8])
def test_sims_between_a_batchs_iccids_are_told_apart_from_the_batchs_own(product, owner, make_sim, others_in_range):
    iccids = [make_iccid() for _ in range(others_in_range + 2)]
    first, *between, last = iccids
    for iccid in between:
        make_sim(product, iccid=iccid)
    # Three ICCIDs whose range holds 2 SIMs (read from the range) or 8, more than twice the batch (one by one).
    job = import_iccids(product=product, user=owner, data=lines(first, between[1], last), country="US")
    assert outcomes_by_iccid(job) == {first: "activated", between[1]: "already_in_product", last: "activated"}


def test_the_same_file_twice_creates_no_second_sim_event_or_charge(product, owner):
    text = lines(*(make_iccid() for _ in range(5)))
    import_iccids(product=product, user=owner, data=text, country="US")
    again = import_iccids(product=product, user=owner, data=text, country="US")
    assert (again.activated, again.already_in_product) == (0, 5)
    assert Sim.objects.filter(product=product).count() == 5
    assert SimEvent.objects.count() == 5
    assert Charge.objects.count() == 1


def test_confirming_twice_queues_once(product, owner):
    job = ImportJob.objects.create(product=product, created_by=owner, typed_text=make_iccid(), valid=1)
    confirm_import(job=job, country="US", enqueue=False)
    with pytest.raises(CannotConfirm, match="already confirmed"):
        confirm_import(job=job, country="US", enqueue=False)


def test_a_worker_dying_mid_job_leaves_nothing_half_done_and_a_rerun_finishes_it(product, owner, monkeypatch, settings):
    settings.IMPORT_BATCH_SIZE = 4
    iccids = [make_iccid() for _ in range(10)]
    job = ImportJob.objects.create(product=product, created_by=owner, typed_text=lines(*iccids))
    importing.count_input(job)
    confirm_import(job=job, country="US", enqueue=False)

    calls = {"n": 0}
    real_holds = SimulatorAdapter.holds

    def dies_on_the_second_batch(self, batch):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("worker lost its connection")
        return real_holds(self, batch)

    monkeypatch.setattr(SimulatorAdapter, "holds", dies_on_the_second_batch)
    with pytest.raises(ConnectionError):
        run_import(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.batches_done, job.processed, job.activated) == ("failed", 1, 4, 4)
    assert Sim.objects.count() == SimEvent.objects.count() == 4
    assert Charge.objects.get().quantity == 4

    finished = run_import(job_id=job.pk)
    assert (finished.status, finished.activated, finished.processed) == ("done", 10, 10)
    assert set(Sim.objects.values_list("iccid", flat=True)) == set(iccids)
    assert SimEvent.objects.count() == 10
    assert sorted(Charge.objects.values_list("quantity", flat=True)) == [2, 4, 4]
    assert run_import(job_id=job.pk).activated == 10  # running a finished job again does nothing


def test_import_sims_command_prints_a_summary_and_fails_only_when_nothing_is_imported(product, owner, tmp_path, capsys):
    file = tmp_path / "sims.txt"
    file.write_text(lines(make_iccid(), make_iccid(), "junk", "8901"))
    call_command("import_sims", str(file), product=product.slug, country="de")
    out = capsys.readouterr().out
    assert "4 lines: 2 activated" in out and "1 invalid" in out and "1 ignored" in out
    file.write_text("nothing useful\n")
    with pytest.raises(CommandError, match="Nothing could be imported"):
        call_command("import_sims", str(file), product=product.slug, country="DE")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ({"product": "nope", "country": "DE"}, "No product"),
        ({"product": "acme", "country": "XX"}, "ISO 3166-1 alpha-2"),
    ],
)
def test_import_sims_command_explains_bad_arguments(product, owner, tmp_path, args, says):
    file = tmp_path / "sims.txt"
    file.write_text(make_iccid())
    with pytest.raises(CommandError, match=says):
        call_command("import_sims", str(file), **args)


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_overlapping_files_at_once_never_give_a_sim_two_owners(settings, prices):
    settings.IMPORT_BATCH_SIZE = 7
    first, second = Product.objects.create(name="A", slug="a"), Product.objects.create(name="B", slug="b")
    user = make_user("importer")
    shared = [make_iccid() for _ in range(60)]
    jobs = []
    for product, own in ((first, [make_iccid() for _ in range(10)]), (second, [make_iccid() for _ in range(10)])):
        job = ImportJob.objects.create(product=product, created_by=user, typed_text=lines(*(own + shared)))
        importing.count_input(job)
        confirm_import(job=job, country="US", enqueue=False)
        jobs.append(job)
    errors = []

    def run(job_id: int) -> None:
        try:
            run_import(job_id=job_id)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job.pk,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    done = [ImportJob.objects.get(pk=job.pk) for job in jobs]
    assert sum(job.activated for job in done) == 80  # each shared SIM went to exactly one product
    assert sum(job.carrier_refused for job in done) == 60
    assert Sim.objects.count() == 80 and SimEvent.objects.count() == 80
    assert sum(Charge.objects.values_list("quantity", flat=True)) == 80
    for sim in Sim.objects.all():
        event = sim.events.get()
        assert event.product_id == sim.product_id and (event.from_state, event.to_state) in ALLOWED_STATE_CHANGES


def _analyzed_by(job_of) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        job_of()
    return [query["sql"] for query in captured.captured_queries if query["sql"].startswith("ANALYZE")]


analyzed_on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's planner uses no statistics until ANALYZE is run by hand (its bulk action took 1.0-1.2 s after a "
    "million-SIM import); PostgreSQL's plans went wrong without them",
)


@analyzed_on_postgresql
def test_an_import_that_grows_the_sim_table_by_more_than_a_tenth_refreshes_its_statistics(product, owner):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sims_sim, sims_simevent")  # the planner knows the tables as empty
    new = lines(*(make_iccid() for _ in range(60)))

    analyzed = _analyzed_by(lambda: import_iccids(product=product, user=owner, data=new, country="DE"))

    assert analyzed == ['ANALYZE "sims_sim", "sims_simevent"']


@analyzed_on_postgresql
def test_an_import_that_grows_the_sim_table_by_less_than_a_tenth_leaves_its_statistics_to_autovacuum(product, owner):
    now = db_datetime(timezone.now())
    fields = ["iccid", "product", "state", "state_changed_at", "home_country", "activations_count", "deactivations_count", "created_at"]
    bulk_insert(Sim, fields, [(make_iccid(), product.pk, "active", now, "US", 1, 0, now) for _ in range(1_000)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sims_sim, sims_simevent")
    # Autovacuum's rule: more than 50 rows and a tenth of the table (150 here) changed.
    some = lines(*(make_iccid() for _ in range(140)))

    analyzed = _analyzed_by(lambda: import_iccids(product=product, user=owner, data=some, country="DE"))

    assert analyzed == ['ANALYZE "sims_simevent"']  # the SIMs came without events: that table grew from nothing


def test_importable_says_what_importing_each_sim_would_do_into_a_product_and_into_ones_own_account(
    product, other_product, owner, teammate, make_sim
):
    sims = {
        "new to the console": make_iccid(),
        "in inventory": make_sim(None).iccid,
        "in this product": make_sim(product).iccid,
        "in another product": make_sim(other_product).iccid,
        "mine": make_sim(None, owner_user=owner).iccid,
        "a teammate's": make_sim(None, owner_user=teammate).iccid,
        "terminated": make_sim(None, state=State.TERMINATED).iccid,
    }
    rows = find_sims(list(sims.values()), lock=False)
    into_product = {name: importable(rows.get(iccid), product_id=product.pk, user_id=owner.pk) for name, iccid in sims.items()}
    into_my_account = {name: importable(rows.get(iccid), product_id=None, user_id=owner.pk) for name, iccid in sims.items()}
    # Another's SIM is refused as one no carrier account holds (CARRIER_REFUSED): the same words.
    N, A, T, C, X = importing.NEW, importing.ALREADY, importing.TRANSFERRED, importing.CARRIER_REFUSED, importing.TERMINATED
    assert list(into_product.values()) == [N, N, A, C, T, C, X]
    assert list(into_my_account.values()) == [N, N, C, C, A, C, X]


def test_start_import_holds_the_typed_iccids_the_file_and_the_token_it_came_with(product, owner):
    job = start_import(product=product, user=owner, typed_text="8949", data=b"8950\n", source_name="x" * 300, token_name="ci")
    job.refresh_from_db()
    assert (job.status, job.product, job.created_by, job.typed_text) == (ImportJob.Status.DRAFT, product, owner, "8949")
    assert (job.input_filename, job.token_name, job.input_file.read()) == ("x" * 200, "ci", b"8950\n")


def test_only_start_import_creates_an_import_job():
    """The console's pages, My SIMs, the API and the import_sims command all start an import with
    `start_import`: a second way to create a job would skip what it does."""
    root = Path(__file__).resolve().parents[2]
    creating = re.compile(r"(?<!class )\bImportJob(\.objects\.(create|bulk_create|get_or_create)\(|\()")
    found = [
        f"{path.relative_to(root)}:{number}"
        for app in ("api", "console", "imports", "products", "sims")
        for path in (root / app).rglob("*.py")
        if "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if creating.search(line)
    ]
    assert [place.split(":")[0] for place in found] == ["imports/importing.py"], found


def test_a_second_runner_reaching_the_end_of_a_job_already_done_changes_and_announces_nothing(product, owner):
    """resume_imports may queue a job again while its long batch still runs: both runners reach the end."""
    from sims.models import DomainEvent

    job = import_iccids(product=product, user=owner, data=lines(make_iccid(), make_iccid()), country="DE")
    finished = DomainEvent.objects.filter(kind=DomainEvent.Kind.IMPORT_FINISHED)
    assert (job.status, finished.count()) == (ImportJob.Status.DONE, 1)

    importing._finish(job, status=ImportJob.Status.FAILED, error="OperationalError: database is locked")

    job.refresh_from_db()
    assert (job.status, job.error, finished.count()) == (ImportJob.Status.DONE, "", 1)

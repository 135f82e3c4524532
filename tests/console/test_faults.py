"""Faults, on PostgreSQL: a worker killed (SIGKILL) in the middle of an import, a usage ingestion and
a period close leaves nothing half-done, and a new worker (or the command run again) finishes the job
with the same database as an undisturbed run on the same input; the database going away during
requests gives a clear 503, and the console recovers by itself.

Where each kill lands: a transaction of the test holds an uncommitted row that the job must insert
next (a SIM of the third import batch, the first usage record of the second chunk) or a lock on a row
the job must update next (the product whose invoice switches its pricing model). The job's statement
waits on it, inside the job's own transaction, with earlier batches, chunks or invoices committed; the
test sees it waiting in pg_locks, kills the process, and only then rolls its own transaction back.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import psycopg
import pytest
import requests
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from api.models import Scope
from api.tokens import create_token
from billing.billing import Period
from billing.default_prices import fill_default_prices
from billing.models import Charge, Invoice, InvoiceLine, RateZone, ZoneCountry, ZonePrice
from billing.tasks import close_billing_period_task
from imports.importing import confirm_import, count_input, job_iccids
from imports.models import ImportBatch, ImportJob
from products.models import Membership, PricingModel, Product
from sims.events import STRAGGLER_AGE, publish_stragglers
from sims.lifecycle import Action, Actor, apply_action
from sims.models import (
    DomainEvent,
    ProductDailyUsage,
    Sim,
    SimDailyUsage,
    SimEvent,
    SimPeriodUsage,
    State,
    UsageRecord,
)
from sims.state_counts import sims_in_states
from sims.usage import CHUNK_SIZE
from tests.conftest import ROOT, make_iccid, make_user, test_database_url
from tests.webhooks.test_webhooks import Receiver
from webhooks.models import WebhookDelivery
from webhooks.receivers import add_webhook

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: real worker processes on one server database, row locks to time the kill, "
        "server connections to cut",
    ),
]


def wait_for(condition, timeout: float = 90, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def start_over() -> None:
    """An empty database with the default prices and ids from 1 again (invoice numbers hold the account's
    id): the same start for each run on the same input."""
    call_command("flush", interactive=False, verbosity=0)
    fill_default_prices(RateZone, ZoneCountry, ZonePrice)


def database_state() -> dict[str, object]:
    """Everything the jobs write, without ids, clocks or texts that name an id: equal between runs on the same input."""
    return {
        "products": sorted(
            Product.objects.values_list(
                "slug", "pricing_model", "plan_zone__code", "pending_pricing_model", "pending_plan_zone__code", "pending_from"
            )
        ),
        "sims": sorted(
            Sim.objects.values_list(
                "iccid", "product__slug", "owner_user__username", "state", "home_country", "data_limit_mb",
                "activations_count", "deactivations_count", "import_batch__number",
            )  # fmt: skip
        ),
        "events per sim and action": sorted(
            Counter(
                SimEvent.objects.values_list("sim__iccid", "product__slug", "action", "from_state", "to_state", "actor_kind", "actor_name")
            ).items()
        ),
        "sims per product and state": sorted(
            (slug, state, sims_in_states(product_id=pk, states=[state]))
            for pk, slug in Product.objects.values_list("pk", "slug")
            for state in State.values
        ),
        "charges": sorted(
            Charge.objects.values_list(
                "product__slug", "user__username", "kind", "zone__code", "quantity", "unit_price", "amount", "period_start",
                "import_batch__number", "invoice__number",
            )  # fmt: skip
        ),
        "import jobs": sorted(
            ImportJob.objects.values_list(
                "product__slug", "status", "lines", "valid", "processed", "batches_done", "activated", "transferred",
                "already_in_product", "other_owner", "terminated", "carrier_refused", "error",
            )  # fmt: skip
        ),
        "import batches": sorted(ImportBatch.objects.values_list("job__product__slug", "number", "outcomes", "carrier_refusals")),
        "usage records": sorted(
            UsageRecord.objects.values_list(
                "record_id", "sim__iccid", "product__slug", "started_at", "ended_at", "bytes_up", "bytes_down", "sms", "country"
            )
        ),
        "sim daily usage": sorted(SimDailyUsage.objects.values_list("sim__iccid", "product__slug", "day", "bytes", "sms")),
        "sim period usage": sorted(SimPeriodUsage.objects.values_list("sim__iccid", "period", "bytes", "sms")),
        "product daily usage": sorted(
            ProductDailyUsage.objects.values_list("product__slug", "day", "country", "bytes", "sms", "records", "newest_record_at")
        ),
        "invoices": sorted(
            Invoice.objects.values_list("number", "product__slug", "user__username", "period_start", "pricing_model", "peak_sims", "total")
        ),
        "invoice lines": sorted(
            InvoiceLine.objects.values_list(
                "invoice__number", "position", "kind", "zone__code", "description", "quantity", "unit", "unit_price", "amount"
            )
        ),
    }


def differences(got: dict, expected: dict) -> dict[str, tuple]:
    return {key: (got[key], expected[key]) for key in expected if got[key] != expected[key]}


class HeldRow:
    """The test's own open transaction, on its own connection, holding a row the job needs next."""

    def __init__(self) -> None:
        self.connection = psycopg.connect(test_database_url())  # not autocommit: the first statement opens a transaction

    def insert(self, instance) -> "HeldRow":
        """Insert `instance` uncommitted: a job inserting the same unique key waits for this transaction."""
        fields = [f for f in type(instance)._meta.concrete_fields if not f.primary_key]
        values = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
        columns = ", ".join(f'"{f.column}"' for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        self.connection.execute(f'INSERT INTO "{instance._meta.db_table}" ({columns}) VALUES ({marks})', values)
        return self

    def lock_for_update(self, instance) -> "HeldRow":
        """Lock `instance`'s row as an UPDATE would (inserts referring to it still go through)."""
        self.connection.execute(f'SELECT 1 FROM "{instance._meta.db_table}" WHERE id = %s FOR NO KEY UPDATE', [instance.pk])
        return self

    def lock_for_delete(self, instance) -> "HeldRow":
        """Lock `instance`'s row as a DELETE would: an insert referring to it waits."""
        self.connection.execute(f'SELECT 1 FROM "{instance._meta.db_table}" WHERE id = %s FOR UPDATE', [instance.pk])
        return self

    def release(self) -> None:
        self.connection.rollback()
        self.connection.close()


def someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        # pg_locks is the whole server's: count only the waits of this database's sessions.
        cursor.execute(
            "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid) WHERE NOT granted AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


def kill(process: subprocess.Popen) -> None:
    process.kill()  # SIGKILL: no cleanup, no rollback sent
    process.wait(timeout=10)


def kill_while_waiting(process: subprocess.Popen) -> None:
    """SIGKILL the process waiting on the held row, and end its server session too: PostgreSQL would
    otherwise run the waiting statement to its end once the row is free (it hears of the dead client at
    its next read), as if the process had died just after sending it; this way it died just before."""
    kill(process)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()")
    wait_for(lambda: not someone_waits_for_a_lock(), what="the killed worker's session to end")


# -- an import ------------------------------------------------------------------------------------------

IMPORT_SIMS, IMPORT_BATCH = 3000, 500
IMPORT_ICCIDS = [make_iccid() for _ in range(IMPORT_SIMS)]


def new_import_job() -> ImportJob:
    """The same input every run: a third of the SIMs already known (in inventory, on the importer's own
    account, in another product, terminated), the rest new; one refused by the carrier."""
    product = Product.objects.create(name="Fleet", slug="fleet")
    other = Product.objects.create(name="Other", slug="other")
    importer = make_user("importer")
    Membership.objects.create(user=importer, product=product, role=Membership.Role.ADMIN)
    for n, iccid in enumerate(IMPORT_ICCIDS[::9]):
        kind = n % 4
        Sim.objects.create(
            iccid=iccid,
            product=other if kind == 2 else None,
            owner_user=importer if kind == 1 else None,
            state=[State.ISSUED, State.ACTIVE, State.ACTIVE, State.TERMINATED][kind],
            home_country="DE",
        )
    job = ImportJob.objects.create(product=product, created_by=importer, typed_text="\n".join(IMPORT_ICCIDS))
    count_input(job)
    confirm_import(job=job, country="US")  # enqueued on commit: a task row for the workers
    return job


def run_import_undisturbed(start_worker) -> dict:
    job = new_import_job()
    worker = start_worker()
    wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DONE, what="the import")
    kill(worker)  # idle now; the next run must be the next worker's alone
    return database_state()


def test_an_import_killed_mid_batch_leaves_whole_batches_and_a_new_worker_ends_it_as_an_undisturbed_run(
    start_worker, settings
):
    settings.IMPORT_BATCH_SIZE = IMPORT_BATCH
    settings.CARRIER_SIMULATOR_REFUSE_SUFFIXES = [IMPORT_ICCIDS[1234][-6:]]
    start_over()
    expected = run_import_undisturbed(start_worker)
    start_over()

    job = new_import_job()
    third_batch = job_iccids(job)[2 * IMPORT_BATCH : 3 * IMPORT_BATCH]
    first_new = next(iccid for iccid in third_batch if not Sim.objects.filter(iccid=iccid).exists())
    held = HeldRow().insert(Sim(iccid=first_new, state=State.ISSUED))
    worker = start_worker()
    wait_for(someone_waits_for_a_lock, what="the worker to reach the third batch's insert")
    kill_while_waiting(worker)
    held.release()

    # Two whole batches, nothing of the third (its batch row, SIMs, events and charge went with its transaction).
    stopped = ImportJob.objects.get(pk=job.pk)
    assert (stopped.status, stopped.batches_done, stopped.processed) == (ImportJob.Status.RUNNING, 2, 2 * IMPORT_BATCH)
    assert list(ImportBatch.objects.filter(job=job).values_list("number", flat=True).order_by("number")) == [0, 1]
    moved = stopped.activated + stopped.transferred
    assert Sim.objects.filter(product=job.product).count() == moved
    assert SimEvent.objects.filter(action="import").count() == moved
    assert sum(Charge.objects.filter(product=job.product).values_list("quantity", flat=True)) == moved

    call_command("resume_imports", idle_minutes=0, stdout=open("/dev/null", "w"))
    start_worker()
    wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DONE, what="the resumed import")

    assert differences(database_state(), expected) == {}


# -- a usage ingestion ----------------------------------------------------------------------------------

USAGE_SIMS, RECORDS_PER_SIM = 500, 240
CHUNK = CHUNK_SIZE  # the rows are laid out so that the first chunk is each SIM's first 200 records
USAGE_ICCIDS = [make_iccid() for _ in range(USAGE_SIMS)]
MB = 1_000_000


def new_fleet_for_usage() -> None:
    """Active SIMs with limits from 1 to 11 MB (some reach theirs in the first chunk, some in the second,
    some never), and provisioned ones under a 9 MB data trigger (likewise)."""
    product = Product.objects.create(name="Fleet", slug="fleet", trigger_data_kb=9_000, trigger_sms=None, trigger_traffic_days=None)
    for n, iccid in enumerate(USAGE_ICCIDS):
        state = State.PROVISIONED if n % 4 == 3 else State.ACTIVE
        Sim.objects.create(
            iccid=iccid, product=product, state=state, state_changed_at=month_start(), home_country="DE", data_limit_mb=1 + n % 11
        )


def month_start() -> datetime:
    """Where the records begin: the triggers count usage from the day of provisioning."""
    return datetime.combine(timezone.now().date().replace(day=1), datetime.min.time(), tzinfo=UTC)


def write_usage_file(path) -> list[str]:
    """Each SIM's records in turn, record k of every SIM before record k + 1: both chunks hold every SIM.
    Returns the record ids in file order."""
    start = month_start()
    ids, lines = [], ["record_id,iccid,start,end,bytes_up,bytes_down,sms,country"]
    for k in range(RECORDS_PER_SIM):
        began, ended = (start + timedelta(seconds=k)).isoformat(), (start + timedelta(seconds=k + 1)).isoformat()
        for n, iccid in enumerate(USAGE_ICCIDS):
            record_id = f"r{n}-{k}"
            ids.append(record_id)
            lines.append(f"{record_id},{iccid},{began},{ended},1000,{10_000 * (1 + n % 5) - 1000},{k % 2},{'DE' if n % 3 else 'AT'}")
    path.write_text("\n".join(lines) + "\n")
    return ids


def count_of(state: dict, sim_state: str) -> int:
    return sum(1 for sim in state["sims"] if sim[3] == sim_state)


def ingest_usage_process(path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": test_database_url(), "DEBUG": "0", "SECRET_KEY": "test-ingest"}
    env.pop("PYTEST_VERSION", None)
    return subprocess.Popen(
        [sys.executable, "manage.py", "ingest_usage", str(path)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_an_ingestion_killed_mid_file_leaves_nothing_and_running_it_again_ends_as_an_undisturbed_run(tmp_path):
    """PostgreSQL reads a usage file in one transaction (sims/usage_csv_sql.py): a kill half-way leaves
    none of it, and the file again is ingested whole."""
    path = tmp_path / "usage.csv"
    ids = write_usage_file(path)
    assert CHUNK == USAGE_SIMS * 200 and len(ids) > CHUNK
    start_over()
    new_fleet_for_usage()
    undisturbed = ingest_usage_process(path)
    assert undisturbed.wait(timeout=120) == 0, undisturbed.stderr.read()
    expected = database_state()
    start_over()

    new_fleet_for_usage()
    sim = Sim.objects.get(iccid=USAGE_ICCIDS[0])
    now = timezone.now()
    held = HeldRow().insert(
        UsageRecord(record_id=ids[CHUNK], sim=sim, started_at=now, ended_at=now, bytes_up=0, bytes_down=0, sms=0, received_at=now)
    )
    killed = ingest_usage_process(path)
    wait_for(someone_waits_for_a_lock, what="the ingestion to reach a record held by the test")
    kill_while_waiting(killed)
    held.release()

    # Nothing of the file: no record, no rollup, no pause, no trigger.
    assert UsageRecord.objects.count() == 0
    assert not SimDailyUsage.objects.exists() and not SimPeriodUsage.objects.exists() and not ProductDailyUsage.objects.exists()
    assert not Sim.objects.filter(state=State.PAUSED).exists()
    assert not SimEvent.objects.filter(actor_name__startswith="trigger").exists()

    again = ingest_usage_process(path)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert f"{len(ids):,} records: {len(ids):,} ingested, 0 already ingested, 0 rejected" in out

    assert differences(database_state(), expected) == {}


# -- a period close -------------------------------------------------------------------------------------

# The month before last: always over, with its late usage in.
CLOSED = Period.of(timezone.now()).previous().previous()
CLOSE_ICCIDS = [make_iccid() for _ in range(40)]


def new_accounts_to_invoice() -> None:
    """Three products, one per pricing model, the second switching models at the close, and a
    developer's own account: four invoices, each with its lines and the charges it bills."""
    iccids = iter(CLOSE_ICCIDS)
    z1, z2 = RateZone.objects.get(code="Z1"), RateZone.objects.get(code="Z2")
    before = CLOSED.starts_at - timedelta(days=20)
    for n, (slug, model) in enumerate([("alpha", PricingModel.PER_SIM), ("bravo", PricingModel.PAY_AS_YOU_GO), ("charlie", PricingModel.POOLED)]):
        product = Product.objects.create(name=slug.title(), slug=slug, pricing_model=model)
        for k in range(10):
            sim = Sim.objects.create(iccid=next(iccids), product=product, state=State.ACTIVE, home_country="DE")
            imported_at = before if k < 6 else CLOSED.starts_at + timedelta(days=k, hours=12)
            SimEvent.objects.create(
                sim=sim, product=product, action="import", from_state=State.ISSUED, to_state=State.ACTIVE,
                actor_kind="system", actor_name="test", created_at=imported_at,
            )  # fmt: skip
            day = CLOSED.start + timedelta(days=k)
            SimDailyUsage.objects.create(sim=sim, product=product, day=day, bytes=(k + n) * 700_000, sms=k)
            ProductDailyUsage.objects.create(
                product=product, day=day, country="DE" if k % 3 else "PL", bytes=(k + n) * 700_000, sms=k,
                records=1, newest_record_at=CLOSED.starts_at + timedelta(days=k, hours=23),
            )  # fmt: skip
        Charge.objects.create(
            product=product, kind=Charge.Kind.FIRST_MONTH, zone=z1, description="First month, 20 of 30 days",
            quantity=4, unit_price=Decimal("1.9900"), amount=Decimal("7.96"), period_start=CLOSED.start,
        )  # fmt: skip
    Product.objects.filter(slug="bravo").update(
        pending_pricing_model=PricingModel.POOLED, pending_plan_zone=z2, pending_from=CLOSED.end
    )
    developer = make_user("developer")
    for _ in range(3):
        own = Sim.objects.create(iccid=next(iccids), owner_user=developer, state=State.ACTIVE, home_country="DE")
        SimDailyUsage.objects.create(sim=own, product=None, day=CLOSED.start + timedelta(days=3), bytes=3 * MB)


def close_with_a_worker(start_worker) -> subprocess.Popen:
    close_billing_period_task.enqueue(str(CLOSED))
    return start_worker()


def test_a_close_killed_mid_invoice_keeps_whole_invoices_and_a_new_worker_ends_it_as_an_undisturbed_run(start_worker):
    start_over()
    new_accounts_to_invoice()
    undisturbed = close_with_a_worker(start_worker)
    wait_for(lambda: Invoice.objects.count() == 4 and not Product.objects.exclude(pending_pricing_model="").exists(), what="the close")
    kill(undisturbed)  # idle now; the next run must be the next worker's alone
    expected = database_state()
    assert expected["products"][1][1:3] == (PricingModel.POOLED, "Z2")  # bravo switched models at its invoice
    start_over()

    new_accounts_to_invoice()
    # bravo's invoice switches its pricing model: its transaction waits for this lock at its last statement.
    held = HeldRow().lock_for_update(Product.objects.get(slug="bravo"))
    worker = close_with_a_worker(start_worker)
    wait_for(someone_waits_for_a_lock, what="the close to reach bravo's invoice")
    kill_while_waiting(worker)
    held.release()

    # alpha's invoice whole, nothing of bravo's (invoice, lines, charges billed, model switch), nothing after it.
    stopped = database_state()
    assert [invoice[:2] for invoice in stopped["invoices"]] == [(f"{CLOSED.start:%Y%m}-P{Product.objects.get(slug='alpha').pk:05d}", "alpha")]
    assert stopped["invoice lines"] == [line for line in expected["invoice lines"] if line[0] == stopped["invoices"][0][0]]
    assert [charge[0] for charge in stopped["charges"] if charge[-1] is not None] == ["alpha"]
    assert stopped["products"] == [
        ("alpha", PricingModel.PER_SIM, None, "", None, None),
        ("bravo", PricingModel.PAY_AS_YOU_GO, None, PricingModel.POOLED, "Z2", CLOSED.end),
        ("charlie", PricingModel.POOLED, None, "", None, None),
    ]

    close_with_a_worker(start_worker)
    wait_for(lambda: Invoice.objects.count() == 4, what="the close run again")
    time.sleep(0.5)  # let the worker finish the task it is in: nothing more may come

    assert differences(database_state(), expected) == {}


# -- a change's events, the worker killed while it publishes them ----------------------------------------


def test_a_worker_killed_while_publishing_a_changes_events_loses_none_and_each_is_delivered_once(start_worker, settings):
    """The change commits its events (sims/events.py). The worker publishing the first one has written
    both webhooks' deliveries and their tasks and taken the event out of the outbox, and waits at its
    COMMIT (Django's references are checked at commit: the second delivery's waits on the webhook row
    the test holds) when it is killed. Nothing of that publication stays; the event stays in the
    outbox, its task is never run again, and the tick's sweep publishes it: one delivery per event
    and webhook, each delivered once."""
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    receiver = Receiver([200])
    try:
        product = Product.objects.create(name="Fleet", slug="fleet")
        user = make_user("admin")
        hooks = [add_webhook(product=product, url=receiver.url, user=user) for _ in range(2)]
        sims = Sim.objects.bulk_create([Sim(iccid=make_iccid(), product=product, state=State.ACTIVE) for _ in range(2500)])
        apply_action(sims=Sim.objects.filter(product=product), action=Action.DEACTIVATE, actor=Actor.for_user(user))
        assert DomainEvent.objects.count() == 3

        held = HeldRow().lock_for_delete(hooks[1])
        worker = start_worker(WEBHOOKS_ALLOW_PRIVATE_ADDRESSES="1")
        wait_for(someone_waits_for_a_lock, what="the worker to commit the first event's deliveries")
        with connection.cursor() as cursor:
            cursor.execute("SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
            ((waiting,),) = cursor.fetchall()
        assert waiting == "COMMIT"
        kill_while_waiting(worker)
        held.release()
        assert not WebhookDelivery.objects.exists() and DomainEvent.objects.count() == 3

        start_worker(WEBHOOKS_ALLOW_PRIVATE_ADDRESSES="1")
        wait_for(lambda: DomainEvent.objects.count() == 1, what="the worker to publish the events whose task it can run")
        assert publish_stragglers(now=timezone.now()) == 0  # its task might still be running
        assert publish_stragglers(now=timezone.now() + STRAGGLER_AGE + timedelta(seconds=1)) == 1
        wait_for(lambda: WebhookDelivery.objects.filter(status="delivered").count() == 6, what="every delivery")

        assert not DomainEvent.objects.exists() and WebhookDelivery.objects.count() == 6
        for hook in hooks:
            bodies = [json.loads(body) for body in hook.deliveries.values_list("body", flat=True)]
            assert sorted(body["event_count"] for body in bodies) == [500, 1000, 1000]
            sent = [iccid for body in bodies for change in body["changes"] for iccid in change["iccids"]]
            assert sorted(sent) == sorted(sim.iccid for sim in sims)
        assert len({headers["X-SimConsole-Delivery"] for headers, _, _ in receiver.requests}) == len(receiver.requests) == 6
    finally:
        receiver.close()


# -- the database gone during requests ------------------------------------------------------------------


class Relay:
    """A TCP relay in front of PostgreSQL that the test can cut, as a database restart or a network
    failure does (open connections dropped, new ones refused), and put back on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port, self.open = target, 0, set()
        self.lock = threading.Lock()
        self.start()

    def start(self) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def stop(self) -> None:
        for sock in [self.listener, *self.open]:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            server = socket.create_connection(self.target)
            with self.lock:
                self.open |= {client, server}
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def drop_other_sessions() -> None:
    """End every other session on the test database (the live server's kept connection among them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def console(live_server, client, owner, product, sim, monkeypatch):
    """The live server, signed in as a product admin, its database connections through a relay;
    with a Particle API token and an emnify application token of the product."""
    relay = Relay((connection.settings_dict["HOST"] or "127.0.0.1", int(connection.settings_dict["PORT"] or 5432)))
    # The live server's thread opens its connections from this same settings dict (the test's own stays as it is).
    monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
    monkeypatch.setitem(connection.settings_dict, "PORT", str(relay.port))
    drop_other_sessions()
    client.force_login(owner)
    session = requests.Session()
    session.cookies["sessionid"] = client.cookies["sessionid"].value
    secret = create_token(user=owner, name="fleet", product=product, scopes=list(Scope.values))[1]
    yield SimpleNamespace(url=live_server.url, session=session, relay=relay, secret=secret, sim=sim, product=product)
    relay.stop()
    drop_other_sessions()  # none may outlive the relay's port


def pages(console) -> dict[str, requests.Response]:
    """A console page, a Particle API call and an emnify API call."""
    return {
        "page": console.session.get(f"{console.url}/products/{console.product.slug}/sims/{console.sim.iccid}/", timeout=30),
        "particle": requests.get(
            f"{console.url}/v1/products/{console.product.slug}/sims", headers={"Authorization": f"Bearer {console.secret}"}, timeout=30
        ),
        "emnify": requests.post(f"{console.url}/api/v1/authenticate", json={"application_token": console.secret}, timeout=30),
    }


def test_the_database_gone_for_a_few_seconds_gets_a_503_that_says_so_and_the_console_recovers_by_itself(console):
    assert {name: response.status_code for name, response in pages(console).items()} == {"page": 200, "particle": 200, "emnify": 200}

    console.relay.stop()  # the database goes away: the kept connection dropped, new ones refused
    down = pages(console)

    assert {name: response.status_code for name, response in down.items()} == {"page": 503, "particle": 503, "emnify": 503}
    assert all(response.headers["Retry-After"] == "5" for response in down.values())
    page = down["page"]
    assert page.headers["Content-Type"].startswith("text/html")
    assert "The database is unreachable right now. Try again in a moment." in page.text
    assert "Traceback" not in page.text and "<h1>The database is unreachable</h1>" in page.text
    assert down["particle"].json() == {"ok": False, "error": "The database is unreachable right now. Try again in a moment."}
    assert down["emnify"].json() == {
        "error_code": 503, "error_token": "service_unavailable", "message": "The database is unreachable right now. Try again in a moment."
    }  # fmt: skip

    time.sleep(2)
    console.relay.start()  # back, on the same address: no restart of the console

    back = pages(console)
    assert {name: response.status_code for name, response in back.items()} == {"page": 200, "particle": 200, "emnify": 200}
    assert console.sim.iccid in back["page"].text


def test_a_connection_the_database_dropped_between_requests_is_replaced_before_the_next_one_without_an_error(console):
    assert connection.settings_dict["CONN_MAX_AGE"] > 0 and connection.settings_dict["CONN_HEALTH_CHECKS"] is True
    assert pages(console)["page"].status_code == 200  # the live server keeps its connection (CONN_MAX_AGE)

    drop_other_sessions()  # the database restarted, or an administrator ended the session, while it was idle

    # The health check at the request's first query finds it dead and connects again.
    assert {name: response.status_code for name, response in pages(console).items()} == {"page": 200, "particle": 200, "emnify": 200}

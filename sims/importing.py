"""Importing SIMs into a product: review what a list of ICCIDs would do, then activate them
batch by batch as a resumable job.

Each batch is one transaction: its SIMs, their events, its first-month charge, its
outcomes and the job's counters commit together or not at all. A worker that dies
mid-batch leaves nothing half-done; whoever runs the job next starts at the first
batch not committed, so nothing is activated, evented or charged twice.
"""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from console.bulk_insert import bulk_insert, db_datetime, insert_ignoring_conflicts
from products.models import Charge, Product
from products.pricing import Quote, money, quote
from sims.carriers import get_carrier
from sims.import_input import (
    DUPLICATE,
    IGNORED,
    INVALID,
    VALID,
    LineVerdict,
    decode_text,
    file_line_verdicts,
    pasted_verdicts,
)
from sims.lifecycle import EVENT_FIELDS, Action, Actor, apply_action
from sims.models import ImportBatch, ImportJob, Sim, SimEvent, State

EXAMPLES_SHOWN = 50

# What happened to each valid ICCID: one letter per ICCID in ImportBatch.outcomes.
ACTIVATED, TRANSFERRED, ALREADY, OTHER_OWNER, TERMINATED, CARRIER_REFUSED = "A", "T", "S", "O", "X", "C"
OUTCOMES = {
    ACTIVATED: ("activated", "Activated"),
    TRANSFERRED: ("transferred", "Transferred from your developer account and activated"),
    ALREADY: ("already_in_product", "Already in this product: skipped"),
    OTHER_OWNER: ("other_owner", "Refused: the SIM belongs to another product or person"),
    TERMINATED: ("terminated", "Refused: the SIM is terminated"),
    CARRIER_REFUSED: ("carrier_refused", "Refused by the carrier"),
}
# Before the carrier is asked: SIMs new to the console, or waiting in inventory, are activated.
NEW = "N"


def job_verdicts(job: ImportJob) -> Iterator[tuple[str, LineVerdict]]:
    """Every line of the job's input with its verdict: typed ICCIDs first, then the file's lines."""
    seen: set[str] = set()
    if job.typed_text:
        for verdict in pasted_verdicts(job.typed_text, seen):
            yield "typed", verdict
    if job.input_file:
        with job.input_file.open("rb") as handle:
            text = decode_text(handle.read())
        for verdict in file_line_verdicts(text, seen):
            yield job.input_filename or "file", verdict


def job_iccids(job: ImportJob) -> list[str]:
    return [verdict.iccid for _, verdict in job_verdicts(job) if verdict.verdict == VALID]


def count_input(job: ImportJob) -> None:
    """Count the job's lines by verdict (the progress bar's denominator)."""
    counts = Counter(verdict.verdict for _, verdict in job_verdicts(job))
    job.lines = sum(counts.values())
    job.valid, job.invalid = counts[VALID], counts[INVALID]
    job.duplicates, job.ignored = counts[DUPLICATE], counts[IGNORED]
    job.save(update_fields=["lines", "valid", "invalid", "duplicates", "ignored"])


def classify(*, product: Product, user, iccids: list[str]) -> dict[str, str]:
    """What importing would do to each ICCID, from who owns it now (no locks: a preview)."""
    verdicts: dict[str, str] = {}
    size = settings.IMPORT_BATCH_SIZE
    for start in range(0, len(iccids), size):
        chunk = iccids[start : start + size]
        existing = _existing(chunk, lock=False)
        for iccid in chunk:
            verdicts[iccid] = _classify_one(existing.get(iccid), product, user)
    return verdicts


def _existing(iccids: list[str], *, lock: bool) -> dict[str, tuple]:
    """Who owns these ICCIDs now: (iccid, id, product, owner user, state) by ICCID."""
    if connection.vendor == "postgresql":
        # One array parameter: psycopg re-parses a query of 5,000 placeholders on every call,
        # and the planner reads `= ANY(array)` straight off the unique index.
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(Sim._meta.db_table)
            cursor.execute(
                f"SELECT iccid, id, product_id, owner_user_id, state FROM {table} WHERE iccid = ANY(%s)"
                + (" FOR UPDATE" if lock else ""),
                [list(iccids)],
            )
            return {row[0]: row for row in cursor.fetchall()}
    rows = Sim.objects.filter(iccid__in=iccids)
    if lock:
        rows = rows.select_for_update()
    return {row[0]: row for row in rows.values_list("iccid", "pk", "product_id", "owner_user_id", "state")}


def _classify_one(row: tuple | None, product: Product, user) -> str:
    if row is None:
        return NEW
    _, _, product_id, owner_user_id, state = row
    if state == State.TERMINATED:
        return TERMINATED
    if product_id == product.pk:
        return ALREADY
    if product_id is None and owner_user_id is None:
        return NEW  # waiting in inventory
    if product_id is None and owner_user_id == user.pk:
        return TRANSFERRED
    return OTHER_OWNER


@dataclass
class Review:
    """What confirming would do, with the ICCIDs behind each count."""

    counts: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    invalid_lines: list[tuple[str, LineVerdict]] = field(default_factory=list)

    @property
    def to_activate(self) -> int:
        return self.counts[NEW] + self.counts[TRANSFERRED]


def review_import(job: ImportJob) -> Review:
    review = Review()
    iccids: list[str] = []
    for source, verdict in job_verdicts(job):
        if verdict.verdict == VALID:
            iccids.append(verdict.iccid)
        elif verdict.verdict == INVALID and len(review.invalid_lines) < EXAMPLES_SHOWN:
            review.invalid_lines.append((source, verdict))
    for iccid, code in classify(product=job.product, user=job.created_by, iccids=iccids).items():
        review.counts[code] += 1
        shown = review.examples.setdefault(code, [])
        if len(shown) < EXAMPLES_SHOWN:
            shown.append(iccid)
    return review


class CannotConfirm(Exception):
    pass


def confirm_import(*, job: ImportJob, country: str, enqueue: bool = True) -> None:
    """Queue a reviewed draft for the worker; confirming twice queues it once."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != ImportJob.Status.DRAFT:
            raise CannotConfirm("This import was already confirmed: its progress is below.")
        if locked.valid == 0:
            raise CannotConfirm("There is no valid ICCID to import. Go back and add some.")
        quote(country=country, sims=1, today=timezone.localdate())  # refuses a country without a price
        now = timezone.now()
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.QUEUED,
            country=country,
            confirmed_at=now,
            updated_at=now,
            # Fixed for the job's life: a resumed job must cut the same batches.
            batch_size=settings.IMPORT_BATCH_SIZE,
        )
        if enqueue:
            transaction.on_commit(lambda: enqueue_import(job.pk))
    job.refresh_from_db()


def enqueue_import(job_id: int) -> None:
    from sims.tasks import run_import_job

    run_import_job.enqueue(job_id)


def run_import(*, job_id: int) -> ImportJob:
    """Run (or resume) a confirmed job to its end."""
    job = ImportJob.objects.select_related("product", "created_by").get(pk=job_id)
    if job.status in (ImportJob.Status.DRAFT, ImportJob.Status.DONE):
        return job
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, started_at=job.started_at or now, updated_at=now)
    _checkpoint_less_often()
    try:
        iccids = job_iccids(job)
        price = quote(country=job.country.code, sims=1, today=timezone.localdate())
        carrier = get_carrier()
        size = job.batch_size
        for number, start in enumerate(range(0, len(iccids), size)):
            if number >= job.batches_done:
                _run_batch(job, number, iccids[start : start + size], price, carrier)
    except Exception as error:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED, error=f"{type(error).__name__}: {error}", updated_at=timezone.now()
        )
        raise
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.DONE, finished_at=timezone.now(), updated_at=timezone.now())
    job.refresh_from_db()
    return job


def _checkpoint_less_often() -> None:
    """SQLite: let the write-ahead log grow to ~80 MB between checkpoints during an import,
    instead of rewriting the same index pages into the database after every batch."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint=20000")


def _run_batch(job: ImportJob, number: int, iccids: list[str], price: Quote, carrier) -> None:
    with transaction.atomic():
        # One runner per batch: a second worker on the same job waits here, then skips what is done.
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.batches_done > number:
            return
        batch = ImportBatch.objects.create(job=job, number=number, outcomes="")
        existing = _existing(iccids, lock=True)
        codes = {iccid: _classify_one(existing.get(iccid), job.product, job.created_by) for iccid in iccids}
        wanted = [iccid for iccid, code in codes.items() if code in (NEW, TRANSFERRED)]
        refusals = carrier.activate(wanted)
        for iccid in refusals:
            codes[iccid] = CARRIER_REFUSED
        _activate_new(job, batch, [i for i in wanted if codes[i] == NEW and i not in existing], codes)
        from_inventory = [i for i in wanted if codes[i] == NEW and i in existing]
        _activate_existing(job, from_inventory, codes, existing, transfer=False)
        _activate_existing(job, [i for i in wanted if codes[i] == TRANSFERRED], codes, existing, transfer=True)
        tally = Counter(codes[iccid] for iccid in iccids)
        _charge_first_month(job, batch, price, tally[ACTIVATED] + tally[TRANSFERRED])
        batch.outcomes = "".join(codes[iccid] for iccid in iccids)
        batch.carrier_refusals = refusals
        batch.save(update_fields=["outcomes", "carrier_refusals"])
        ImportJob.objects.filter(pk=job.pk).update(
            batches_done=number + 1,
            processed=F("processed") + len(iccids),
            updated_at=timezone.now(),
            **{OUTCOMES[code][0]: F(OUTCOMES[code][0]) + count for code, count in tally.items()},
        )


def _sim_defaults(job: ImportJob) -> dict:
    return {
        "product_id": job.product_id,
        "owner_user_id": None,
        "home_country": job.country.code,
        # The product's default at import time: a later change of the default applies to later imports.
        "data_limit_mb": job.product.effective_default_data_limit_mb,
        "promotion_ends_on": None,
    }


def _activate_new(job: ImportJob, batch: ImportBatch, iccids: list[str], codes: dict[str, str]) -> None:
    """SIMs the console has never seen: insert them active, marked with the batch, in bulk."""
    if not iccids:
        return
    now = db_datetime(timezone.now())
    defaults = _sim_defaults(job)
    rows = [
        (iccid, defaults["product_id"], State.ACTIVE, now, defaults["home_country"], defaults["data_limit_mb"], now, now, 1, 0, batch.pk, now)
        for iccid in iccids
    ]
    insert_ignoring_conflicts(Sim, NEW_SIM_FIELDS, rows, unique="iccid")
    created = dict(Sim.objects.filter(iccid__in=iccids, import_batch=batch).values_list("iccid", "pk"))
    actor = Actor.for_user(job.created_by)
    events = [
        (sim_id, job.product_id, Action.IMPORT.value, State.ISSUED.value, State.ACTIVE.value, actor.kind, actor.user.pk, actor.name, f"Import #{job.pk}", now)
        for sim_id in created.values()
    ]
    bulk_insert(SimEvent, EVENT_FIELDS, events)
    for iccid in iccids:
        codes[iccid] = ACTIVATED if iccid in created else OTHER_OWNER
    taken_meanwhile = [iccid for iccid in iccids if iccid not in created]
    if taken_meanwhile:
        # Another import inserted these between our read and our insert: say what they are now.
        for iccid, row in _existing(taken_meanwhile, lock=True).items():
            code = _classify_one(row, job.product, job.created_by)
            codes[iccid] = code if code in (ALREADY, TERMINATED) else OTHER_OWNER


def _activate_existing(
    job: ImportJob, iccids: list[str], codes: dict[str, str], existing: dict[str, tuple], *, transfer: bool
) -> None:
    """SIMs from inventory or the user's own account: through the lifecycle, like any other change."""
    if not iccids:
        return
    by_id = {existing[iccid][1]: iccid for iccid in iccids}
    report = apply_action(
        # Still where we saw them: nobody else's in between.
        sims=Sim.objects.filter(pk__in=list(by_id), product=None, owner_user=job.created_by if transfer else None),
        action=Action.IMPORT,
        actor=Actor.for_user(job.created_by),
        reason=f"Import #{job.pk}" + (": transferred from the developer account" if transfer else ""),
        changes=_sim_defaults(job),
    )
    for outcome in report.done:
        codes[outcome.iccid] = TRANSFERRED if transfer else ACTIVATED
    for outcome in report.refused:
        codes[by_id[outcome.sim_id]] = OTHER_OWNER  # moved or terminated meanwhile


def _charge_first_month(job: ImportJob, batch: ImportBatch, price: Quote, quantity: int) -> None:
    if quantity == 0:
        return
    today = timezone.localdate()
    Charge.objects.create(
        product=job.product,
        kind=Charge.Kind.FIRST_MONTH,
        zone=price.zone,
        description=(
            f"First month of the {price.zone.code} plan for {quantity:,} SIMs, "
            f"{price.prorated_days} of {price.days_in_month} days (import #{job.pk})"
        ),
        quantity=quantity,
        unit_price=price.unit_first_month,
        amount=money(price.unit_first_month * quantity),
        period_start=date(today.year, today.month, 1),
        import_batch=batch,
    )


def outcome_rows(job: ImportJob) -> Iterator[list[str]]:
    """Every input line with what happened to it, in input order (the CSV at the end of an import)."""
    yield ["source", "line", "input", "iccid", "outcome", "reason"]
    batches = iter(job.batches.order_by("number"))
    outcomes, refusals, position = "", {}, 0
    for source, verdict in job_verdicts(job):
        if verdict.verdict != VALID:
            label = {INVALID: "invalid", DUPLICATE: "duplicate", IGNORED: "ignored: no ICCID on this line"}[verdict.verdict]
            yield [source, str(verdict.line_no), verdict.text, verdict.iccid or "", label, verdict.reason]
            continue
        if position == len(outcomes):
            batch = next(batches, None)
            outcomes, refusals, position = (batch.outcomes, batch.carrier_refusals, 0) if batch else ("", {}, 0)
        if not outcomes:
            yield [source, str(verdict.line_no), verdict.text, verdict.iccid, "not processed yet", ""]
            continue
        code = outcomes[position]
        position += 1
        yield [source, str(verdict.line_no), verdict.text, verdict.iccid, OUTCOMES[code][0], refusals.get(verdict.iccid, OUTCOMES[code][1])]


def seconds_left(job: ImportJob) -> float | None:
    """Time left at the pace so far; None until there is a pace."""
    if job.status != ImportJob.Status.RUNNING or not job.started_at or not job.processed:
        return None
    elapsed = (timezone.now() - job.started_at).total_seconds()
    return elapsed / job.processed * (job.valid - job.processed)


def import_iccids(*, product: Product, user, data: bytes | str, country: str, source_name: str = "") -> ImportJob:
    """Import a file of ICCIDs (its bytes, or text) at once, as the command line and tests do."""
    from django.core.files.base import ContentFile

    job = ImportJob.objects.create(product=product, created_by=user, input_filename=source_name)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    job.input_file.save(f"import-{job.pk}.txt", ContentFile(raw), save=True)
    count_input(job)
    if job.valid == 0:  # nothing to activate: a finished job that did nothing, with its counts
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.DONE, country=country, finished_at=timezone.now())
        job.refresh_from_db()
        return job
    confirm_import(job=job, country=country, enqueue=False)
    return run_import(job_id=job.pk)


NEW_SIM_FIELDS = [
    "iccid", "product", "state", "state_changed_at", "home_country", "data_limit_mb",
    "first_activated_at", "last_activated_at", "activations_count", "deactivations_count", "import_batch", "created_at",
]

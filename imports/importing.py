"""Importing SIMs into a product: review what a list of ICCIDs would do, then activate them
batch by batch as a resumable job.

Each batch is one transaction: its SIMs, their events, its first-month charge, its
outcomes and the job's counters commit together or not at all. A worker that dies
mid-batch leaves nothing half-done; whoever runs the job next starts at the first
batch not committed, so nothing is activated, evented or charged twice.
"""

import itertools
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, reset_queries, transaction
from django.db.models import F
from django.tasks import task
from django.utils import timezone

from billing.ledger import settle_transfer_overage
from billing.models import Charge
from billing.pricing import Quote, money, quote
from carriers.adapters.base import CarrierUnavailable
from carriers.health import record_call
from carriers.models import CarrierAccount
from carriers.routing import Router, no_route_reason, router_for
from imports.claims import NOT_HELD, ClaimCheckUnavailable, account_takes_codes, check_claims, takes_codes, unheld_reason
from imports.events import record_import_batch, record_import_finished
from imports.input import (
    DUPLICATE,
    IGNORED,
    INVALID,
    VALID,
    LineVerdict,
    ParsedInput,
    decode_text,
    file_line_verdicts,
    pasted_verdicts,
    summarise,
    summarise_file,
)
from imports.models import ImportBatch, ImportJob
from imports.sql import find_sims, insert_sims_with_events
from lib.bulk_insert import analyze_if_grown, db_datetime
from products.models import PricingModel, Product
from sims.lifecycle import Action, Actor, apply_action
from sims.models import NetworkStatus, Sim, SimEvent, State

EXAMPLES_SHOWN = 50
# SIMs already known (inventory, transfers) go through the lifecycle this many at a time:
# a batch may hold more than the 32,766 parameters SQLite allows in one query.
EXISTING_CHUNK = 10_000

# What happened to each valid ICCID: one letter per ICCID in ImportBatch.outcomes.
ACTIVATED, TRANSFERRED, ALREADY, OTHER_OWNER, TERMINATED, CARRIER_REFUSED = "A", "T", "S", "O", "X", "C"
OUTCOMES = {
    ACTIVATED: ("activated", "Activated"),
    TRANSFERRED: ("transferred", "Transferred from your developer account and activated"),
    ALREADY: ("already_in_product", "Already in this product: skipped"),
    # Only in jobs from before claims were checked: new jobs count another's SIM as not held (CARRIER_REFUSED).
    OTHER_OWNER: ("other_owner", "Refused: the SIM belongs to another product or person"),
    TERMINATED: ("terminated", "Refused: the SIM is terminated"),
    # Not held by the product's carrier accounts, whether another product holds it or nobody does: the
    # words never say which (imports/claims.py). A reason of its own (no account takes the range, a
    # registration code refused) is kept in ImportBatch.carrier_refusals.
    CARRIER_REFUSED: ("carrier_refused", f"Refused: {NOT_HELD}"),
}
# Before the carrier is asked: SIMs new to the console, or waiting in inventory, are claimed if held.
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


def job_input(job: ImportJob) -> ParsedInput:
    """The job's lines counted by verdict, and its valid ICCIDs in input order (as `job_verdicts`
    would give them, without a verdict object per line of a million-line file)."""
    seen: set[str] = set()
    parsed = summarise(pasted_verdicts(job.typed_text, seen))
    if job.input_file:
        with job.input_file.open("rb") as handle:
            summarise_file(decode_text(handle.read()), seen, parsed)
    return parsed


def job_iccids(job: ImportJob) -> list[str]:
    """The job's valid ICCIDs in batch order."""
    return in_batch_order(job, job_input(job).iccids)


def in_batch_order(job: ImportJob, iccids: list[str]) -> list[str]:
    """The valid ICCIDs (in input order) in the order the job cuts them into batches: sorted, so that
    each batch inserts into a narrow range of every ICCID index instead of all over it."""
    return sorted(iccids) if job.batches_in_iccid_order else iccids


def count_input(job: ImportJob) -> list[str]:
    """Count the job's lines by verdict (the progress bar's denominator); its valid ICCIDs, in input order."""
    parsed = job_input(job)
    job.lines, job.valid, job.invalid = parsed.lines, len(parsed.iccids), parsed.invalid
    job.duplicates, job.ignored = parsed.duplicates, parsed.ignored
    job.save(update_fields=["lines", "valid", "invalid", "duplicates", "ignored"])
    return parsed.iccids


def classify(*, product: Product, user, iccids: list[str]) -> dict[str, str]:
    """What importing would do to each ICCID, from who owns it now (no locks: a preview). Another's
    SIM previews as NEW, as one nobody holds does: both are refused at import, in the same words,
    unless the carrier holds them (imports/claims.py); a preview that said "refused" for one of them
    only would tell anyone with a product which ICCIDs the console has."""
    verdicts: dict[str, str] = dict.fromkeys(iccids, NEW)  # in input order
    size = settings.IMPORT_BATCH_SIZE
    ordered = sorted(iccids)  # chunks of neighbouring ICCIDs: narrow ranges of the index
    for start in range(0, len(ordered), size):
        chunk = ordered[start : start + size]
        existing = find_sims(chunk, lock=False)
        for iccid in chunk:
            verdict = importable(existing.get(iccid), product_id=product.pk, user_id=user.pk)
            verdicts[iccid] = NEW if verdict == CARRIER_REFUSED else verdict
    return verdicts


def importable(row: tuple | None, *, product_id: int | None, user_id: int) -> str:
    """What importing a SIM (its `find_sims` row; None: new to the console) would do: into the
    product, or with no product into the user's own account (a developer claiming it)."""
    if row is None:
        return NEW
    _, _, owner_product_id, owner_user_id, state, _ = row
    # Another product's or person's SIM, terminated or not, is refused as one nobody holds: nothing
    # says who holds it (imports/claims.py).
    others = owner_product_id not in (None, product_id) or owner_user_id not in (None, user_id)
    if others:
        return CARRIER_REFUSED
    if state == State.TERMINATED:
        return TERMINATED
    if product_id is None:
        return ALREADY if owner_user_id == user_id else NEW
    if owner_product_id == product_id:
        return ALREADY
    if owner_user_id is None:
        return NEW  # waiting in inventory
    return TRANSFERRED  # the user's own developer SIM


# In a review only: ICCIDs no carrier account of the product takes (refused at import with the range to add).
NO_ROUTE = "R"


@dataclass
class Review:
    """What confirming would do, with the ICCIDs behind each count, and how the SIMs to claim split
    across the product's carrier accounts."""

    counts: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    invalid_lines: list[tuple[str, LineVerdict]] = field(default_factory=list)
    # The product's carrier accounts; (account name, SIMs) for those that get some, in the accounts' order.
    accounts: list[CarrierAccount] = field(default_factory=list)
    split: list[tuple[str, int]] = field(default_factory=list)
    # SIMs to claim that no account's prefix routes: the choice of an account for them decides where they go.
    unrouted: int = 0
    unrouted_to: CarrierAccount | None = None
    # The account the person chose for them (None: the routing's own), kept by the confirm form.
    chosen: CarrierAccount | None = None
    catch_all: CarrierAccount | None = None
    # Some account asks for a registration code (Twilio); how many SIMs to claim came without one.
    takes_codes: bool = False
    without_code: int = 0
    no_route_reason: str = ""

    @property
    def to_activate(self) -> int:
        return self.counts[NEW] + self.counts[TRANSFERRED]


def review_import(job: ImportJob, *, unrouted: CarrierAccount | None = None) -> Review:
    """What confirming the draft would do; `unrouted`: the account chosen for ICCIDs no prefix routes
    (None: the job's choice, else the routing's own)."""
    review = Review()
    iccids: list[str] = []
    codes: dict[str, str] = {}
    for source, verdict in job_verdicts(job):
        if verdict.verdict == VALID:
            assert verdict.iccid is not None  # a valid line has its ICCID
            iccids.append(verdict.iccid)
            if verdict.code:
                codes[verdict.iccid] = verdict.code
        elif verdict.verdict == INVALID and len(review.invalid_lines) < EXAMPLES_SHOWN:
            review.invalid_lines.append((source, verdict))
    review.chosen = unrouted or job.unrouted_account
    router = router_for(job.product_id, unrouted=review.chosen)
    review.accounts, review.unrouted_to = router.accounts, router.unrouted
    review.catch_all = next((account for account in router.accounts if not account.prefixes), None)
    review.takes_codes = takes_codes(router)
    split: Counter = Counter()
    for iccid, code in classify(product=job.product, user=job.created_by, iccids=iccids).items():
        if code == NEW and router.accounts:
            if router.prefix_account(iccid) is None:
                review.unrouted += 1
            taken, account = router.account_for(iccid)
            if not taken:
                code = NO_ROUTE
                review.no_route_reason = review.no_route_reason or no_route_reason(iccid)
            else:
                split[account] += 1
                review.without_code += iccid not in codes and account_takes_codes(account)
        review.counts[code] += 1
        shown = review.examples.setdefault(code, [])
        if len(shown) < EXAMPLES_SHOWN:
            shown.append(iccid)
    review.split = [(account.name, split[account]) for account in router.accounts if split[account]]
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


# The task lives beside what queues it and what it runs: a tasks module of its own would import this
# one and be imported by it.
@task
def run_import_job(job_id: int) -> None:
    run_import(job_id=job_id)


def enqueue_import(job_id: int) -> None:
    run_import_job.enqueue(job_id)


def run_import(*, job_id: int, iccids: list[str] | None = None) -> ImportJob:
    """Run (or resume) a confirmed job to its end. `iccids`: the job's valid ICCIDs in input order,
    when the caller has just read them (a file of a million lines is then parsed once, not twice)."""
    job = ImportJob.objects.select_related("product", "created_by").get(pk=job_id)
    if job.status in (ImportJob.Status.DRAFT, ImportJob.Status.DONE):
        return job
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, started_at=job.started_at or now, updated_at=now)
    _tune_sqlite_for_import()
    try:
        iccids = job_iccids(job) if iccids is None else in_batch_order(job, iccids)
        price = quote(country=job.country.code, sims=1, today=timezone.localdate())  # type: ignore[attr-defined]  # a Country: django-stubs types django-countries' CountryField as a str
        router = router_for(job.product_id, unrouted=job.unrouted_account)
        codes = job_codes(job) if takes_codes(router) else {}
        size = job.batch_size
        for number, start in enumerate(range(0, len(iccids), size)):
            if number >= job.batches_done:
                _run_batch(job, number, iccids[start : start + size], price, router, codes)
                # Under DEBUG every statement is kept, and a batch's carry 50,000 ICCIDs each.
                reset_queries()
    except CarrierUnavailable as error:
        # The batch rolled back: nothing it held was imported unchecked. resume_imports runs the job on.
        if isinstance(error, ClaimCheckUnavailable):
            record_call(account_key=error.account_key, what="holds", ok=False, error=str(error))
        _finish(
            job,
            status=ImportJob.Status.FAILED,
            error=f"the carrier could not be asked which SIMs it holds ({error}); nothing of the batch was imported",
        )
        raise
    except Exception as error:
        _finish(job, status=ImportJob.Status.FAILED, error=f"{type(error).__name__}: {error}")
        raise
    _finish(job, status=ImportJob.Status.DONE, finished_at=timezone.now())
    job.refresh_from_db()
    # Each SIM activated or transferred is a SIM row written and an event row inserted.
    analyze_if_grown([Sim, SimEvent], changed_rows=job.activated + job.transferred)
    return job


def job_codes(job: ImportJob) -> dict[str, str]:
    """The registration codes given with ICCIDs ("ICCID,CODE" lines), by ICCID."""
    return {verdict.iccid: verdict.code for _, verdict in job_verdicts(job) if verdict.code and verdict.iccid}


def _finish(job: ImportJob, **fields: object) -> None:
    """The job's end and its event commit together: a receiver hears of exactly the end committed.
    Only a job still under way ends: a second runner (resume_imports re-queues a job whose long batch
    is still running) that reaches an end already written changes nothing and announces nothing."""
    under_way = [ImportJob.Status.QUEUED, ImportJob.Status.RUNNING]
    with transaction.atomic():
        if ImportJob.objects.filter(pk=job.pk, status__in=under_way).update(updated_at=timezone.now(), **fields):
            record_import_finished(job_id=job.pk)


def _tune_sqlite_for_import() -> None:
    """SQLite: let the write-ahead log grow to ~80 MB between checkpoints during an import,
    instead of rewriting the same index pages into the database after every batch; and a page
    cache of 16 MB, not 64: batches in ICCID order write a few thousand pages each, and the
    import's peak memory is otherwise a quarter cache."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint=20000")
            cursor.execute("PRAGMA cache_size=-16000")


def _run_batch(
    job: ImportJob, number: int, iccids: list[str], price: Quote, router: Router, proof: dict[str, str]
) -> None:
    with transaction.atomic():
        # One runner per batch: a second worker on the same job waits here, then skips what is done.
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.batches_done > number:
            return
        batch = ImportBatch.objects.create(job=job, number=number, outcomes="")
        existing = find_sims(iccids, lock=True)
        # In batch order; NEW but for the SIMs already known (built without a Python loop over the batch).
        codes = dict.fromkeys(iccids, NEW)
        refusals = {}
        for iccid, row in existing.items():
            codes[iccid] = importable(row, product_id=job.product_id, user_id=job.created_by_id)
            if codes[iccid] == CARRIER_REFUSED:  # another's: refused in the words one nobody holds would get
                reason = unheld_reason(router, iccid, proof)
                if reason != NOT_HELD:
                    refusals[iccid] = reason
        # Only what the product's carrier accounts hold is claimed; a carrier that cannot be asked
        # raises here, and the batch's transaction takes nothing with it.
        claims = check_claims(
            product_id=job.product_id, iccids=[iccid for iccid, code in codes.items() if code == NEW], router=router, codes=proof
        )
        for iccid, reason in claims.refused.items():
            codes[iccid] = CARRIER_REFUSED
            if reason != NOT_HELD:  # the outcome's own words say that one
                refusals[iccid] = reason
        inserted = []
        for account, held in claims.held.items():
            unknown = [i for i in held if i not in existing]
            _activate_new(job, batch, unknown, codes, account)
            inserted += unknown
            from_inventory = [i for i in held if i in existing]
            _activate_existing(job, from_inventory, codes, existing, transfer=False, account=account)
        _activate_existing(job, [i for i in existing if codes[i] == TRANSFERRED], codes, existing, transfer=True)
        tally = Counter(codes.values())
        _charge_first_month(job, batch, price, tally[ACTIVATED] + tally[TRANSFERRED])
        batch.outcomes = "".join(codes.values())
        batch.carrier_refusals = refusals
        batch.save(update_fields=["outcomes", "carrier_refusals"])
        ImportJob.objects.filter(pk=job.pk).update(
            batches_done=number + 1,
            processed=F("processed") + len(iccids),
            updated_at=timezone.now(),
            **{OUTCOMES[code][0]: F(OUTCOMES[code][0]) + count for code, count in tally.items()},
        )
        # The SIMs inserted here (the lifecycle recorded the events of those it moved).
        record_import_batch(job=job, batch=batch, iccids=sorted(i for i in inserted if codes[i] == ACTIVATED))


def _sim_defaults(job: ImportJob) -> dict:
    return {
        "product_id": job.product_id,
        "owner_user_id": None,
        "home_country": job.country.code,  # type: ignore[attr-defined]  # a Country: django-stubs types django-countries' CountryField as a str
        # The product's default at import time: a later change of the default applies to later imports.
        "data_limit_mb": job.product.effective_default_data_limit_mb,
        "promotion_ends_on": None,
    }


def _activate_new(
    job: ImportJob, batch: ImportBatch, iccids: list[str], codes: dict[str, str], account: CarrierAccount | None
) -> None:
    """SIMs the console has never seen, held by `account` (None: the built-in simulator): inserted
    active on that account, each with its import event."""
    if not iccids:
        return
    now = db_datetime(timezone.now())
    defaults = _sim_defaults(job)
    actor = Actor.for_import(job)
    inserted = insert_sims_with_events(
        iccids=sorted(iccids),
        sim={
            "product": defaults["product_id"],
            "state": State.ACTIVE.value,
            "state_changed_at": now,
            "home_country": defaults["home_country"],
            "data_limit_mb": defaults["data_limit_mb"],
            "first_activated_at": now,
            "last_activated_at": now,
            "activations_count": 1,
            "deactivations_count": 0,
            "import_batch": batch.pk,
            "carrier_account": account.pk if account is not None else None,
            "created_at": now,
            # Registered and activated on the carrier by the push worker (carriers/push.py).
            "network_status": NetworkStatus.PENDING.value,
            "network_version": 1,
            "network_since": now,
        },
        event={
            "product": job.product_id,
            "action": Action.IMPORT.value,
            "from_state": State.ISSUED.value,
            "to_state": State.ACTIVE.value,
            "actor_kind": actor.kind,
            "actor_user": actor.user.pk,
            "actor_name": actor.name,
            "reason": f"Import #{job.pk}",
            "created_at": now,
        },
    )
    codes.update(dict.fromkeys(iccids, ACTIVATED))
    if inserted < len(iccids):
        # Another import inserted some between our read and our insert: say what they are now.
        now_there = find_sims(iccids, lock=True)
        for iccid in iccids:
            row = now_there.get(iccid)
            if row is None or row[5] != batch.pk:
                code = importable(row, product_id=job.product_id, user_id=job.created_by_id)
                codes[iccid] = code if code in (ALREADY, TERMINATED) else CARRIER_REFUSED


def _activate_existing(
    job: ImportJob,
    iccids: list[str],
    codes: dict[str, str],
    existing: dict[str, tuple],
    *,
    transfer: bool,
    account: CarrierAccount | None = None,
) -> None:
    """SIMs from inventory (held by `account`) or the user's own account (transferred with the carrier
    account they are on): through the lifecycle, like any other change."""
    if not iccids:
        return
    by_id = {existing[iccid][1]: iccid for iccid in iccids}
    ids = sorted(by_id)
    for start in range(0, len(ids), EXISTING_CHUNK):
        chunk = ids[start : start + EXISTING_CHUNK]
        if transfer:
            # Priced on the developer's plan (home country, promotion) before the import changes them;
            # the batch holds these rows locked, so each is transferred below.
            settle_transfer_overage(user=job.created_by, sim_ids=chunk, now=timezone.now())
        report = apply_action(
            # Still where we saw them: nobody else's in between.
            sims=Sim.objects.filter(pk__in=chunk, product=None, owner_user=job.created_by if transfer else None),
            action=Action.IMPORT,
            actor=Actor.for_import(job),
            reason=f"Import #{job.pk}" + (": transferred from the developer account" if transfer else ""),
            changes=_sim_defaults(job) if transfer else {**_sim_defaults(job), "carrier_account_id": account.pk if account else None},
        )
        for outcome in report.done:
            codes[outcome.iccid] = TRANSFERRED if transfer else ACTIVATED
        for outcome in report.refused:
            codes[by_id[outcome.sim_id]] = CARRIER_REFUSED  # moved or terminated meanwhile


def _charge_first_month(job: ImportJob, batch: ImportBatch, price: Quote, quantity: int) -> None:
    """The per-SIM plan's prorated first month; the other models bill by peak SIMs at the period's close."""
    if quantity == 0 or job.product.pricing_model != PricingModel.PER_SIM:
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
    batches = list(job.batches.order_by("number").values_list("outcomes", "carrier_refusals"))
    outcomes = "".join(batch_outcomes for batch_outcomes, _ in batches)  # one letter per ICCID, in batch order
    refusals = {iccid: reason for _, batch_refusals in batches for iccid, reason in batch_refusals.items()}
    position_of = _batch_position(job)
    for source, verdict in job_verdicts(job):
        if verdict.verdict != VALID:
            label = {INVALID: "invalid", DUPLICATE: "duplicate", IGNORED: "ignored: no ICCID on this line"}[verdict.verdict]
            yield [source, str(verdict.line_no), verdict.text, verdict.iccid or "", label, verdict.reason]
            continue
        assert verdict.iccid is not None  # a valid line has its ICCID
        position = position_of(verdict.iccid)
        if position >= len(outcomes):
            yield [source, str(verdict.line_no), verdict.text, verdict.iccid, "not processed yet", ""]
            continue
        code = outcomes[position]
        yield [source, str(verdict.line_no), verdict.text, verdict.iccid, OUTCOMES[code][0], refusals.get(verdict.iccid, OUTCOMES[code][1])]


def _batch_position(job: ImportJob) -> Callable[[str], int]:
    """Where each valid ICCID, taken in input order, stands in the job's batch order."""
    if job.batches_in_iccid_order:
        ordered = job_iccids(job)
        return lambda iccid: bisect_left(ordered, iccid)
    positions = itertools.count()
    return lambda iccid: next(positions)


def seconds_left(job: ImportJob) -> float | None:
    """Time left at the pace so far; None until there is a pace."""
    if job.status != ImportJob.Status.RUNNING or not job.started_at or not job.processed:
        return None
    elapsed = (timezone.now() - job.started_at).total_seconds()
    return elapsed / job.processed * (job.valid - job.processed)


def start_import(
    *, product: Product, user, typed_text: str = "", data: bytes | None = None, source_name: str = "", token_name: str = ""
) -> ImportJob:
    """A draft import into the product by the user, holding its input: ICCIDs typed (one a line) and/or
    a file's bytes (`data`, named `source_name`). `token_name`: the API token it was started with.
    Every way in (the import pages, My SIMs, the API, the import_sims command) starts one here;
    `count_input` then counts its lines, `confirm_import` queues it."""
    job = ImportJob.objects.create(
        product=product, created_by=user, typed_text=typed_text, input_filename=source_name[:200], token_name=token_name
    )
    if data is not None:
        job.input_file.save(f"import-{job.pk}.txt", ContentFile(data), save=True)
    return job


def import_iccids(*, product: Product, user, data: bytes | str, country: str, source_name: str = "") -> ImportJob:
    """Import a file of ICCIDs (its bytes, or text) at once, as the command line and tests do."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    job = start_import(product=product, user=user, data=raw, source_name=source_name)
    iccids = count_input(job)
    if job.valid == 0:  # nothing to activate: a finished job that did nothing, with its counts
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.DONE, country=country, finished_at=timezone.now())
        job.refresh_from_db()
        return job
    confirm_import(job=job, country=country, enqueue=False)
    return run_import(job_id=job.pk, iccids=iccids)


"""Fill the database with a demo: a signed-in user, products with a team, a fleet in every state,
and its usage history through the same ingestion as the carrier's (limits pause SIMs, as they would)."""

import random
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from lib.bulk_insert import bulk_insert, db_datetime, reset_id_sequences
from products.models import Membership, Product
from sims.iccid import luhn_check_digit
from sims.lifecycle import EVENT_FIELDS
from sims.carriers.base import DAY, HOUR
from sims.carriers.simulator import Profile, SimulatorCarrier
from sims.demo_connectivity import CONNECTIVITY_FIELDS, demo_connectivity
from sims.demo_connectivity import EVENT_FIELDS as NETWORK_EVENT_FIELDS
from sims.models import NetworkEvent, Sim, SimConnectivity, SimEvent, State, UsageTick
from sims.periodic import detect_yesterdays_spikes
from sims.usage import UsageRow, ingest_usage

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-sim-console"
DEMO_PRODUCT_SLUG = "acme-trackers"
CHUNK = 50_000
# Usage history goes through ingest_usage like the carrier's, ~33 records per SIM over 45 days:
# for a million SIMs that is an hour or more, so by default only this many SIMs get history
# (the usage tick brings everyone's traffic from then on).
SIMS_WITH_USAGE = 20_000

# Share of the fleet in each state, and the events that led there (action, from, to, actor).
# No SIM is seeded paused: ingesting the usage history pauses the ones at their limit.
STATE_MIX = [
    (State.ACTIVE, 0.80),
    (State.SUSPENDED, 0.09),
    (State.ISSUED, 0.06),
    (State.TERMINATED, 0.05),
]
# Provisioned (test) SIMs are the ones the simulator keeps silent: one with traffic would be
# activated by the data trigger at the first usage tick. The other silent SIMs are dead devices.
SILENT_PROVISIONED_SHARE = 0.8
HISTORY = {
    State.ISSUED: [],
    State.PROVISIONED: [("provision", State.ISSUED, State.PROVISIONED)],
    State.ACTIVE: [("activate", State.ISSUED, State.ACTIVE)],
    State.SUSPENDED: [("activate", State.ISSUED, State.ACTIVE), ("deactivate", State.ACTIVE, State.SUSPENDED)],
    State.TERMINATED: [("activate", State.ISSUED, State.ACTIVE), ("terminate", State.ACTIVE, State.TERMINATED)],
}
COUNTRIES = ["US", "US", "US", "DE", "GB", "FR", "NL", "CA", "MX", "BR", "JP", "AU"]


class Command(BaseCommand):
    help = "Create a demo user, products with a team, and a fleet of SIMs in every lifecycle state."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sims", type=int, default=2000, help="SIMs in the demo product (default 2,000).")
        parser.add_argument("--seed", type=int, default=7, help="Random seed, for a repeatable fleet.")
        parser.add_argument("--if-empty", action="store_true", help="Only when the database has no product at all.")
        parser.add_argument(
            "--usage-days", type=int, default=45, help="Days of usage history, ingested as the carrier's (default 45; 0: none)."
        )
        parser.add_argument(
            "--sims-with-usage", type=int, default=None, metavar="N",
            help=f"Give usage history to the first N SIMs only (default {SIMS_WITH_USAGE:,}; all of a million is 33M records).",
        )  # fmt: skip
        parser.add_argument(
            "--as-of", type=_utc_time, default=None, metavar="YYYY-MM-DDTHH:MM",
            help="Seed as if it were this UTC time (repeatable demos and tests); default: now.",
        )  # fmt: skip

    def handle(
        self, *args, sims: int, seed: int, if_empty: bool, usage_days: int, sims_with_usage: int | None,
        as_of: datetime | None, **options,
    ) -> None:  # fmt: skip
        if sims < 0 or usage_days < 0 or (sims_with_usage or 0) < 0:
            raise CommandError("--sims, --usage-days and --sims-with-usage must be 0 or more.")
        if if_empty and Product.objects.exists():
            self.stdout.write("The database already has products; no demo data added.")
            return
        if Product.objects.filter(slug=DEMO_PRODUCT_SLUG).exists():
            self.stdout.write("Demo data is already there; nothing was added.")
            self._print_sign_in()
            return
        started = time.monotonic()
        now = as_of or timezone.now()
        rng = random.Random(seed)
        with transaction.atomic():
            users = self._create_users()
            product = self._create_products(users)
            demo = users["demo"]
            fleet = dict(rng=rng, actor=demo, now=now)
            self._create_fleet(product=product, owner_user=None, count=sims, prefix="8901260", length=19, **fleet)
            # A developer's own prototyping SIMs, and the carrier's inventory nobody owns yet.
            self._create_fleet(product=None, owner_user=demo, count=min(20, sims), prefix="8934076", length=20, **fleet)
            self._create_fleet(product=None, owner_user=None, count=min(50, sims), prefix="8944500", length=19, **fleet, state_mix=[(State.ISSUED, 1.0)])
        self.stdout.write(f"Seeded {sims:,} SIMs in {product.name} in {time.monotonic() - started:.1f} s.")
        if usage_days:
            started = time.monotonic()
            with_usage = SIMS_WITH_USAGE if sims_with_usage is None else sims_with_usage
            summary = seed_usage_history(days=usage_days, now=now, sims_with_usage=with_usage)
            whose = "" if with_usage >= sims else f" for the first {with_usage:,} SIMs (--sims-with-usage)"
            self.stdout.write(f"Usage history of {usage_days} days{whose} in {time.monotonic() - started:.1f} s: {summary}")
        self._print_sign_in()

    def _print_sign_in(self) -> None:
        self.stdout.write(self.style.SUCCESS(f"Sign in as {DEMO_USERNAME} / {DEMO_PASSWORD}"))

    def _create_users(self) -> dict:
        User = get_user_model()
        users = {}
        for username, email, is_staff in [
            (DEMO_USERNAME, "demo@example.com", True),
            ("alice", "alice@example.com", False),
            ("bob", "bob@example.com", False),
            ("carol", "carol@example.com", False),
        ]:
            user = User.objects.create_user(username=username, email=email, password=DEMO_PASSWORD)
            if is_staff:
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
            users[username] = user
        return users

    def _create_products(self, users: dict) -> Product:
        trackers = Product.objects.create(name="Acme Asset Trackers", slug=DEMO_PRODUCT_SLUG, default_data_limit_mb=10)
        Membership.objects.create(product=trackers, user=users["demo"], role=Membership.Role.ADMIN)
        Membership.objects.create(product=trackers, user=users["alice"], role=Membership.Role.MEMBER)
        Membership.objects.create(product=trackers, user=users["bob"], role=Membership.Role.ADMIN)
        meters = Product.objects.create(name="Smart Water Meters", slug="water-meters")
        Membership.objects.create(product=meters, user=users["demo"], role=Membership.Role.MEMBER)
        Membership.objects.create(product=meters, user=users["carol"], role=Membership.Role.ADMIN)
        # A product the demo user is not in: its SIMs must never show up for them.
        other = Product.objects.create(name="Carol's Cold Chain", slug="cold-chain")
        Membership.objects.create(product=other, user=users["carol"], role=Membership.Role.ADMIN)
        return trackers

    def _create_fleet(
        self, *, product, owner_user, count: int, prefix: str, length: int, rng: random.Random, actor, now: datetime,
        state_mix=STATE_MIX,
    ) -> None:  # fmt: skip
        next_id = (Sim.objects.aggregate(top=Max("id"))["top"] or 0) + 1
        serial_digits = length - 1 - len(prefix)
        first_serial = rng.randrange(10 ** (serial_digits - 1), 10 ** (serial_digits - 1) * 5)
        states = [state for state, _ in state_mix]
        weights = [share for _, share in state_mix]
        for start in range(0, count, CHUNK):
            sims, events, connectivity, network_events = [], [], [], []
            for offset in range(start, min(count, start + CHUNK)):
                sim_id = next_id + offset
                body = f"{prefix}{first_serial + offset * 7:0{serial_digits}d}"
                iccid = body + luhn_check_digit(body)
                state = rng.choices(states, weights)[0]
                if state != State.ISSUED and Profile.of(iccid, "").daily_bytes == 0 and rng.random() < SILENT_PROVISIONED_SHARE:
                    state = State.PROVISIONED
                sims_row, sim_events = self._sim_rows(sim_id, iccid, state, product, owner_user, now, rng, actor)
                sims.append(sims_row)
                events.extend(sim_events)
                # Where each SIM stands with the network, and the few events that led there.
                state_changed_at = sims_row[5]
                if isinstance(state_changed_at, str):  # SQLite's form: UTC text
                    state_changed_at = datetime.fromisoformat(state_changed_at).replace(tzinfo=UTC)
                sim_connectivity, sim_network_events = demo_connectivity(
                    sim_id, iccid, state, product.pk if product else None, sims_row[6], state_changed_at, now
                )
                if sim_connectivity:
                    connectivity.append(sim_connectivity)
                network_events.extend(sim_network_events)
            bulk_insert(Sim, SIM_FIELDS, sims)
            bulk_insert(SimEvent, EVENT_FIELDS, events)
            bulk_insert(SimConnectivity, CONNECTIVITY_FIELDS, connectivity)
            bulk_insert(NetworkEvent, NETWORK_EVENT_FIELDS, network_events)
            if count > CHUNK:
                self.stdout.write(f"  {min(count, start + CHUNK):,} / {count:,} SIMs")
        reset_id_sequences(Sim, SimEvent)

    def _sim_rows(self, sim_id, iccid, state, product, owner_user, now, rng, actor):
        history = HISTORY[state]
        created = now - timedelta(days=rng.uniform(100, 160))
        times = sorted(now - timedelta(days=rng.uniform(0, 99), seconds=rng.randrange(86400)) for _ in history)
        activated = times[0] if history and history[0][0] == "activate" else None
        events = [
            (sim_id, product.pk if product else None, action, from_state, to_state,
             "system" if action == "pause" else "user",
             None if action == "pause" else actor.pk,
             "data limit" if action == "pause" else actor.get_username(),
             "Data limit reached" if action == "pause" else "Demo data",
             db_datetime(at))
            for (action, from_state, to_state), at in zip(history, times, strict=True)
        ]
        country = rng.choice(COUNTRIES) if state != State.ISSUED else ""
        limit = rng.choice([1, 20, 50, 100]) if rng.random() < 0.05 else None
        row = (
            sim_id, iccid, product.pk if product else None, owner_user.pk if owner_user else None, state,
            db_datetime(times[-1] if times else created), country, limit,
            f"2340{sim_id:011d}"[:15], None,
            db_datetime(activated), db_datetime(activated), 1 if activated else 0,
            1 if state == State.SUSPENDED else 0, db_datetime(created),
        )
        return row, events


def _utc_time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def seed_usage_history(*, days: int, now: datetime, sims_with_usage: int | None = None) -> str:
    """Usage of the seeded fleet for the last `days` days, from the simulator, through `ingest_usage`:
    a record per SIM per day up to the day before last, then per hour (what the usage tick fetches),
    so that the first tick's overlap never meets a day record. Returns the ingestion summary."""
    switch = datetime.combine((now - 2 * HOUR).date(), datetime.min.time(), tzinfo=UTC)
    first_day = switch - (days - 1) * DAY if days > 1 else switch
    report = ingest_usage(_history_records(first_day, switch, now, sims_with_usage), now=now)
    UsageTick.objects.create(
        queued_at=now, started_at=now, finished_at=now, usage_since=first_day, usage_until=now,
        summary=f"seed_demo's history: {report.summary()}"[:300],
    )  # fmt: skip
    spikes = detect_yesterdays_spikes(now=now)
    return f"{report.summary()} {Sim.objects.filter(state=State.PAUSED).count():,} SIMs paused at their limit, {spikes}."


def _history_records(first_day: datetime, switch: datetime, now: datetime, limit: int | None) -> Iterator[UsageRow]:
    carrier = SimulatorCarrier()
    used = Q(first_activated_at__isnull=False) & ~Q(state=State.ISSUED)
    sims = Sim.objects.filter(used).order_by("pk").values_list(
        "pk", "iccid", "home_country", "state", "first_activated_at", "state_changed_at"
    )  # fmt: skip
    after, left = 0, limit if limit is not None else float("inf")
    while left > 0 and (page := list(sims.filter(pk__gt=after)[: min(CHUNK, left)])):
        after, left = page[-1][0], left - len(page)
        # SIMs with the same window share one call to the carrier.
        windows: dict[tuple[datetime, datetime, timedelta], list[tuple[str, str]]] = defaultdict(list)
        for _, iccid, country, state, activated_at, changed_at in page:
            assert activated_at is not None  # as filtered
            start = max(first_day, datetime.combine(activated_at.date(), datetime.min.time(), tzinfo=UTC))
            on_network = state in (State.ACTIVE, State.PAUSED)
            end = now if on_network else changed_at
            if start < min(end, switch):
                # Day records end at midnight: asked an hour later, the carrier has the last one (it may come late).
                until = switch + HOUR if end > switch else end
                windows[start, until, DAY].append((iccid, country))
            if on_network:
                windows[max(switch, activated_at.replace(minute=0, second=0, microsecond=0)), now, HOUR].append((iccid, country))
        for (since, until, step), group in windows.items():
            yield from carrier.usage_records(sims=group, since=since, until=until, step=step)


SIM_FIELDS = [
    "id", "iccid", "product", "owner_user", "state", "state_changed_at", "home_country", "data_limit_mb",
    "imsi", "msisdn", "first_activated_at", "last_activated_at", "activations_count", "deactivations_count",
    "created_at",
]

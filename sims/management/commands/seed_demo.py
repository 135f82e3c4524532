"""Fill the database with a demo: a signed-in user, products with a team, and a fleet in every state."""

import random
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from console.bulk_insert import bulk_insert, db_datetime, reset_id_sequences
from products.models import Membership, Product
from sims.iccid import luhn_check_digit
from sims.lifecycle import EVENT_FIELDS
from sims.models import Sim, SimEvent, State

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-sim-console"
DEMO_PRODUCT_SLUG = "acme-trackers"
CHUNK = 50_000

# Share of the fleet in each state, and the events that led there (action, from, to, actor).
STATE_MIX = [
    (State.ACTIVE, 0.70),
    (State.PAUSED, 0.05),
    (State.SUSPENDED, 0.09),
    (State.PROVISIONED, 0.05),
    (State.ISSUED, 0.06),
    (State.TERMINATED, 0.05),
]
HISTORY = {
    State.ISSUED: [],
    State.PROVISIONED: [("provision", State.ISSUED, State.PROVISIONED)],
    State.ACTIVE: [("activate", State.ISSUED, State.ACTIVE)],
    State.PAUSED: [("activate", State.ISSUED, State.ACTIVE), ("pause", State.ACTIVE, State.PAUSED)],
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

    def handle(self, *args, sims: int, seed: int, if_empty: bool, **options) -> None:
        if sims < 0:
            raise CommandError("--sims must be 0 or more.")
        if if_empty and Product.objects.exists():
            self.stdout.write("The database already has products; no demo data added.")
            return
        if Product.objects.filter(slug=DEMO_PRODUCT_SLUG).exists():
            self.stdout.write("Demo data is already there; nothing was added.")
            self._print_sign_in()
            return
        started = time.monotonic()
        rng = random.Random(seed)
        with transaction.atomic():
            users = self._create_users()
            product = self._create_products(users)
            demo = users["demo"]
            self._create_fleet(product=product, owner_user=None, count=sims, prefix="8901260", length=19, rng=rng, actor=demo)
            # A developer's own prototyping SIMs, and the carrier's inventory nobody owns yet.
            self._create_fleet(product=None, owner_user=demo, count=min(20, sims), prefix="8934076", length=20, rng=rng, actor=demo)
            self._create_fleet(product=None, owner_user=None, count=min(50, sims), prefix="8944500", length=19, rng=rng, actor=demo, state_mix=[(State.ISSUED, 1.0)])
        self.stdout.write(f"Seeded {sims:,} SIMs in {product.name} in {time.monotonic() - started:.1f} s.")
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
        self, *, product, owner_user, count: int, prefix: str, length: int, rng: random.Random, actor, state_mix=STATE_MIX
    ) -> None:
        next_id = (Sim.objects.aggregate(top=Max("id"))["top"] or 0) + 1
        serial_digits = length - 1 - len(prefix)
        first_serial = rng.randrange(10 ** (serial_digits - 1), 10 ** (serial_digits - 1) * 5)
        now = timezone.now()
        states = [state for state, _ in state_mix]
        weights = [share for _, share in state_mix]
        for start in range(0, count, CHUNK):
            sims, events = [], []
            for offset in range(start, min(count, start + CHUNK)):
                sim_id = next_id + offset
                body = f"{prefix}{first_serial + offset * 7:0{serial_digits}d}"
                state = rng.choices(states, weights)[0]
                sims_row, sim_events = self._sim_rows(sim_id, body + luhn_check_digit(body), state, product, owner_user, now, rng, actor)
                sims.append(sims_row)
                events.extend(sim_events)
            bulk_insert(Sim, SIM_FIELDS, sims)
            bulk_insert(SimEvent, EVENT_FIELDS, events)
            if count > CHUNK:
                self.stdout.write(f"  {min(count, start + CHUNK):,} / {count:,} SIMs")
        reset_id_sequences(Sim, SimEvent)

    def _sim_rows(self, sim_id, iccid, state, product, owner_user, now, rng, actor):
        history = HISTORY[state]
        created = now - timedelta(days=rng.uniform(40, 120))
        times = sorted(now - timedelta(days=rng.uniform(0, 39), seconds=rng.randrange(86400)) for _ in history)
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


SIM_FIELDS = [
    "id", "iccid", "product", "owner_user", "state", "state_changed_at", "home_country", "data_limit_mb",
    "imsi", "msisdn", "first_activated_at", "last_activated_at", "activations_count", "deactivations_count",
    "created_at",
]

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_countries.fields import CountryField

from products.limits import effective_limit_mb


class State(models.TextChoices):
    ISSUED = "issued", "Issued"
    PROVISIONED = "provisioned", "Provisioned"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    SUSPENDED = "suspended", "Suspended"
    TERMINATED = "terminated", "Terminated"


class NetworkStatus(models.TextChoices):
    """Whether the carrier's network has caught up with the console (sims/network.py)."""

    SYNCED = "synced", "On the network as here"
    PENDING = "pending", "Pending on the network"
    FAILED = "failed", "Refused by the carrier"


class Sim(models.Model):
    iccid = models.CharField("ICCID", max_length=20)
    # No database constraints on the owners: on PostgreSQL each is a check per row at commit
    # (~3 s for a million imported SIMs). Products and users are never deleted with SIMs:
    # PROTECT refuses it in the ORM, and the admin's forms check that an owner exists.
    # Its own small index answers "how many SIMs in this product" by an index-only scan.
    product = models.ForeignKey(
        "products.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="sims", db_constraint=False
    )
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sims",
        db_index=False,
        db_constraint=False,
        help_text="A developer prototyping with this SIM outside any product.",
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.ISSUED)
    state_changed_at = models.DateTimeField(default=timezone.now)
    home_country = CountryField(blank=True)
    data_limit_mb = models.PositiveIntegerField(
        "data limit override (MB)", null=True, blank=True, help_text="Empty: the product's default."
    )
    imsi = models.CharField("IMSI", max_length=15, null=True, blank=True)
    msisdn = models.CharField("MSISDN", max_length=15, null=True, blank=True)
    first_activated_at = models.DateTimeField(null=True, blank=True)
    last_activated_at = models.DateTimeField(null=True, blank=True)
    activations_count = models.PositiveIntegerField(default=0)
    deactivations_count = models.PositiveIntegerField(default=0)
    promotion_ends_on = models.DateField(
        null=True, blank=True, help_text="A developer's free 1 MB plan lasts until this day; a transfer ends it."
    )
    # The import batch that last brought this SIM into a product: finds the rows a batch created
    # without a lookup table. No constraint: it is a marker, checked at commit for nothing. Named by
    # string: sims' code imports nothing of imports.
    import_batch = models.ForeignKey(
        "imports.ImportBatch",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The carrier account the SIM is on (decided at import); empty: the console's built-in simulator.
    # Named by string: sims' code imports nothing of carriers.
    carrier_account = models.ForeignKey(
        "carriers.CarrierAccount",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,
        related_name="sims",
    )
    # Whether the carrier has caught up with the state above (sims/network.py): `pending` from the change
    # that needs the network (in its transaction) until the push worker has the carrier's answer.
    network_status = models.CharField(
        max_length=8, choices=NetworkStatus.choices, default=NetworkStatus.SYNCED, db_default=NetworkStatus.SYNCED
    )
    # Bumped by every change that needs the network: the worker marks a SIM synced only if no newer
    # change came meanwhile, and the ICCID with it is the change's idempotency key.
    network_version = models.PositiveIntegerField(default=0, db_default=0)
    network_since = models.DateTimeField(null=True, blank=True, help_text="When the change now pending or failed was made.")
    network_error = models.CharField(max_length=300, blank=True, default="", db_default="")
    network_attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    network_retry_at = models.DateTimeField(null=True, blank=True)
    # The device the SIM is in now (devices/: its history is kept there). Named by string: sims imports nothing of devices.
    device = models.ForeignKey(
        "devices.Device", null=True, blank=True, on_delete=models.SET_NULL, db_constraint=False, related_name="sims"
    )

    class Meta:
        verbose_name = "SIM"
        constraints = [
            # A UniqueConstraint, not unique=True: on PostgreSQL the latter adds
            # a second (pattern) index that costs seconds per million rows.
            models.UniqueConstraint(fields=["iccid"], name="sim_iccid_unique"),
            models.CheckConstraint(
                condition=Q(product__isnull=True) | Q(owner_user__isnull=True),
                name="sim_has_at_most_one_owner",
            ),
            models.CheckConstraint(condition=Q(state__in=State.values), name="sim_state_is_known"),
        ]
        indexes = [
            # The SIMs page lists a product's SIMs in ICCID order, optionally by state or country.
            models.Index(fields=["product", "iccid"], name="sim_product_iccid"),
            models.Index(fields=["product", "state", "iccid"], name="sim_product_state_iccid"),
            models.Index(fields=["product", "home_country", "iccid"], name="sim_product_country_iccid"),
            # Sorted by last state change, pages are cut by (time, ICCID): imported SIMs share their time.
            models.Index(fields=["product", "state_changed_at", "iccid"], name="sim_product_changed_iccid"),
            # Only developers' own SIMs: product SIMs, the millions, skip this index.
            models.Index(
                fields=["owner_user", "iccid"], name="sim_owner_user_iccid", condition=Q(owner_user__isnull=False)
            ),
            # The push worker's queue, and a product's SIMs waiting on or refused by the network: only
            # those rows are in these indexes, never the synced millions.
            models.Index(
                fields=["carrier_account", "network_retry_at", "id"],
                name="sim_network_pending",
                condition=Q(network_status=NetworkStatus.PENDING),
            ),
            # A carrier account's SIMs (its usage, reconciliation); the built-in simulator's are not in it.
            models.Index(
                fields=["carrier_account", "id"], name="sim_carrier_account", condition=Q(carrier_account__isnull=False)
            ),
            models.Index(
                fields=["product", "network_status", "iccid"],
                name="sim_network_unsynced",
                condition=~Q(network_status=NetworkStatus.SYNCED),
            ),
        ]

    def __str__(self) -> str:
        return self.iccid

    @property
    def effective_data_limit_mb(self) -> int:
        return effective_limit_mb(self.data_limit_mb, self.product.default_data_limit_mb if self.product is not None else None)


class SimEvent(models.Model):
    """One change of a SIM, append-only: written with the change, never edited."""

    class ActorKind(models.TextChoices):
        USER = "user", "User"
        TOKEN = "token", "API token"
        SYSTEM = "system", "System"

    # No database constraints on the references: events are append-only rows written beside the
    # change they record, and on PostgreSQL each constraint is one check per row at commit
    # (three of them: ~9 s for a million imported SIMs). Deletions are still refused by the ORM.
    sim = models.ForeignKey(Sim, on_delete=models.PROTECT, related_name="events", db_index=False, db_constraint=False)
    # The owning product when the event happened: history stays with the product after removal.
    product = models.ForeignKey(
        "products.Product",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sim_events",
        db_index=False,
        db_constraint=False,
    )
    action = models.CharField(max_length=20)
    from_state = models.CharField(max_length=12, choices=State.choices)
    to_state = models.CharField(max_length=12, choices=State.choices)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # Username, token name or system rule, kept even if the user is deleted.
    actor_name = models.CharField(max_length=150)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "SIM event"
        indexes = [
            models.Index(fields=["sim", "id"], name="simevent_sim_id"),
            models.Index(fields=["product", "created_at"], name="simevent_product_time"),
        ]

    def __str__(self) -> str:
        return f"{self.sim_id}: {self.from_state} -> {self.to_state} ({self.action})"

    @property
    def actor_label(self) -> str:
        if self.actor_kind == self.ActorKind.SYSTEM:
            return f"System ({self.actor_name})"
        if self.actor_kind == self.ActorKind.TOKEN:
            return f"API token {self.actor_name}"
        return self.actor_name


class UsageRecord(models.Model):
    """A carrier's usage record as delivered. Its record id makes ingestion idempotent;
    pages never read this table (they read the daily rollups below)."""

    record_id = models.CharField(max_length=64)
    # No constraints or indexes beyond the record id: a million rows an hour must go in fast.
    sim = models.ForeignKey(Sim, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+")
    product = models.ForeignKey(
        "products.Product", null=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    bytes_up = models.PositiveBigIntegerField()
    bytes_down = models.PositiveBigIntegerField()
    sms = models.PositiveIntegerField()
    country = CountryField(blank=True, help_text="Visited country.")
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["record_id"], name="usagerecord_id_unique")]

    def __str__(self) -> str:
        return self.record_id


class SimDailyUsage(models.Model):
    """A SIM's usage on one day (UTC), summed from its records: what limits, triggers and charts read."""

    sim = models.ForeignKey(Sim, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+")
    # The product the SIM belonged to when the usage arrived.
    product = models.ForeignKey(
        "products.Product", null=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    day = models.DateField()
    bytes = models.PositiveBigIntegerField(default=0)
    sms = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "SIM daily usage"
        constraints = [models.UniqueConstraint(fields=["sim", "day"], name="simdailyusage_once_per_day")]
        indexes = [models.Index(fields=["product", "day"], name="simdailyusage_product_day")]


class SimPeriodUsage(models.Model):
    """A SIM's usage in one billing period (a calendar month, UTC): what its data limit is held against."""

    sim = models.ForeignKey(
        Sim, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="period_usage"
    )
    # The SIM's product when its usage last arrived: the SIMs page sorts a product's SIMs by usage
    # by walking its index, never the whole product (sims/listing.py).
    product = models.ForeignKey(
        "products.Product", null=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    period = models.DateField(help_text="The first day of the billing period.")
    bytes = models.PositiveBigIntegerField(default=0)
    sms = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "SIM usage per billing period"
        constraints = [models.UniqueConstraint(fields=["sim", "period"], name="simperiodusage_once_per_period")]
        indexes = [models.Index(fields=["product", "period", "bytes"], name="simperiodusage_product_bytes")]


class SimCountryUsage(models.Model):
    """A SIM's data in one billing period in one visited country, in the product it belonged to:
    what roaming on the per-SIM plan, the SIM page's countries and the home-country advisor read.
    A row per SIM and country a month, so its upsert costs about what SimPeriodUsage's does."""

    product = models.ForeignKey(
        "products.Product", on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    period = models.DateField(help_text="The first day of the billing period.")
    sim = models.ForeignKey(Sim, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+")
    country = CountryField(blank=True, help_text="Visited country; empty when the records did not say.")
    bytes = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "SIM usage per visited country"
        constraints = [
            # Billing and the advisor read a product's period; the SIM page one SIM of it.
            models.UniqueConstraint(fields=["product", "period", "sim", "country"], name="simcountryusage_once")
        ]


class ProductDailyUsage(models.Model):
    """A product's usage on one day in one visited country: the fleet page and billing read this."""

    product = models.ForeignKey(
        "products.Product", on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    day = models.DateField()
    country = CountryField(blank=True)
    bytes = models.PositiveBigIntegerField(default=0)
    sms = models.PositiveIntegerField(default=0)
    records = models.PositiveIntegerField(default=0)
    # The end of the newest record counted: the fleet page's "as of".
    newest_record_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "product daily usage"
        constraints = [
            models.UniqueConstraint(fields=["product", "day", "country"], name="productdailyusage_once_per_day")
        ]


class UsageSpike(models.Model):
    """A SIM whose usage on a day was far above its own recent baseline (see sims/spikes.py)."""

    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="+", db_index=False)
    sim = models.ForeignKey(Sim, on_delete=models.CASCADE, related_name="spikes", db_index=False)
    day = models.DateField()
    bytes = models.PositiveBigIntegerField()
    baseline_bytes = models.PositiveBigIntegerField(help_text="Median of the 14 days before.")
    spread_bytes = models.PositiveBigIntegerField(help_text="Median absolute deviation of those 14 days.")
    factor = models.FloatField(help_text="The day's usage over the baseline.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sim", "day"], name="usagespike_once_per_day")]
        indexes = [models.Index(fields=["product", "day"], name="usagespike_product_day")]


class UsageTick(models.Model):
    """One run of the periodic work (sims/periodic.py): fetching usage from the carrier, unpausing
    for a new period, time triggers, spikes. A scheduled tick owns its slot (unique), so however
    many workers finish ticks at once, each slot is queued once; a tick run by hand has none.
    The newest `usage_until` of a finished tick is where the next fetch starts (less an hour)."""

    slot = models.DateTimeField(null=True, blank=True, help_text="When the scheduled tick is due; empty: run by hand.")
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    usage_since = models.DateTimeField(null=True, blank=True)
    usage_until = models.DateTimeField(null=True, blank=True)
    summary = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["slot"], name="usagetick_once_per_slot")]
        indexes = [models.Index(fields=["usage_until"], name="usagetick_usage_until")]

    def __str__(self) -> str:
        return f"Usage tick {self.slot or 'by hand'}"


class SimStateDelta(models.Model):
    """How many SIMs of a product entered (+) or left (-) a state, written by triggers on the SIM table
    (sims/state_counts.py). PostgreSQL: a row per statement that changes states or owners, only added,
    never updated, so concurrent writers never wait on a counter; the periodic work folds them into one
    row per product and state. SQLite (one writer at a time): one row per product and state, which its
    row triggers add to."""

    product_id = models.BigIntegerField()
    state = models.CharField(max_length=12)
    sims = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["product_id", "state"], name="simstatedelta_product_state")]


class SimConnectivityDelta(models.Model):
    """How many SIMs of a product entered (+) or left (-) a connectivity status, written by triggers on
    SimConnectivity (sims/connectivity_counts.py). PostgreSQL: a row per statement that changes statuses,
    as SimStateDelta is for states, added only, folded by the periodic work. SQLite: one row per product
    and status (a unique index there), which its row triggers add to."""

    product_id = models.BigIntegerField()
    status = models.CharField(max_length=8)
    sims = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["product_id", "status"], name="simconndelta_product_status")]


class SimOfflineHourDelta(models.Model):
    """How many of a product's offline SIMs went offline in each hour (`since` to the hour, UTC): +1 as a SIM
    goes offline since a moment of that hour, -1 as it leaves it; written by triggers on SimConnectivity
    (migration 0026) as SimConnectivityDelta is (PostgreSQL: rows per statement, folded by the periodic
    work; SQLite: one row per product and hour). "Offline for more than 24 h" sums the last day's rows
    (sims/connectivity_counts.py) instead of counting the SIMs offline since then."""

    product_id = models.BigIntegerField()
    hour = models.DateTimeField()
    sims = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["product_id", "hour"], name="simofflinehour_product_hour")]


class DomainEvent(models.Model):
    """The outbox: what a lifecycle chunk, an import batch or a finished import did, written in that
    change's own transaction and kept until its subscribers (webhooks) have taken it (sims/events.py).
    One row per chunk or batch and product, carrying its changes grouped, never one per SIM."""

    class Kind(models.TextChoices):
        SIMS_CHANGED = "sims.changed", "SIMs changed"
        IMPORT_FINISHED = "import.finished", "Import finished"
        IMEI_MISMATCH = "imei.mismatch", "IMEI mismatch"
        SMS_RECEIVED = "sms.received", "SMS received"
        # A product's rule fired for SIMs (rules/): notifications email, webhooks deliver.
        RULE_FIRED = "rule.fired", "Rule fired"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The product the SIMs are filed under (sims.lifecycle's event rows); empty: SIMs of no product.
    product = models.ForeignKey("products.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # What happened, in the shape sims/events.py documents: action, actor, occurred_at, the changes...
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["created_at"], name="domainevent_created_at")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class BulkJob(models.Model):
    """A bulk action on more SIMs than a request should change (sims/bulk_jobs.py): run by a worker in
    chunks of SIMs by id, each chunk committed with the job's counters, so a job a worker left
    half-done continues after its last committed chunk and acts on no SIM twice."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        REFUSED = "refused", "Refused"

    product = models.ForeignKey("products.Product", on_delete=models.PROTECT, related_name="bulk_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bulk_jobs")
    # The form's one-time token: a second submission of the same form finds this job, not a new one.
    submission = models.CharField(max_length=64)
    action = models.CharField(max_length=20)
    data_limit_mb = models.PositiveIntegerField(null=True, blank=True)
    unpause = models.BooleanField(default=False)
    # Which SIMs: the SIMs page's filter (state, country, q, spiking_on), or the ids ticked.
    filters = models.JSONField(default=dict, blank=True)
    sim_ids = models.JSONField(null=True, blank=True)
    # How the person saw it: "state Active, home country France" or "12,000 selected SIMs".
    described = models.CharField(max_length=300, blank=True)
    # The number of SIMs the person typed to confirm (None: an action that asks for none), and the SIMs
    # matching when the worker began: a job whose SIMs are not the number confirmed is refused.
    confirmed_count = models.PositiveIntegerField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # Counted chunk by chunk, in the chunk's own transaction.
    last_sim_id = models.BigIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    paused = models.PositiveIntegerField(default=0)
    unpaused = models.PositiveIntegerField(default=0)
    # Refusal reason -> SIMs (already in that state, an illegal transition, moved meanwhile).
    skipped = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "submission"], name="bulkjob_once_per_submission")]
        indexes = [models.Index(fields=["product", "-created_at"], name="bulkjob_product_recent")]

    def __str__(self) -> str:
        return f"Bulk {self.action} #{self.pk} in {self.product_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.REFUSED)

    @property
    def skipped_count(self) -> int:
        return sum(self.skipped.values())

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(100, self.processed * 100 // self.total) if self.total else 0


class NetworkEvent(models.Model):
    """What the network saw of a SIM (sims/network_events.py): attach, detach, a data session's start and end,
    a location update, an authentication reject. Delivered by the carrier (pushed, or fetched through its
    adapter); its event id makes ingestion idempotent, as a usage record's does."""

    class Kind(models.TextChoices):
        ATTACH = "attach", "Attached"
        DETACH = "detach", "Detached"
        SESSION_START = "session_start", "Data session started"
        SESSION_END = "session_end", "Data session ended"
        LOCATION = "location", "Location update"
        AUTH_REJECT = "auth_reject", "Rejected by the network"

    event_id = models.CharField(max_length=64)
    sim = models.ForeignKey(Sim, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+")
    # The product the SIM was in when the event arrived.
    product = models.ForeignKey(
        "products.Product", null=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField()
    imei = models.CharField("IMEI", max_length=16, blank=True)
    # The network the SIM is on: its name and MCC-MNC ("Telekom.de 262-01"), the visited country, the radio.
    operator = models.CharField(max_length=60, blank=True)
    country = CountryField(blank=True)
    rat = models.CharField("radio access technology", max_length=10, blank=True, help_text="2G, 3G, 4G, 5G, LTE-M, NB-IoT")
    cell = models.CharField(max_length=40, blank=True)
    # A reject's cause as the network gave it ("IMSI unknown in HLR", "Roaming not allowed").
    cause = models.CharField(max_length=120, blank=True)
    # A session's data, on session_end.
    bytes = models.PositiveBigIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event_id"], name="networkevent_id_unique")]
        indexes = [models.Index(fields=["sim", "at"], name="networkevent_sim_at")]

    def __str__(self) -> str:
        return f"{self.kind} of SIM {self.sim_id} at {self.at:%Y-%m-%d %H:%M}"


class Connectivity(models.TextChoices):
    ONLINE = "online", "Online"  # in a data session
    ATTACHED = "attached", "Attached"  # on the network, no data session
    OFFLINE = "offline", "Offline"  # detached, or not heard of
    UNKNOWN = "unknown", "Never seen"


class SimConnectivity(models.Model):
    """Where each SIM stands with the network, kept from its network events (sims/network_events.py):
    one row per SIM that has had one, read by the SIM page, the SIMs page's counts, filter and column."""

    sim = models.OneToOneField(Sim, primary_key=True, on_delete=models.CASCADE, db_constraint=False, related_name="connectivity")
    product = models.ForeignKey(
        "products.Product", null=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    status = models.CharField(max_length=8, choices=Connectivity.choices, default=Connectivity.UNKNOWN)
    # Since when in that status: "offline since" for an offline SIM.
    since = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_attach_at = models.DateTimeField(null=True, blank=True)
    last_session_start_at = models.DateTimeField(null=True, blank=True)
    last_session_end_at = models.DateTimeField(null=True, blank=True)
    operator = models.CharField(max_length=60, blank=True)
    country = CountryField(blank=True)
    rat = models.CharField(max_length=10, blank=True)
    imei = models.CharField("IMEI", max_length=16, blank=True)
    last_reject_at = models.DateTimeField(null=True, blank=True)
    last_reject_cause = models.CharField(max_length=120, blank=True)
    # Reset connectivity (through the carrier), until the next attach.
    reset_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "SIM connectivity"
        indexes = [models.Index(fields=["product", "status", "since"], name="simconnectivity_product_status")]

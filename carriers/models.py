from django.conf import settings as django_settings
from django.db import models
from django.utils import timezone


class CarrierAccount(models.Model):
    """A product's account at a carrier: which adapter, its settings, its credentials (encrypted,
    carriers/credentials.py) and the ICCID ranges it owns. A product with no account uses the
    console's built-in simulator (settings.CARRIER_ADAPTER)."""

    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="carrier_accounts")
    name = models.CharField(max_length=80)
    adapter = models.CharField(max_length=20, help_text="simulator, twilio or emnify (carriers/adapters).")
    # Not secret: an API's base URL, Twilio's fleet names, the simulator's inventory and latency.
    settings = models.JSONField(default=dict, blank=True)
    # A Fernet token of the credentials' JSON; never decrypted for display.
    credentials = models.TextField(blank=True, editable=False)
    # Issuer prefixes (digits, comma-separated): an imported ICCID goes to the account with the
    # longest prefix it starts with; an account without prefixes takes what no other account claims.
    iccid_prefixes = models.CharField("ICCID prefixes", max_length=300, blank=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Health, written by every call the push worker, reconciliation and imports make.
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_failure = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["product", "name"], name="carrieraccount_name_per_product")]

    def __str__(self) -> str:
        return self.name

    @property
    def prefixes(self) -> list[str]:
        return [prefix.strip() for prefix in self.iccid_prefixes.split(",") if prefix.strip()]


class SimulatedSim(models.Model):
    """The simulator's network: what the simulated carrier holds and the state each SIM is in there.
    A row appears when the simulator first acts on a SIM of its inventory."""

    class Status(models.TextChoices):
        ACTIVE = "active", "On the network"
        PAUSED = "paused", "Registered, data off"
        SUSPENDED = "suspended", "Off the network"
        TERMINATED = "terminated", "Terminated"

    # Empty: the built-in simulator of products without a carrier account.
    account = models.ForeignKey(CarrierAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    iccid = models.CharField("ICCID", max_length=20)
    status = models.CharField(max_length=12, choices=Status.choices)
    data_limit_mb = models.PositiveIntegerField(null=True, blank=True)
    # Requests that changed nothing (the same state asked again) are counted, not applied: the proof
    # that sending a change twice is harmless.
    changes = models.PositiveIntegerField(default=0)
    repeats = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    # Reset connectivity asked and not yet followed by an attach (cleared by the next simulated attach).
    reset_requested_at = models.DateTimeField(null=True, blank=True)
    resets = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["iccid"], name="simulatedsim_iccid_unique")]

    def __str__(self) -> str:
        return f"{self.iccid} ({self.status})"


class PushLease(models.Model):
    """One push worker per carrier account at a time (carriers/push.py): a worker holds the account's
    lease until `until` and extends it batch by batch; a killed worker's lease runs out and the next
    worker takes over. `account_key` is the account's id, 0 for the built-in simulator."""

    account_key = models.PositiveBigIntegerField(unique=True)
    holder = models.CharField(max_length=40, blank=True)
    until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Push lease of account {self.account_key}"


class CarrierCall(models.Model):
    """One call the console made to a carrier (carriers/health.py): the account's error rate and last
    success on the Settings page and the fleet header. Kept a week."""

    account_key = models.PositiveBigIntegerField(help_text="The carrier account's id; 0: the built-in simulator.")
    what = models.CharField(max_length=40)
    ok = models.BooleanField()
    error = models.CharField(max_length=300, blank=True)
    sims = models.PositiveIntegerField(default=0)
    # Of a push's `sims` the carrier answered, those it refused (a failed call failed them all).
    refused = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["account_key", "at"], name="carriercall_account_at")]


class NetworkDifference(models.Model):
    """One difference between the console and a carrier, found by reconciliation
    (carriers/reconciliation.py); an account's rows are replaced by each run."""

    class Kind(models.TextChoices):
        STATE = "state", "Different state"
        NOT_HERE = "not_here", "At the carrier, not in the console"
        NOT_AT_CARRIER = "not_at_carrier", "In the console, not at the carrier"

    account_key = models.PositiveBigIntegerField(help_text="The carrier account's id; 0: the built-in simulator.")
    # The product the SIM is in (for NOT_HERE: the account's product), for the product's page.
    product = models.ForeignKey("products.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Empty for a SIM the console does not have.
    sim = models.ForeignKey("sims.Sim", null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    iccid = models.CharField("ICCID", max_length=20)
    # Our state (sims.State) when found, and the SIM's network version then: a fix applies only to a
    # SIM that has not changed since.
    ours = models.CharField(max_length=12, blank=True)
    sim_version = models.PositiveIntegerField(default=0)
    # The carrier's state in the console's words (sims.network.Target); empty: never activated there, or absent.
    theirs = models.CharField(max_length=12, blank=True)
    carrier_status = models.CharField(max_length=60, blank=True)
    since = models.DateTimeField(null=True, blank=True)
    found_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["iccid", "id"]
        indexes = [
            models.Index(fields=["account_key", "kind", "iccid"], name="netdiff_account_kind"),
            models.Index(fields=["account_key", "iccid"], name="netdiff_account_iccid"),
        ]

    def __str__(self) -> str:
        return f"{self.iccid}: {self.describe()}"

    def describe(self) -> str:
        """In a person's words: "active here, suspended at the carrier since 2026-12-07 14:02"."""
        since = f" since {timezone.localtime(self.since):%Y-%m-%d %H:%M}" if self.since else ""
        if self.kind == self.Kind.NOT_HERE:
            return f"at the carrier ({self.theirs or self.carrier_status}{since}), not in the console"
        if self.kind == self.Kind.NOT_AT_CARRIER:
            return f"{self.ours} here, not at the carrier"
        theirs = self.theirs or f"not activated ({self.carrier_status})"
        return f"{self.ours} here, {theirs} at the carrier{since}"


class AccountRoutine(models.Model):
    """What the periodic work last did for a carrier account (`account_key`, 0: the built-in simulator):
    its last reconciliation (at most one an hour) and the end of its last usage and network events fetches."""

    account_key = models.PositiveBigIntegerField(unique=True)
    reconciled_at = models.DateTimeField(null=True, blank=True, help_text="When the last reconciliation started.")
    reconciled_until = models.DateTimeField(null=True, blank=True, help_text="When the last reconciliation finished.")
    reconciliation_summary = models.CharField(max_length=300, blank=True)
    # The start of the newest run that finished: its differences are the ones kept (two runs at once,
    # the tick's and a Check now, leave the newer one's).
    completed_run = models.DateTimeField(null=True, blank=True)
    usage_until = models.DateTimeField(null=True, blank=True, help_text="The end of the last usage window fetched.")
    events_until = models.DateTimeField(null=True, blank=True, help_text="The end of the last network events window fetched.")
    sms_until = models.DateTimeField(null=True, blank=True, help_text="The end of the last window of device SMS fetched.")

    def __str__(self) -> str:
        return f"Routine of account {self.account_key}"


class SmsMessage(models.Model):
    """One SMS to or from a SIM (carriers/sms.py). A message to the device (MT) is recorded `queued` in
    the request that sends it, and the SMS worker carries it to the SIM's carrier, retrying while the
    carrier is unavailable; the carrier's delivery reports move it to `delivered` or `failed`. A message
    from the device (MO) arrives `received`, by the carrier's push or the tick's fetch. A message still
    queued, not yet handed to the carrier, can be `canceled` (carriers.sms.cancel_queued)."""

    class Direction(models.TextChoices):
        MT = "mt", "To the device"
        MO = "mo", "From the device"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        RECEIVED = "received", "Received"
        CANCELED = "canceled", "Canceled"

    sim = models.ForeignKey("sims.Sim", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("products.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # The carrier account the SIM was on when the message was sent or came (None: the built-in simulator).
    account_key = models.PositiveBigIntegerField(default=0, help_text="The carrier account's id; 0: the built-in simulator.")
    direction = models.CharField(max_length=2, choices=Direction.choices)
    body = models.CharField(max_length=160)
    status = models.CharField(max_length=10, choices=Status.choices)
    reason = models.CharField(max_length=300, blank=True, help_text="Why it failed, or why it is still queued.")
    carrier_message_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    batch = models.ForeignKey("SmsBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    # The worker's bookkeeping: tries while the carrier was unavailable, when to try again, who holds it now.
    attempts = models.PositiveIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["sim", "-created_at", "-id"], name="sms_sim_newest"),
            models.Index(fields=["product", "-created_at", "-id"], name="sms_product_newest"),
            models.Index(fields=["account_key", "status"], name="sms_account_status"),
        ]
        constraints = [
            # The same message pushed or fetched twice is stored once.
            models.UniqueConstraint(
                fields=["account_key", "carrier_message_id"],
                condition=models.Q(direction="mo"),
                name="sms_mo_once_per_carrier_id",
            )
        ]

    def __str__(self) -> str:
        return f"SMS {self.direction} {self.status} #{self.pk}"

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.DELIVERED, self.Status.FAILED, self.Status.RECEIVED, self.Status.CANCELED)


class SmsBatch(models.Model):
    """A "Send SMS" to every SIM of a filter on the SIMs page: the template, the filter and its progress.
    Up to SMS_BULK_JOB_ABOVE_SIMS SIMs, its messages are recorded in the request; above, by a worker in
    chunks (carriers/sms.py, `expand_batch`), resumed after its last SIM if the worker dies."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Recording the messages"
        DONE = "done", "Messages recorded"
        FAILED = "failed", "Failed"

    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="+")
    template = models.CharField(max_length=300)
    filters = models.JSONField(default=dict, blank=True)
    described = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    recorded = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="SIMs whose message came out too long.")
    last_sim_id = models.PositiveBigIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"SMS batch #{self.pk} ({self.status})"


class SimulatedSms(models.Model):
    """The simulator's SMS centre: what it was asked to send, when it delivers, and the answers devices
    send back (MO)."""

    account = models.ForeignKey(CarrierAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    message_id = models.CharField(max_length=64, unique=True)
    iccid = models.CharField("ICCID", max_length=20)
    direction = models.CharField(max_length=2)
    body = models.CharField(max_length=160)
    at = models.DateTimeField(help_text="MT: when it is delivered; MO: when it reaches the carrier.")

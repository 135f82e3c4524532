from django.conf import settings as django_settings
from django.db import models
from django.utils import timezone


class Device(models.Model):
    """A product's device: what its SIMs sit in. `device_id` is the id the team's own systems use
    (Particle's 24-hex device id, a serial number), unique in the product."""

    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="devices")
    device_id = models.CharField("device ID", max_length=64)
    name = models.CharField(max_length=100, blank=True)
    imei = models.CharField("IMEI", max_length=16, blank=True)
    # The device model, from the IMEI's first 8 digits (its TAC, devices/tac.py) or typed.
    model = models.CharField(max_length=100, blank=True)
    tags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "device_id"]
        constraints = [models.UniqueConstraint(fields=["product", "device_id"], name="device_id_per_product")]
        indexes = [
            models.Index(fields=["product", "name"], name="device_product_name"),
            models.Index(fields=["product", "imei"], name="device_product_imei"),
        ]

    def __str__(self) -> str:
        return self.name or self.device_id

    @property
    def tac(self) -> str:
        return self.imei[:8]


class DeviceAssignment(models.Model):
    """A SIM in a device from `started_at` until `ended_at` (empty: still there). A SIM is in at most one
    device at a time (Sim.device is the current one); the history stays."""

    class Source(models.TextChoices):
        NETWORK = "network", "Network attach"
        API = "api", "API"
        HAND = "hand", "Set by hand"

    sim = models.ForeignKey("sims.Sim", on_delete=models.CASCADE, db_constraint=False, related_name="device_assignments")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="assignments")
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    by_user = models.ForeignKey(django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["sim", "started_at"], name="assignment_sim_started"),
            models.Index(fields=["device", "started_at"], name="assignment_device_started"),
        ]

    def __str__(self) -> str:
        return f"SIM {self.sim_id} in {self.device_id} from {self.started_at:%Y-%m-%d}"


# --- The IMEI lock (devices/imei_lock.py) -----------------------------------------------------------


class LockMode(models.TextChoices):
    OFF = "off", "Off"
    FIRST = "first", "Lock to the first IMEI seen"
    TACS = "tacs", "Allow only these device models (TACs)"
    FIXED = "fixed", "Lock to one IMEI"


class ImeiLock(models.Model):
    """A product's IMEI lock: what every SIM of it accepts, unless the SIM has its own mode
    (SimImeiLock.mode). Without a row the lock is off. While `swap_until` is in the future, a new
    IMEI on any SIM of the product is accepted and becomes that SIM's locked one (a repair)."""

    product = models.OneToOneField("products.Product", on_delete=models.CASCADE, related_name="imei_lock")
    mode = models.CharField(max_length=8, choices=LockMode.choices, default=LockMode.OFF)
    # TACs: the first 8 digits of the IMEIs of the device models allowed.
    tacs = models.JSONField(default=list, blank=True)
    imei = models.CharField("fixed IMEI", max_length=16, blank=True)
    suspend = models.BooleanField("suspend the SIM on a mismatch", default=False)
    notify = models.BooleanField("notify the team on a mismatch", default=True)
    swap_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"IMEI lock of product {self.product_id}: {self.mode}"


class SimImeiLock(models.Model):
    """One SIM's lock: its own mode (empty: the product's), and what the lock keeps for it: the IMEI it is
    locked to (the first seen, or the one a swap window accepted) and its own swap window."""

    sim = models.OneToOneField("sims.Sim", on_delete=models.CASCADE, db_constraint=False, related_name="imei_lock")
    mode = models.CharField(max_length=8, choices=LockMode.choices, blank=True)  # "": the product's
    tacs = models.JSONField(default=list, blank=True)
    imei = models.CharField("fixed IMEI", max_length=16, blank=True)
    # Lock to the first IMEI seen: the one seen first (or accepted in a swap window), and when.
    locked_imei = models.CharField(max_length=16, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    swap_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"IMEI lock of SIM {self.sim_id}: {self.mode or 'product'}"


class ImeiMismatch(models.Model):
    """A network event whose IMEI the SIM's lock refused, and what was done about it. One per
    network event (its id): the same event delivered twice is recorded once."""

    class Action(models.TextChoices):
        RECORDED = "recorded", "Recorded"
        NOTIFIED = "notified", "Recorded, team notified"
        SUSPENDED = "suspended", "SIM suspended"
        NOT_SUSPENDED = "not_suspended", "Suspend refused"

    sim = models.ForeignKey("sims.Sim", on_delete=models.CASCADE, db_constraint=False, related_name="imei_mismatches")
    product = models.ForeignKey("products.Product", null=True, on_delete=models.CASCADE, related_name="+", db_index=False)
    event_id = models.CharField(max_length=64)
    expected = models.CharField(max_length=200)  # "35 123456 ...", or "TAC 35123456, 86012345"
    seen = models.CharField(max_length=16)
    at = models.DateTimeField()
    action = models.CharField(max_length=16, choices=Action.choices)
    detail = models.CharField(max_length=300, blank=True)  # why a suspend was refused
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [models.UniqueConstraint(fields=["event_id"], name="imeimismatch_event_once")]
        indexes = [models.Index(fields=["sim", "at"], name="imeimismatch_sim_at")]

    def __str__(self) -> str:
        return f"SIM {self.sim_id}: {self.seen} seen, expected {self.expected}"

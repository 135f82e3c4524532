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

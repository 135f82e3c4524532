"""What people are told, and what each chose to be told, per product."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Kind(models.TextChoices):
    IMPORT_FINISHED = "import_finished", "An import you started finishes"
    SIMS_PAUSED = "sims_paused", "SIMs are paused at their data limit (one digest an hour)"
    SPIKES = "spikes", "Yesterday's usage spikes (one digest a day)"
    IMEI_MISMATCH = "imei_mismatch", "A SIM is seen in a device its IMEI lock refuses"
    RULE_FIRED = "rule_fired", "A rule that emails you fires"
    RULE_APPROVAL = "rule_approval", "A rule waits for approval to act on many SIMs"
    BUDGET = "budget", "The month's cost reaches an alert of the budget (for those the budget names)"


class Preference(models.Model):
    """A person's choice for one kind in one product. Without a row the defaults hold
    (notifications.preferences.DEFAULTS)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    email = models.BooleanField()
    in_console = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "kind", "user"], name="preference_once")]


class Notification(models.Model):
    """One person told one thing: in the console's list, by email, or both. The email is sent once
    (`emailed_at`), by the task queued with the row (notifications.emails)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    # Paths in the console (the email makes them absolute with CONSOLE_BASE_URL): the main link, and
    # the items listed under the body (the ICCIDs of a digest), [label, path] each.
    url = models.CharField(max_length=500)
    items = models.JSONField(default=list, blank=True)
    link_text = models.CharField(max_length=100, help_text="The words of the main link: 'Open the import', 'and 480 more'.")
    in_console = models.BooleanField()
    email = models.BooleanField()
    emailed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The list, newest first, and the top bar's unread count.
            models.Index(fields=["user", "-id"], name="notification_user_newest", condition=Q(in_console=True)),
            models.Index(fields=["user"], name="notification_user_unread", condition=Q(in_console=True, read_at__isnull=True)),
            # Emails whose task did not send them (the tick sends them late).
            models.Index(fields=["created_at"], name="notification_email_unsent", condition=Q(email=True, emailed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.title

    def mark_read(self) -> None:
        if self.read_at is None:
            self.read_at = timezone.now()
            self.save(update_fields=["read_at"])


class Digest(models.Model):
    """One product's digest of one kind for one window (the paused SIMs of an hour, the spikes of a
    day). Unique per (product, kind, window): sent once (`sent_at`), however many ticks or workers
    run it. Paused SIMs are counted in as their events are published; the first ICCIDs are kept."""

    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    iccids = models.JSONField(default=list, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "kind", "window_start"], name="digest_once_per_window")]
        indexes = [models.Index(fields=["window_start"], name="digest_unsent", condition=Q(sent_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.kind} digest of {self.product_id} from {self.window_start:%Y-%m-%d %H:%M}"


class DigestDay(models.Model):
    """The daily digests of a kind written for a day, every product at once: later ticks skip it."""

    kind = models.CharField(max_length=20, choices=Kind.choices)
    day = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "day"], name="digestday_once")]

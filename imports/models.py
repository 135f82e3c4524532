"""An import and its committed batches. Their tables keep the names they had in sims/."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_countries.fields import CountryField

from sims.models import SimEvent


class ImportJob(models.Model):
    """Importing and activating a list of ICCIDs into a product, as a resumable background job."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    product = models.ForeignKey("products.Product", on_delete=models.PROTECT, related_name="import_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="import_jobs")
    # The API token the job came through, named as its events name it (kept if the token goes);
    # empty when a member started it in the console.
    token_name = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # The carrier account chosen on the review page for the ICCIDs no account's prefix routes
    # (carriers/routing.py); empty: the routing's own (the account without prefixes, if any).
    unrouted_account = models.ForeignKey(
        "carriers.CarrierAccount", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    country = CountryField(blank=True)
    # The input exactly as given: typed or pasted ICCIDs, and an uploaded file.
    typed_text = models.TextField(blank=True)
    input_file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    input_filename = models.CharField(max_length=200, blank=True)
    # Filled when the input is read: the denominator of the progress bar.
    lines = models.PositiveIntegerField(default=0)
    valid = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    ignored = models.PositiveIntegerField(default=0)
    # Outcomes, counted batch by batch in the batch's own transaction.
    processed = models.PositiveIntegerField(default=0)
    batch_size = models.PositiveIntegerField(default=5000)
    # Batches are cut from the valid ICCIDs sorted, so each batch fills a narrow range of every
    # ICCID index. Jobs from before this field was added were cut in input order, and resume so.
    batches_in_iccid_order = models.BooleanField(default=True)
    batches_done = models.PositiveIntegerField(default=0)
    activated = models.PositiveIntegerField(default=0)
    transferred = models.PositiveIntegerField(default=0)
    already_in_product = models.PositiveIntegerField(default=0)
    other_owner = models.PositiveIntegerField(default=0)
    terminated = models.PositiveIntegerField(default=0)
    carrier_refused = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "sims_importjob"  # from before imports/ was its own app
        indexes = [models.Index(fields=["product", "-created_at"], name="importjob_product_recent")]

    def __str__(self) -> str:
        return f"Import {self.pk} into {self.product_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    # Who the job's events name, as any other change's: the token for an API call, else the member.
    @property
    def actor_kind(self) -> str:
        return SimEvent.ActorKind.TOKEN if self.token_name else SimEvent.ActorKind.USER

    @property
    def actor_name(self) -> str:
        return self.token_name or self.created_by.get_username()

    @property
    def started_by(self) -> str:
        return f"API token {self.token_name}" if self.token_name else self.created_by.get_username()

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE or not self.valid:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, self.processed * 100 // self.valid)


class ImportBatch(models.Model):
    """One committed batch of an import: written in the same transaction as its SIMs, events and charge,
    so a batch is done exactly once even if a worker dies and another one resumes the job."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="batches")
    number = models.PositiveIntegerField()
    # One letter per ICCID of the batch, in the job's batch order (see imports.importing.OUTCOMES).
    outcomes = models.TextField()
    carrier_refusals = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "sims_importbatch"  # from before imports/ was its own app
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="importbatch_once_per_job")]
        ordering = ["job", "number"]

from django.conf import settings
from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    default_data_limit_mb = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Applied to SIMs imported from now on. Empty means the console default (5 MB).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_default_data_limit_mb(self) -> int:
        if self.default_data_limit_mb is None:
            return settings.DEFAULT_DATA_LIMIT_MB
        return self.default_data_limit_mb


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "product"], name="one_membership_per_user_and_product")]
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.product} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN

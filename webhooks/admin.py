from django.contrib import admin

from webhooks.models import Webhook, WebhookDelivery


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["url", "product", "is_active", "created_by", "created_at"]
    list_filter = ["is_active", "product"]
    search_fields = ["url", "product__name"]
    list_select_related = ["product", "created_by"]
    exclude = ["secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The log of what was sent: read-only."""

    list_display = ["uuid", "webhook", "kind", "status", "attempts", "last_status_code", "next_attempt_at"]
    list_filter = ["status", "kind"]
    search_fields = ["uuid", "webhook__url"]
    list_select_related = ["webhook"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

from django.contrib import admin

from api.models import ApiToken, BlacklistedOperator, EndpointSettings


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Secrets are never shown (only their hash is kept); an admin may revoke by setting revoked_at."""

    list_display = ["name", "hint", "user", "product", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["product"]
    search_fields = ["name", "hint", "user__username", "product__name"]
    list_select_related = ["user", "product"]
    readonly_fields = ["secret_hash", "hint", "user", "product", "scopes", "created_at", "last_used_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(EndpointSettings)
class EndpointSettingsAdmin(admin.ModelAdmin):
    """What the emnify dialect keeps of an endpoint (a device) beyond the device itself."""

    list_display = ["device", "status"]
    list_filter = ["status"]
    raw_id_fields = ["device"]


@admin.register(BlacklistedOperator)
class BlacklistedOperatorAdmin(admin.ModelAdmin):
    list_display = ["device", "operator_id", "created_at"]
    raw_id_fields = ["device"]

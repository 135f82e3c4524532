from django.contrib import admin

from notifications.models import Digest, Notification, Preference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "product", "kind", "in_console", "email", "emailed_at", "read_at", "created_at"]
    list_filter = ["kind", "in_console", "email"]
    search_fields = ["title", "user__username", "product__name"]
    list_select_related = ["user", "product"]


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    list_display = ["product", "kind", "window_start", "count", "sent_at"]
    list_filter = ["kind"]
    list_select_related = ["product"]


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "product", "kind", "email", "in_console"]
    list_filter = ["kind"]
    list_select_related = ["user", "product"]

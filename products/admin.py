from django.contrib import admin

from products.models import Invitation, Membership, Product


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "pricing_model", "plan_zone", "default_data_limit_mb", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "product", "role", "joined_at"]
    list_filter = ["role", "product"]
    search_fields = ["user__username", "user__email", "product__name"]
    list_select_related = ["user", "product"]
    autocomplete_fields = ["user", "product"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "product", "role", "invited_by", "created_at", "accepted_at", "revoked_at"]
    list_filter = ["role", "product"]
    search_fields = ["email", "product__name"]
    list_select_related = ["product", "invited_by"]
    # The token's hash is of no use to anyone reading it; links are made only when sending.
    readonly_fields = ["token_hash", "created_at", "accepted_at", "accepted_by"]

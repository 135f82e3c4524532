from django.contrib import admin

from products.models import Charge, Membership, Product, RateZone, ZoneCountry


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "default_data_limit_mb", "created_at"]
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


class ZoneCountryInline(admin.TabularInline):
    model = ZoneCountry
    extra = 0


@admin.register(RateZone)
class RateZoneAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "plan_monthly_price", "plan_included_mb", "overage_per_mb"]
    search_fields = ["code", "name"]
    inlines = [ZoneCountryInline]


@admin.register(ZoneCountry)
class ZoneCountryAdmin(admin.ModelAdmin):
    list_display = ["country", "zone"]
    list_filter = ["zone"]
    list_editable = ["zone"]
    search_fields = ["country"]
    list_select_related = ["zone"]


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):
    list_display = ["created_at", "product", "user", "kind", "zone", "quantity", "unit_price", "amount", "period_start"]
    list_filter = ["kind", "zone", "period_start"]
    search_fields = ["product__name", "user__username", "description"]
    list_select_related = ["product", "user", "zone"]

    # The ledger is what invoices are built from: corrections are new lines, never edits.
    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

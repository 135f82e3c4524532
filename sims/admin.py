from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils import timezone

from sims.lifecycle import Action, Actor, apply_action
from sims.limits import change_sims
from sims.network import pending_updates
from sims.models import (
    BulkJob,
    DomainEvent,
    NetworkEvent,
    ProductDailyUsage,
    Sim,
    SimConnectivity,
    SimCountryUsage,
    SimDailyUsage,
    SimEvent,
    SimPeriodUsage,
    SimStateDelta,
    SimConnectivityDelta,
    SimOfflineHourDelta,
    State,
    UsageRecord,
    UsageSpike,
    UsageTick,
)


def _lifecycle_admin_action(action: Action):
    def run(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Sim]) -> None:
        report = apply_action(sims=queryset, action=action, actor=Actor.for_user(request.user), reason="Django admin")
        modeladmin.message_user(request, report.summary(), messages.SUCCESS if report.done else messages.WARNING)
        for reason, count in report.refused_by_reason.most_common():
            modeladmin.message_user(request, f"{count} refused: {reason}", messages.WARNING)

    run.__name__ = f"lifecycle_{action.value}"
    return admin.action(description=f"{action.label} selected SIMs")(run)


class SimEventInline(admin.TabularInline):
    model = SimEvent
    extra = 0
    can_delete = False
    ordering = ["-id"]
    fields = readonly_fields = ("created_at", "action", "from_state", "to_state", "actor_kind", "actor_name", "reason")

    def has_add_permission(self, request: HttpRequest, obj: Sim | None = None) -> bool:
        return False


@admin.register(Sim)
class SimAdmin(admin.ModelAdmin):
    list_display = ["iccid", "state", "product", "owner_user", "home_country", "data_limit_mb", "state_changed_at"]
    list_filter = ["state", "home_country", "product"]
    search_fields = ["iccid", "imsi", "msisdn"]
    list_select_related = ["product", "owner_user"]
    readonly_fields = [
        "state",
        "state_changed_at",
        "first_activated_at",
        "last_activated_at",
        "activations_count",
        "deactivations_count",
        "created_at",
        # Decided at import, and written by the push worker: never set by hand.
        "carrier_account",
        "network_status",
        "network_version",
        "network_since",
        "network_error",
        "network_attempts",
        "network_retry_at",
        # The device it is in: put in and taken out through devices/assignment.py, which keeps the history.
        "device",
    ]
    raw_id_fields = ["product", "owner_user"]
    # A million SIMs: no full count on every changelist page.
    show_full_result_count = False
    inlines = [SimEventInline]
    actions = [
        _lifecycle_admin_action(action)
        for action in (
            Action.PROVISION,
            Action.ACTIVATE,
            Action.DEACTIVATE,
            Action.REACTIVATE,
            Action.UNPAUSE,
            Action.REMOVE,
            Action.TERMINATE,
        )
    ]

    def save_model(self, request: HttpRequest, obj: Sim, form: ModelForm, change: bool) -> None:
        """A new data limit goes through the lifecycle, as from the console: its event, a pause if the SIM
        is over it, and the carrier told. Cleared (the product's default again): the SIM is marked pending
        on the network in the same save, and the periodic tick's push sends it."""
        new_limit = obj.data_limit_mb
        limit_changed = change and "data_limit_mb" in form.changed_data
        if limit_changed and new_limit is not None:
            obj.data_limit_mb = form.initial.get("data_limit_mb")  # set below, by the lifecycle
        super().save_model(request, obj, form, change)
        if not limit_changed:
            return
        if new_limit is None:
            if obj.state not in (State.ISSUED, State.TERMINATED):  # never on the network, or gone from it
                Sim.objects.filter(pk=obj.pk).update(**pending_updates(timezone.now()))
            return
        limit = change_sims(sims=[obj.pk], action=Action.SET_DATA_LIMIT, data_limit_mb=new_limit, actor=Actor.for_user(request.user))
        for reason in limit.report.refused_by_reason:
            self.message_user(request, f"The data limit was not changed: {reason}", messages.WARNING)
        if limit.paused:
            self.message_user(request, f"Paused at once: its usage this period reaches {new_limit} MB.", messages.WARNING)
        obj.refresh_from_db()


@admin.register(SimEvent)
class SimEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "sim", "action", "from_state", "to_state", "actor_kind", "actor_name", "product"]
    list_filter = ["action", "actor_kind", "to_state"]
    search_fields = ["sim__iccid", "actor_name"]
    list_select_related = ["sim", "product"]
    show_full_result_count = False

    # The audit trail is append-only: nobody edits or deletes it, not even in the admin.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SimEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: SimEvent | None = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Usage comes from the carrier and the rules: the admin shows it and never edits it.
    Tables of millions of rows: no full count under the list, ids rather than joined names."""

    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin):
    list_display = ["record_id", "sim_id", "product_id", "started_at", "ended_at", "bytes_up", "bytes_down", "sms", "country"]
    search_fields = ["=record_id"]
    ordering = ["-id"]


@admin.register(SimDailyUsage)
class SimDailyUsageAdmin(ReadOnlyAdmin):
    list_display = ["sim_id", "product_id", "day", "bytes", "sms"]
    list_filter = ["day"]
    search_fields = ["=sim__iccid"]
    ordering = ["-day", "sim_id"]


@admin.register(SimPeriodUsage)
class SimPeriodUsageAdmin(ReadOnlyAdmin):
    list_display = ["sim_id", "period", "bytes", "sms"]
    search_fields = ["=sim__iccid"]
    ordering = ["-period", "sim_id"]


@admin.register(SimCountryUsage)
class SimCountryUsageAdmin(ReadOnlyAdmin):
    list_display = ["sim_id", "product", "period", "country", "bytes"]
    list_filter = ["product", "country"]
    list_select_related = ["product"]
    search_fields = ["=sim__iccid"]
    ordering = ["-period", "product_id", "sim_id", "country"]


@admin.register(ProductDailyUsage)
class ProductDailyUsageAdmin(ReadOnlyAdmin):
    list_display = ["product", "day", "country", "bytes", "sms", "records", "newest_record_at"]
    list_filter = ["product", "country"]
    list_select_related = ["product"]
    ordering = ["-day", "product_id", "country"]


@admin.register(UsageSpike)
class UsageSpikeAdmin(ReadOnlyAdmin):
    list_display = ["day", "sim", "product", "bytes", "baseline_bytes", "factor"]
    list_filter = ["day", "product"]
    list_select_related = ["sim", "product"]
    search_fields = ["=sim__iccid"]
    ordering = ["-day", "-factor"]


@admin.register(UsageTick)
class UsageTickAdmin(ReadOnlyAdmin):
    list_display = ["slot", "queued_at", "started_at", "finished_at", "usage_since", "usage_until", "summary"]
    ordering = ["-queued_at"]


@admin.register(DomainEvent)
class DomainEventAdmin(ReadOnlyAdmin):
    """The outbox: events not published yet. One older than a few minutes lost its task; the next tick publishes it."""

    list_display = ["id", "kind", "product", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["product"]
    ordering = ["id"]


@admin.register(SimStateDelta)
class SimStateDeltaAdmin(ReadOnlyAdmin):
    list_display = ["product_id", "state", "sims"]
    list_filter = ["state"]
    ordering = ["product_id", "state", "id"]


@admin.register(SimConnectivityDelta)
class SimConnectivityDeltaAdmin(ReadOnlyAdmin):
    list_display = ["product_id", "status", "sims"]
    list_filter = ["status"]
    ordering = ["product_id", "status", "id"]



@admin.register(SimOfflineHourDelta)
class SimOfflineHourDeltaAdmin(ReadOnlyAdmin):
    list_display = ["product_id", "hour", "sims"]
    ordering = ["product_id", "-hour", "id"]

@admin.register(BulkJob)
class BulkJobAdmin(admin.ModelAdmin):
    """Bulk actions' background jobs: what they did is their report, never edited (a stuck one: resume_bulk_jobs)."""

    list_display = ["pk", "product", "created_by", "action", "status", "confirmed_count", "processed", "changed", "created_at"]
    list_filter = ["status", "action"]
    search_fields = ["product__name", "created_by__username"]
    list_select_related = ["product", "created_by"]
    readonly_fields = [field.name for field in BulkJob._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(NetworkEvent)
class NetworkEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "sim", "kind", "at", "operator", "country", "rat", "imei", "cause"]
    list_filter = ["kind"]
    search_fields = ["event_id", "imei"]
    raw_id_fields = ["sim"]
    show_full_result_count = False


@admin.register(SimConnectivity)
class SimConnectivityAdmin(ReadOnlyAdmin):
    list_display = ["sim", "status", "since", "last_event_at", "operator", "country", "rat", "imei"]
    list_filter = ["status"]
    raw_id_fields = ["sim"]
    show_full_result_count = False

"""Devices in the Django admin: devices editable (their model named from the IMEI when left empty), and
the history of which SIM was in which device read-only: SIMs go in and out through devices/assignment.py
(the console's device page, the network, the API), which keeps Sim.device in step."""

from django.contrib import admin
from django.http import HttpRequest

from devices.models import Device, DeviceAssignment, ImeiLock, ImeiMismatch, SimImeiLock
from devices.tac import InvalidImei, model_for_imei, validate_imei


class AssignmentInline(admin.TabularInline):
    model = DeviceAssignment
    fields = ["sim", "started_at", "ended_at", "source", "by_user"]
    readonly_fields = ["sim", "started_at", "ended_at", "source", "by_user"]
    extra = 0
    can_delete = False
    ordering = ["-started_at", "-id"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "device_id", "product", "model", "imei", "created_at"]
    list_filter = ["product"]
    search_fields = ["name", "=device_id", "imei", "model"]
    list_select_related = ["product"]
    raw_id_fields = ["product"]
    readonly_fields = ["created_at"]
    inlines = [AssignmentInline]

    def save_model(self, request: HttpRequest, obj: Device, form: object, change: bool) -> None:
        if obj.imei:
            try:
                obj.imei = validate_imei(obj.imei)
            except InvalidImei:
                pass  # kept as typed: the admin is for fixing, and the console's form says what is wrong
            if not obj.model:
                obj.model = model_for_imei(obj.imei)
        super().save_model(request, obj, form, change)


@admin.register(DeviceAssignment)
class DeviceAssignmentAdmin(admin.ModelAdmin):
    list_display = ["sim", "device", "started_at", "ended_at", "source", "by_user"]
    list_filter = ["source"]
    search_fields = ["=sim__iccid", "=device__device_id", "device__name"]
    list_select_related = ["sim", "device", "by_user"]
    readonly_fields = ["sim", "device", "started_at", "ended_at", "source", "by_user"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ImeiLock)
class ImeiLockAdmin(admin.ModelAdmin):
    list_display = ["product", "mode", "suspend", "notify", "swap_until", "updated_at"]
    list_filter = ["mode"]
    raw_id_fields = ["product", "updated_by"]


@admin.register(SimImeiLock)
class SimImeiLockAdmin(admin.ModelAdmin):
    list_display = ["sim", "mode", "locked_imei", "locked_at", "swap_until"]
    list_filter = ["mode"]
    raw_id_fields = ["sim"]
    show_full_result_count = False


@admin.register(ImeiMismatch)
class ImeiMismatchAdmin(admin.ModelAdmin):
    list_display = ["sim", "expected", "seen", "event_id"]
    raw_id_fields = ["sim", "product"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

from django.contrib import admin
from django.http import HttpRequest

from imports.models import ImportBatch, ImportJob
from sims.admin import ReadOnlyAdmin


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "product", "created_by", "token_name", "status", "country", "valid", "processed", "activated", "created_at"]
    list_filter = ["status"]
    search_fields = ["product__name", "created_by__username", "input_filename"]
    list_select_related = ["product", "created_by"]
    readonly_fields = [field.name for field in ImportJob._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ["job", "number", "created_at"]
    list_select_related = ["job"]
    ordering = ["-job_id", "number"]

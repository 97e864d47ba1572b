"""Read-only admin for ingestion batches, rejections, unknown drivers and the facts.

Facts are written only by ingestion (services.ingest), so nothing here adds, changes or
deletes rows; lists are scoped to the platforms the staff member may view.
"""

from django.contrib import admin

from redwheel.core.admin import ReadOnlyAdmin
from redwheel.core.admin_scoping import ScopedAdmin
from redwheel.core.crypto import EncryptedTextField
from redwheel.exchange import models
from redwheel.orgs.models import Platform


class ReadOnlyFactAdmin(ReadOnlyAdmin, ScopedAdmin):
    scope_model = Platform
    scope_path = "platform"
    list_select_related = ("platform",)
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # Encrypted numbers (an unknown driver's licence) are never shown: the masked copy is.
        return [f.name for f in self.model._meta.fields if not isinstance(f, EncryptedTextField)]


class RejectionInline(admin.TabularInline):
    model = models.Rejection
    fields = ("index", "field", "code", "message", "excerpt")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False


@admin.register(models.IngestBatch)
class IngestBatchAdmin(ReadOnlyFactAdmin):
    list_display = (
        "created_at",
        "platform",
        "record_type",
        "source",
        "source_name",
        "received",
        "accepted",
        "unchanged",
        "rejected",
    )
    list_filter = ("record_type", "source", "platform")
    date_hierarchy = "created_at"
    inlines = [RejectionInline]


@admin.register(models.Rejection)
class RejectionAdmin(ReadOnlyFactAdmin):
    scope_path = "batch__platform"
    list_display = ("batch", "index", "field", "code", "message")
    list_filter = ("code", "batch__record_type")
    list_select_related = ("batch",)


@admin.register(models.UnknownDriver)
class UnknownDriverAdmin(ReadOnlyFactAdmin):
    list_display = (
        "license_masked",
        "platform",
        "first_seen_type",
        "records",
        "created_at",
        "resolved_at",
    )
    list_filter = ("platform", ("resolved_at", admin.EmptyFieldListFilter))


@admin.register(models.Trip)
class TripAdmin(ReadOnlyFactAdmin):
    list_display = (
        "order_id",
        "platform",
        "driver",
        "matched_at",
        "arrived_at",
        "fare_yuan",
        "cancelled_at",
    )
    list_filter = ("platform",)
    search_fields = ("order_id",)
    list_select_related = ("platform", "driver")


for fact, columns in [
    (models.Rating, ("order_id", "platform", "evaluated_at", "service_score")),
    (models.Complaint, ("order_id", "platform", "complained_at")),
    (models.Punishment, ("platform", "driver", "punished_at", "reason")),
    (models.CreditLevel, ("platform", "driver", "tested_on", "level")),
    (models.TrainingRecord, ("platform", "driver", "course_name", "course_date", "minutes")),
    (models.DriverMonthStat, ("platform", "driver", "month", "order_count", "complaints")),
    (models.OnlineEvent, ("platform", "driver", "kind", "at")),
    (models.LatestPosition, ("platform", "driver", "at", "lng", "lat")),
]:
    admin.site.register(
        fact,
        type(
            f"{fact.__name__}Admin",
            (ReadOnlyFactAdmin,),
            {"list_display": columns, "list_filter": ("platform",)},
        ),
    )

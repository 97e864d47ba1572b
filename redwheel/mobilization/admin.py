"""Read-only admin, scoped like the pages (`ScopedAdmin`): every write goes through the
services (pages and API)."""

from django.contrib import admin

from redwheel.core.admin import ReadOnlyAdmin
from redwheel.core.admin_scoping import ScopedAdmin
from redwheel.mobilization import models


class ReadOnly(ReadOnlyAdmin, ScopedAdmin):
    pass


@admin.register(models.Fleet)
class FleetAdmin(ReadOnly):
    list_display = ["name", "kind", "unit", "is_active"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(models.Hub)
class HubAdmin(ReadOnly):
    list_display = ["name", "kind", "lng", "lat", "unit"]


@admin.register(models.Mobilization)
class MobilizationAdmin(ReadOnly):
    list_display = ["title", "hub", "status", "starts_at", "closed_at"]
    list_filter = ["status"]


@admin.register(models.Opportunity)
class OpportunityAdmin(ReadOnly):
    list_display = ["title", "kind", "starts_at", "places", "status"]


@admin.register(models.ServiceRecord)
class ServiceRecordAdmin(ReadOnly):
    list_display = ["driver", "kind", "hours", "served_on"]
    list_filter = ["kind"]


@admin.register(models.Alert)
class AlertAdmin(ReadOnly):
    list_display = ["title", "kind", "expires_at", "recipients_count"]

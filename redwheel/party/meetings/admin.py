"""Read-only admin, scoped like the pages (`ScopedAdmin`): every write goes through the
services (pages and API)."""

from django.contrib import admin

from redwheel.core.admin import ReadOnlyAdmin
from redwheel.core.admin_scoping import ScopedAdmin
from redwheel.party.meetings import models


class ReadOnly(ReadOnlyAdmin, ScopedAdmin):
    pass


@admin.register(models.MeetingType)
class MeetingTypeAdmin(ReadOnly):
    list_display = ["name", "code", "frequency", "quorum", "is_active", "city"]


@admin.register(models.Meeting)
class MeetingAdmin(ReadOnly):
    list_display = ["title", "branch", "type", "status", "starts_at", "quorate"]
    list_filter = ["status"]
    search_fields = ["title"]


@admin.register(models.Attendance)
class AttendanceAdmin(ReadOnly):
    list_display = ["meeting", "driver", "state", "method", "confirmed_at"]
    raw_id_fields = ["driver"]


@admin.register(models.LeaveRequest)
class LeaveRequestAdmin(ReadOnly):
    list_display = ["meeting", "driver", "state", "decided_at"]
    raw_id_fields = ["driver"]


@admin.register(models.ThemedDay)
class ThemedDayAdmin(ReadOnly):
    list_display = ["month", "title", "city", "published_at"]

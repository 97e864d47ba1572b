"""Read-only admin, scoped like the pages: every write goes through the services."""

from django.contrib import admin

from redwheel.core.admin import ReadOnlyAdmin
from redwheel.core.admin_scoping import ScopedAdmin
from redwheel.party.recruitment import models


class ReadOnly(ReadOnlyAdmin, ScopedAdmin):
    pass


@admin.register(models.PipelineVersion)
class PipelineVersionAdmin(ReadOnly):
    list_display = ["city", "number", "state", "published_at"]
    list_filter = ["state"]


@admin.register(models.Case)
class CaseAdmin(ReadOnly):
    list_display = ["driver", "branch", "current_step", "state", "due_on", "joined_party_on"]
    list_filter = ["state"]
    raw_id_fields = ["driver"]


@admin.register(models.StepCompletion)
class StepCompletionAdmin(ReadOnly):
    list_display = ["case", "step", "done_on", "recorded_at"]

"""Back office: rounds and their participants, read-only and scoped like the pages. The
ballots and receipts are not shown here: the pages' tally is the only reading of them."""

from django.contrib import admin

from redwheel.core.admin import ReadOnlyAdmin
from redwheel.core.admin_scoping import ScopedAdmin
from redwheel.party.evaluation.models import Participant, Round, RoundActivity


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0
    can_delete = False
    fields = ["driver", "conclusion"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class ActivityInline(admin.TabularInline):
    model = RoundActivity
    extra = 0
    can_delete = False
    fields = ["at", "action", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Round)
class RoundAdmin(ReadOnlyAdmin, ScopedAdmin):
    list_display = ["year", "branch", "state", "state_changed_at"]
    list_filter = ["state", "year"]
    inlines = [ParticipantInline, ActivityInline]

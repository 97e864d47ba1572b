"""Read-only admin for rule sets, runs and fleet sizings: every write goes through the sandbox
pages (and so through the services, with validation, immutability and the audit log)."""

from django.contrib import admin

from redwheel.core.admin import ReadOnlyAdmin
from redwheel.core.permissions import scope
from redwheel.dispatch.models import FleetSizing, RuleSet, RunRuleSet, SimulationRun
from redwheel.dispatch.permissions import SANDBOX_ACTION


class SandboxAdmin(ReadOnlyAdmin):
    def get_queryset(self, request):
        # Same rows as the sandbox pages: the user's own cities only.
        return scope(request.user, SANDBOX_ACTION, super().get_queryset(request))


@admin.register(RuleSet)
class RuleSetAdmin(SandboxAdmin):
    list_display = ("name", "version", "city", "status", "published_at", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "version")


class RunRuleSetInline(admin.TabularInline):
    model = RunRuleSet
    extra = 0
    can_delete = False
    readonly_fields = ("rule_set", "position")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SimulationRun)
class SimulationRunAdmin(SandboxAdmin):
    list_display = ("title", "city", "status", "progress", "demand_source", "created_at")
    list_filter = ("status", "demand_source", "fleet_source")
    search_fields = ("title",)
    exclude = ("orders_csv",)
    inlines = [RunRuleSetInline]


@admin.register(FleetSizing)
class FleetSizingAdmin(SandboxAdmin):
    list_display = ("title", "city", "rule_set", "target", "status", "progress", "created_at")
    list_filter = ("status", "demand_source")
    search_fields = ("title",)
    exclude = ("orders_csv",)

"""Back office: cases are read-only here (their steps go through the pages and services);
deadline policies are edited here and saved through the service. Both list only what the
signed-in user may view (deadline policies: operators and superusers only)."""

from django.contrib import admin

from redwheel.appeals import services
from redwheel.appeals.models import Activity, Case, DeadlinePolicy
from redwheel.core.admin import ReadOnlyAdmin
from redwheel.core.admin_scoping import ScopedAdmin


class ActivityInline(admin.TabularInline):
    model = Activity
    extra = 0
    can_delete = False
    fields = ["at", "action", "from_status", "to_status", "level", "unit", "actor_label", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin, ScopedAdmin):
    list_display = ["number", "title", "category", "status", "level", "unit", "created_at"]
    list_filter = ["status", "level", "category", "kind"]
    search_fields = ["number", "title"]
    inlines = [ActivityInline]
    raw_id_fields = ["driver", "punishment", "merged_into"]


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(ScopedAdmin):
    list_display = ["level", "category", "basis", "response_minutes", "resolution_minutes"]

    def save_model(self, request, obj, form, change):
        services.deadline_policy_save(actor=request.user, policy=obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

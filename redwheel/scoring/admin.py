"""Back office: rule books, ledger and snapshots are read here; writes go through the pages and
services (publishing, grants and reversals each need their checks and audit entries)."""

from django.contrib import admin

from redwheel.core.admin import ReadOnlyAdmin
from redwheel.scoring.models import Deduction, PointsEntry, Rule, RuleBook, ScoreSnapshot


class RuleInline(admin.TabularInline):
    model = Rule
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DeductionInline(RuleInline):
    model = Deduction


@admin.register(RuleBook)
class RuleBookAdmin(ReadOnlyAdmin):
    list_display = (
        "version",
        "title",
        "status",
        "published_at",
        "effective_from",
        "only_adds_points",
    )
    inlines = [RuleInline, DeductionInline]


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "driver", "rule_code", "amount", "actor_label", "reverses")
    list_filter = ("rule_code",)
    raw_id_fields = ("driver", "rule", "reverses", "granted_by")


@admin.register(ScoreSnapshot)
class ScoreSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("day", "driver", "score", "credit_grade", "book")
    list_filter = ("day", "credit_grade")
    raw_id_fields = ("driver",)

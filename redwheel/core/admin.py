"""Back office for core: the audit log and the outbox are read-only; retry calls the outbox."""

from collections import Counter

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from redwheel.core import notifications
from redwheel.core.models import AuditEntry, Notification, PeriodicJob


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows rows and never writes them: what it lists is written only by services (with their
    checks and audit entries). Put it first to make another admin read-only as well, e.g.
    `class X(ReadOnlyAdmin, ScopedAdmin)` for a list scoped like the pages."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_id", "summary"]
    list_filter = ["object_type"]
    search_fields = ["action", "actor_label", "object_id"]
    date_hierarchy = "at"
    fields = [
        "at",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "summary",
        "reason",
        "data",
    ]
    readonly_fields = fields
    actions = None
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "channel",
        "event",
        "recipient",
        "platform_ref",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["status", "channel"]
    list_select_related = ["recipient"]
    search_fields = ["event", "title"]
    readonly_fields = [
        "channel",
        "recipient",
        "platform_ref",
        "event",
        "title",
        "body",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "lease_expires_at",
        "sent_at",
        "read_at",
        "last_error",
        "created_at",
    ]
    fields = readonly_fields
    actions = ["retry"]

    @admin.action(description=_("Retry delivery now"), permissions=["view"])
    def retry(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        outcomes = Counter(notifications.deliver(pk) for pk in ids)
        self.message_user(
            request,
            _(
                "Sent: %(sent)s, failed: %(failed)s, gave up: %(dead)s, skipped (not pending or "
                "failed): %(skipped)s."
            )
            % {
                "sent": outcomes["sent"],
                "failed": outcomes["failed"],
                "dead": outcomes["dead"],
                "skipped": outcomes["skipped"],
            },
            messages.INFO,
        )


@admin.register(PeriodicJob)
class PeriodicJobAdmin(ReadOnlyAdmin):
    list_display = ["name", "last_enqueued_at"]

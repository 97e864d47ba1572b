"""Read-only admin, scoped like the pages: every write goes through the services."""

from django.contrib import admin

from redwheel.core.admin import ReadOnlyAdmin
from redwheel.core.admin_scoping import ScopedAdmin
from redwheel.party.dues import models


class ReadOnly(ReadOnlyAdmin, ScopedAdmin):
    pass


@admin.register(models.RuleSet)
class RuleSetAdmin(ReadOnly):
    list_display = ["city", "version", "effective_from", "flat_amount", "created_at"]


@admin.register(models.Assessment)
class AssessmentAdmin(ReadOnly):
    list_display = ["member", "quarter", "basis", "monthly_amount", "source", "confirmed_at"]
    list_filter = ["basis", "source"]
    raw_id_fields = ["member"]


@admin.register(models.Payment)
class PaymentAdmin(ReadOnly):
    list_display = ["member", "period", "amount", "method", "receipt_no", "recorded_at"]
    list_filter = ["method", "voluntary"]
    raw_id_fields = ["member", "reverses"]


@admin.register(models.HardshipRequest)
class HardshipRequestAdmin(ReadOnly):
    list_display = ["member", "kind", "months_from", "months_to", "status", "created_at"]
    list_filter = ["status", "kind"]
    raw_id_fields = ["member"]


@admin.register(models.Reminder)
class ReminderAdmin(ReadOnly):
    list_display = ["member", "kind", "period", "amount", "sent_at"]
    list_filter = ["kind"]
    raw_id_fields = ["member"]

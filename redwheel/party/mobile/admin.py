"""Back office: the ledger, read-only and scoped like the pages."""

from django.contrib import admin

from redwheel.core.admin import ReadOnlyAdmin
from redwheel.core.admin_scoping import ScopedAdmin
from redwheel.party.mobile.models import LedgerEntry, Transfer


class TransferInline(admin.TabularInline):
    model = Transfer
    extra = 0
    can_delete = False
    fields = ["transferred_on", "to_organisation", "reference", "note", "recorded_by"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin, ScopedAdmin):
    list_display = ["membership", "mobile_branch", "away_since", "expected_return"]
    list_filter = ["mobile_branch"]
    raw_id_fields = ["membership"]
    inlines = [TransferInline]

"""Read-only admin for roster imports (registered when `redwheel/drivers/admin.py` imports it).

Jobs are listed with the same scope as the pages (`selectors.import_jobs`); the problems shown
are the first 100, the full paginated list is on the import page.
"""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from redwheel.core.admin import ReadOnlyAdmin
from redwheel.drivers.imports import selectors
from redwheel.drivers.models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "original_name",
        "unit",
        "uploaded_by",
        "status",
        "total_rows",
        "error_count",
        "created_count",
        "updated_count",
        "unchanged_count",
        "created_at",
    )
    list_filter = ("kind", "status")
    search_fields = ("original_name",)
    date_hierarchy = "created_at"
    list_select_related = ("unit", "uploaded_by")

    def get_queryset(self, request):
        return selectors.import_jobs(request.user)

    def get_readonly_fields(self, request, obj=None):
        return [*(f.name for f in ImportJob._meta.fields), "problems"]

    @admin.display(description=_("first problems"))
    def problems(self, obj):
        rows = selectors.import_errors(obj)[:100]
        if not rows:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li>{} · {} · {}</li>", ((e.row, e.column, e.message) for e in rows)
            ),
        )

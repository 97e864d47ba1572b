"""File downloads from staff pages: one place for content types and Content-Disposition."""

from django.http import HttpResponse

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def download(content, filename: str, content_type: str = XLSX) -> HttpResponse:
    """A download of `content`: bytes, or an openpyxl workbook saved straight into the body."""
    response = HttpResponse(content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    if hasattr(content, "save"):
        content.save(response)
    else:
        response.write(content)
    return response

"""The accountability ledger (台账) as an .xlsx workbook."""

from datetime import date
from io import BytesIO

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font


def accountability_xlsx(rows, month: date) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = f"{month:%Y-%m}"
    headers = [
        _("Rank"),
        _("Unit"),
        _("Received"),
        _("Answered"),
        _("On-time response %"),
        _("On-time resolution %"),
        _("Escalations"),
        _("Satisfaction %"),
        _("Median hours to answer"),
    ]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(
            [
                row.rank,
                row.unit.name,
                row.received,
                row.answered,
                row.response_on_time,
                row.resolution_on_time,
                row.escalations,
                row.satisfaction,
                row.median_hours,
            ]
        )
    sheet.column_dimensions["B"].width = 40
    sheet.freeze_panes = "A2"
    out = BytesIO()
    book.save(out)
    return out.getvalue()

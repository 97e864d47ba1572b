"""The accountability ledger (台账) as an .xlsx workbook."""

from datetime import date

from django.utils.translation import gettext as _

from redwheel.core.exports import Column, Sheet, xlsx_bytes


def accountability_xlsx(rows, month: date) -> bytes:
    columns = [
        _("Rank"),
        Column(_("Unit"), width=40),
        _("Received"),
        _("Answered"),
        _("On-time response %"),
        _("On-time resolution %"),
        _("Escalations"),
        _("Satisfaction %"),
        _("Median hours to answer"),
    ]
    return xlsx_bytes(
        [
            Sheet(
                f"{month:%Y-%m}",
                columns,
                (
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
                    for row in rows
                ),
            )
        ]
    )

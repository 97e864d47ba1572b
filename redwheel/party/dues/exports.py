"""The ledger as a workbook (core.exports: formula-safe, amounts stay numbers)."""

from django.utils.translation import gettext as _

from redwheel.core.dates import local_text
from redwheel.core.exports import Column, Sheet, xlsx_response


def ledger_response(entries, filename: str):
    rows = (
        (
            local_text(p.recorded_at),
            f"{p.period:%Y-%m}",
            p.member.name,
            p.member.phone_masked,
            p.branch.name,
            p.amount,
            _("yes") if p.voluntary else "",
            p.get_method_display(),
            p.receipt_no,
            p.paid_by_name,
            p.paid_on,
            _("reverses entry %(id)s") % {"id": p.reverses_id} if p.reverses_id else "",
            p.note,
            p.recorded_by.display_name if p.recorded_by else "",
            p.pk,
        )
        for p in entries.iterator(chunk_size=2000)
    )
    sheet = Sheet(
        _("Dues ledger"),
        [
            _("Recorded at"),
            _("Month"),
            _("Member"),
            Column(_("Mobile"), text=True),
            _("Branch"),
            _("Amount (yuan)"),
            _("Voluntary extra"),
            _("Method"),
            Column(_("Receipt number"), text=True),
            _("Paid by"),
            _("Paid on"),
            _("Correction"),
            _("Note"),
            _("Recorded by"),
            _("Entry"),
        ],
        rows,
    )
    return xlsx_response(filename, [sheet])

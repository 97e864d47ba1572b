"""The party-member comparison (`selectors.comparison_report`) as an .xlsx workbook
(core.exports): the comparison, the totals by platform and by party unit, and every driver's
month."""

from django.utils.translation import gettext as _

from redwheel.core.exports import Column, Sheet, xlsx_bytes
from redwheel.exchange import metrics


def round_or_none(value, digits=2):
    return None if value is None else round(value, digits)


def comparison_workbook(report, rows) -> bytes:
    """`rows`: the month's `DriverMonthMetric` rows in the viewer's scope and filters."""
    c = report.comparison
    measures = [
        [_("Month"), report.month.strftime("%Y-%m")],
        [_("Active drivers"), c.members.active, c.everyone.active, None],
        [_("Completed orders"), c.members.orders, c.everyone.orders, None],
        [
            _("Orders per active driver"),
            round_or_none(c.members.orders_per_active),
            round_or_none(c.everyone.orders_per_active),
            round_or_none(c.order_ratio, 3),
        ],
        [
            _("Complaints per 10,000 orders"),
            round_or_none(c.members.complaints_per_10k),
            round_or_none(c.everyone.complaints_per_10k),
            round_or_none(c.complaint_ratio, 3),
        ],
        [
            _("Average rating"),
            round_or_none(c.members.rating, 3),
            round_or_none(c.everyone.rating, 3),
            round_or_none(c.rating_difference, 3),
        ],
        [
            _("Revenue per online hour (yuan)"),
            round_or_none(c.members.revenue_per_hour),
            round_or_none(c.everyone.revenue_per_hour),
            round_or_none(c.revenue_per_hour_ratio, 3),
        ],
    ]
    if c.too_few:
        measures += [
            [],
            [
                _(
                    "Too few verified party members to compare (minimum %(d)s drivers and "
                    "%(o)s orders)."
                )
                % {"d": c.min_drivers, "o": c.min_orders}
            ],
        ]
    sheets = [
        Sheet(
            _("Comparison"),
            [
                Column(_("Measure"), width=32),
                _("Verified party members"),
                _("All drivers"),
                _("Ratio"),
            ],
            measures,
        )
    ]
    group_columns = [
        Column(_("Name"), width=32),
        _("Active drivers"),
        _("Completed orders"),
        _("Revenue (yuan)"),
        _("Online hours"),
        _("Average rating"),
        _("Complaints per 10,000 orders"),
        _("Punishments"),
        _("Training minutes"),
    ]
    for title, groups in (
        (_("By platform"), report.by_platform),
        (_("By party unit"), report.by_branch),
    ):
        sheets.append(
            Sheet(
                title,
                group_columns,
                (
                    [
                        t.label,
                        t.active,
                        t.orders,
                        float(t.revenue),
                        round(t.online_hours, 1),
                        round_or_none(t.rating, 3),
                        round_or_none(t.complaints_per_10k),
                        t.punishments,
                        t.training_minutes,
                    ]
                    for t in groups
                ),
            )
        )
    member_ids = set(rows.filter(metrics.MEMBER_Q).values_list("id", flat=True))
    sheets.append(
        Sheet(
            _("Drivers"),
            [
                Column(_("Name"), width=20),
                _("Licence (masked)"),
                _("Platform"),
                Column(_("Party unit"), width=32),
                _("Verified party member"),
                _("Completed orders"),
                _("Revenue (yuan)"),
                _("Online hours"),
                _("Ratings"),
                _("Average rating"),
                _("Complaints"),
                _("Punishments"),
                _("Training minutes"),
            ],
            (_driver_row(m, member_ids) for m in rows.iterator(2000)),
        )
    )
    return xlsx_bytes(sheets)


def _driver_row(m, member_ids) -> list:
    d = m.driver
    return [
        d.name if d else _("Unknown driver"),
        d.license_masked if d else "",
        m.platform.name,
        d.branch.name if d and d.branch else "",
        _("yes") if m.id in member_ids else _("no"),
        m.completed_orders,
        float(m.revenue_yuan),
        round(m.online_seconds / 3600, 1),
        m.rating_count,
        round(m.rating_sum / m.rating_count, 3) if m.rating_count else None,
        m.complaints,
        m.punishments,
        m.training_minutes,
    ]

"""A suggestion for a member's income, from the operating data the platforms sent in.

The exchange format carries what the passenger paid (FactPrice), not the driver's pay; the
stored metrics (`exchange.DriverMonthMetric.revenue_yuan`) add up FactPrice of each month's
completed trips per platform. So the suggestion is labelled for what it is — "turnover recorded
by platforms" — and the member, who knows their commission and costs, confirms or corrects it.
It is offered to the member only, and never used without their confirmation: nothing here
writes, and no service reads it except to note on the member's own confirmation what they
were shown.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from redwheel.core.permissions import scope
from redwheel.exchange.models import DriverMonthMetric
from redwheel.party.dues.rules import (
    ZERO,
    previous_quarter,
    quarter_average,
    quarter_months,
    to_fen,
)


@dataclass(frozen=True)
class Suggestion:
    quarter: date  # the quarter the figures are of (the one before the assessed quarter)
    months: tuple[tuple[date, Decimal, int], ...]  # (month, turnover, completed orders)

    @property
    def month_incomes(self) -> list[Decimal]:
        return [turnover for _month, turnover, _orders in self.months]

    @property
    def average(self) -> Decimal:
        return quarter_average(self.month_incomes)

    @property
    def has_data(self) -> bool:
        return any(orders for _m, _t, orders in self.months)


def for_member(viewer, member, quarter: date) -> Suggestion | None:
    """The previous quarter's turnover per month for the assessment of `quarter`, as
    `viewer` may read it (the member reads their own metrics); None when there is nothing."""
    months = quarter_months(previous_quarter(quarter))
    rows = (
        scope(viewer, "view", DriverMonthMetric.objects.all())
        .filter(driver=member, month__in=months)
        .values("month")
        .annotate(turnover=Sum("revenue_yuan"), orders=Sum("completed_orders"))
    )
    found = {r["month"]: (to_fen(r["turnover"] or ZERO), r["orders"] or 0) for r in rows}
    if not found:
        return None
    return Suggestion(
        quarter=previous_quarter(quarter),
        months=tuple((m, *found.get(m, (ZERO, 0))) for m in months),
    )

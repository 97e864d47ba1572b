"""What a member owes, month by month, computed from the stored rows (never stored itself).

For each month from the member's first month owed:

- **due**: the monthly amount of the assessment that applies — the month's own quarter's, or
  else the latest earlier one (carried over) — after approved hardship relief for that month
  (an exemption makes it 0.00; a reduction the stated amount, never more than assessed);
- **paid**: the ledger entries for that month that are not voluntary extras, reversals
  included (they are negative);
- **outstanding**: due − paid, never below zero. A payment for one month does not cover
  another month; a voluntary extra never counts against dues.

The first month owed is the first assessed quarter's first month, or the month of the
入党时间 (`Membership.joined_party_on`) when that is later: months before it owe nothing,
the month itself does. **Arrears** are the outstanding amounts of the months before the
current one; the current month is due until it ends.
"""

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from redwheel.party.dues.rules import ZERO, months_between, quarter_start


@dataclass
class MonthLine:
    month: date
    due: Decimal | None  # None: nothing owed (before the first month owed, or not assessed)
    assessed: Decimal | None  # the assessment's amount before relief
    paid: Decimal = ZERO
    voluntary: Decimal = ZERO
    relief: object = None  # the approved HardshipRequest applied, if any
    assessment: object = None
    carried: bool = False  # the assessment is of an earlier quarter

    @property
    def outstanding(self) -> Decimal:
        if self.due is None:
            return ZERO
        return max(ZERO, self.due - self.paid)


@dataclass
class MemberDues:
    member: object
    month: date  # the current month
    start: date | None
    lines: list[MonthLine] = field(default_factory=list)  # oldest first

    def line(self, month: date) -> MonthLine | None:
        return next((line for line in self.lines if line.month == month), None)

    @property
    def current_line(self) -> MonthLine | None:
        return self.line(self.month)

    @property
    def current(self):
        """The assessment that applies to the current month (None when not assessed)."""
        line = self.current_line
        return line.assessment if line else None

    @property
    def carried_over(self) -> bool:
        line = self.current_line
        return bool(line and line.carried)

    @property
    def monthly_amount(self) -> Decimal | None:
        line = self.current_line
        return line.due if line else None

    @property
    def paid_this_month(self) -> Decimal:
        line = self.current_line
        return line.paid if line else ZERO

    @property
    def outstanding_this_month(self) -> Decimal:
        line = self.current_line
        return line.outstanding if line else ZERO

    @property
    def past_lines(self) -> list[MonthLine]:
        return [line for line in self.lines if line.month < self.month]

    @property
    def arrears(self) -> Decimal:
        return sum((line.outstanding for line in self.past_lines), ZERO)

    @property
    def arrears_months(self) -> list[date]:
        return [line.month for line in self.past_lines if line.outstanding > 0]

    @property
    def months_in_arrears(self) -> int:
        return len(self.arrears_months)

    @property
    def voluntary_total(self) -> Decimal:
        return sum((line.voluntary for line in self.lines), ZERO)

    @property
    def paid_total(self) -> Decimal:
        return sum((line.paid for line in self.lines), ZERO)


def compute(
    member,
    *,
    month: date,
    assessments,
    payments,
    reliefs=(),
    joined_on: date | None = None,
) -> MemberDues:
    """The member's dues up to `month` (and any later month already paid for).

    `assessments`, `payments` and `reliefs` (approved hardship requests) are the member's own
    rows, in any order."""
    assessments = sorted(assessments, key=lambda a: a.quarter)
    quarters = [a.quarter for a in assessments]
    paid: dict[date, Decimal] = defaultdict(lambda: ZERO)
    voluntary: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for p in payments:
        (voluntary if p.voluntary else paid)[p.period] += p.amount
    start = None
    if assessments:
        start = assessments[0].quarter
        if joined_on is not None:
            start = max(start, date(joined_on.year, joined_on.month, 1))
    periods = [*paid, *voluntary]
    first = min([m for m in (start, *periods) if m is not None], default=None)
    if first is None:
        return MemberDues(member, month, None)
    last = max([month, *periods])
    lines = []
    for m in months_between(min(first, month), last):
        index = bisect_right(quarters, m) - 1
        assessment = assessments[index] if index >= 0 and start and m >= start else None
        assessed = assessment.monthly_amount if assessment is not None else None
        due, relief = assessed, None
        if assessed is not None:
            for r in reliefs:
                if r.covers(m):
                    relieved = ZERO if r.kind == "exempt" else min(r.reduced_amount, assessed)
                    if relief is None or relieved < due:
                        due, relief = relieved, r
        lines.append(
            MonthLine(
                month=m,
                due=due,
                assessed=assessed,
                paid=paid.get(m, ZERO),
                voluntary=voluntary.get(m, ZERO),
                relief=relief,
                assessment=assessment,
                carried=assessment is not None and assessment.quarter != quarter_start(m),
            )
        )
    return MemberDues(member, month, start, lines)

"""Per-branch compliance with the obligations of organisation life (domain-rules §3).

Each active meeting type of the branch's city is an obligation with a frequency. The year is
cut into that frequency's periods (12 months, 4 quarters, 2 halves or the whole year); a
period is

- **met** when the branch recorded a meeting of the type in it that counts (recorded; for a
  支部党员大会 also quorate),
- **overdue** when it ended without one,
- **due** while it runs without one (today falls in it),
- **upcoming** when it has not begun.

The page shows this month, this quarter and this year as progress of ONE branch against its
obligations; a committee sees its branches one at a time, or the totals of periods met, due
and overdue over all of them — never a table that ranks branches.
"""

from dataclasses import dataclass, field
from datetime import date

from redwheel.core.dates import LOCAL_TZ
from redwheel.party.meetings.models import Frequency

MET, DUE, OVERDUE, UPCOMING = "met", "due", "overdue", "upcoming"
MONTHS_PER = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.HALF_YEARLY: 6,
              Frequency.YEARLY: 12}  # fmt: skip


@dataclass
class Period:
    start: date  # first day
    end: date  # first day after
    status: str = UPCOMING
    meetings: list = field(default_factory=list)

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end


@dataclass
class Obligation:
    type: object  # MeetingType
    periods: list[Period]

    def counts(self) -> dict[str, int]:
        totals = {MET: 0, DUE: 0, OVERDUE: 0}
        for p in self.periods:
            if p.status in totals:
                totals[p.status] += 1
        return totals

    @property
    def elapsed(self) -> int:
        """Periods begun so far this year (the progress bar's whole)."""
        return sum(1 for p in self.periods if p.status != UPCOMING)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def periods_of(frequency: str, year: int) -> list[Period]:
    step = MONTHS_PER[frequency]
    start = date(year, 1, 1)
    return [Period(_add_months(start, n), _add_months(start, n + step)) for n in range(0, 12, step)]


def evaluate(types, meetings, today: date) -> list[Obligation]:
    """Obligations of one branch for `today`'s year. `meetings`: the branch's meetings of
    that year (with their type loaded)."""
    by_type: dict[int, list] = {}
    for meeting in meetings:
        if meeting.counts_for_compliance:
            by_type.setdefault(meeting.type_id, []).append(meeting)
    obligations = []
    for meeting_type in types:
        periods = periods_of(meeting_type.frequency, today.year)
        for period in periods:
            period.meetings = [
                m
                for m in by_type.get(meeting_type.pk, [])
                if period.contains(m.starts_at.astimezone(LOCAL_TZ).date())
            ]
            if period.meetings:
                period.status = MET
            elif period.end <= today:
                period.status = OVERDUE
            elif period.start <= today:
                period.status = DUE
        obligations.append(Obligation(type=meeting_type, periods=periods))
    return obligations


def quarter_of(day: date) -> tuple[date, date]:
    start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return start, _add_months(start, 3)


@dataclass
class View:
    """What the page shows for one branch: the periods of this month, this quarter and this
    year, obligation by obligation."""

    today: date
    obligations: list[Obligation]

    def month(self) -> list[tuple[Obligation, Period]]:
        """Monthly obligations: this month's period."""
        return [
            (o, p)
            for o in self.obligations
            if o.type.frequency == Frequency.MONTHLY
            for p in o.periods
            if p.contains(self.today)
        ]

    def quarter(self) -> list[tuple[Obligation, list[Period]]]:
        """Monthly and quarterly obligations: their periods within this quarter."""
        start, end = quarter_of(self.today)
        return [
            (o, [p for p in o.periods if start <= p.start < end])
            for o in self.obligations
            if o.type.frequency in (Frequency.MONTHLY, Frequency.QUARTERLY)
        ]

    def year(self) -> list[Obligation]:
        return self.obligations

    def totals(self) -> dict[str, int]:
        totals = {MET: 0, DUE: 0, OVERDUE: 0}
        for o in self.obligations:
            for key, n in o.counts().items():
                totals[key] += n
        return totals

"""Credit and composite score of drivers on a day, from the facts, the ledger and the metrics.

`collect(day, driver_ids=None)` reads everything with a fixed number of grouped queries
(independent of the number of drivers) and applies the pure formulas of `formula.py`:

- score window: the calendar month of `day` and the two before it (Asia/Shanghai), read from
  the `DriverMonthMetric` snapshots (orders, ratings, complaints, punishments) and the
  platform-reported `DriverMonthStat` (traffic violations), summed over all of the driver's
  platforms;
- community points: the ledger over the 365 days ending on `day`;
- credit cycle: the calendar year of `day` up to the end of `day`. Deductions come from the
  punishments and complaints of the cycle, each mapped through the deduction table of the
  rule book in force when it happened (the one in force on `day` for events older than any
  book); the bonus from the cycle's community points; the platform-reported level
  (`CreditLevel`, the most recent test of the cycle, the lowest level if several platforms
  reported on that date) can lower the grade, never raise it.
"""

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import OuterRef, Subquery, Sum

from redwheel.core.dates import LOCAL_TZ, previous_month
from redwheel.drivers.models import Driver
from redwheel.exchange.models import (
    Complaint,
    CreditLevel,
    DriverMonthMetric,
    DriverMonthStat,
    Punishment,
    Trip,
)
from redwheel.scoring import formula
from redwheel.scoring.models import Deduction, PointsEntry, RuleBook

WINDOW_MONTHS = 3
COMMUNITY_DAYS = 365


@dataclass
class Credit:
    base: int = formula.CREDIT_BASE
    bonus: int = 0
    deducted: int = 0
    points: int = formula.CREDIT_BASE
    own_grade: str = "AAA"
    reported_level: int | None = None
    grade: str = "AAA"
    cycle_points: int = 0
    items: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "base": self.base,
            "bonus": self.bonus,
            "deducted": self.deducted,
            "points": self.points,
            "own_grade": self.own_grade,
            "reported_level": self.reported_level,
            "grade": self.grade,
            "cycle_points": self.cycle_points,
            "items": self.items,
        }


@dataclass
class Result:
    driver_id: int
    day: date
    book: RuleBook
    inputs: formula.Inputs
    credit: Credit
    score: float
    rows: list
    window: tuple[date, date]

    def explanation(self) -> dict:
        return {
            "day": self.day.isoformat(),
            "book_version": self.book.version,
            "window": [self.window[0].isoformat(), self.window[1].isoformat()],
            "score": self.score,
            "components": self.rows,
            "credit": self.credit.as_dict(),
            "inputs": formula.inputs_dict(self.inputs),
        }


def day_end(day: date) -> datetime:
    following = day + timedelta(days=1)
    return datetime(following.year, following.month, following.day, tzinfo=LOCAL_TZ)


def window_months(day: date) -> list[date]:
    months = [day.replace(day=1)]
    while len(months) < WINDOW_MONTHS:
        months.append(previous_month(months[-1]))
    return sorted(months)


class Books:
    """The published rule books, to find the one in force at any moment."""

    def __init__(self, until: datetime):
        books = list(
            RuleBook.objects.filter(status=RuleBook.Status.PUBLISHED, effective_from__lt=until)
            .prefetch_related("deductions")
            .order_by("effective_from", "version")
        )
        self.books = books
        self.starts = [b.effective_from for b in books]

    def at(self, moment: datetime) -> RuleBook | None:
        i = bisect.bisect_right(self.starts, moment)
        return self.books[i - 1] if i else None

    @staticmethod
    def deduction(book: RuleBook, source: str, *texts: str) -> Deduction | None:
        for row in book.deductions.all():  # prefetched, in position order
            if row.source == source and (not row.keyword or any(row.keyword in t for t in texts)):
                return row
        return None


def _trip_license() -> Subquery:
    return Subquery(
        Trip.objects.filter(platform_id=OuterRef("platform_id"), order_id=OuterRef("order_id"))
        .exclude(license_index="")
        .values("license_index")[:1]
    )


def collect(day: date, driver_ids=None) -> dict[int, Result]:
    """{driver_id: Result} for every driver (or those in `driver_ids`) on `day`."""
    end = day_end(day)
    books = Books(end)
    book = books.at(end - timedelta(microseconds=1))
    if book is None:
        return {}
    weights = formula.Weights.of(book)
    drivers = Driver.objects.all()
    if driver_ids is not None:
        drivers = drivers.filter(pk__in=list(driver_ids))
    id_of = dict(drivers.values_list("license_index", "id"))
    if not id_of:
        return {}
    only = {} if driver_ids is None else {"license_index__in": list(id_of)}
    only_driver = {} if driver_ids is None else {"driver_id__in": list(id_of.values())}

    months = window_months(day)
    service = defaultdict(lambda: defaultdict(int))
    for row in (
        DriverMonthMetric.objects.filter(month__in=months, **only)
        .values("license_index")
        .annotate(
            o=Sum("completed_orders"),
            rc=Sum("rating_count"),
            rs=Sum("rating_sum"),
            c=Sum("complaints"),
            p=Sum("punishments"),
        )
    ):
        target = service[row["license_index"]]
        target.update(
            orders=row["o"] or 0,
            rating_count=row["rc"] or 0,
            rating_sum=row["rs"] or 0,
            complaints=row["c"] or 0,
            punishments=row["p"] or 0,
        )
    for row in (
        DriverMonthStat.objects.filter(month__in=months, **only)
        .values("license_index")
        .annotate(v=Sum("traffic_violations"))
    ):
        service[row["license_index"]]["violations"] = row["v"] or 0

    since = day - timedelta(days=COMMUNITY_DAYS - 1)
    community = dict(
        PointsEntry.objects.filter(day__gte=since, day__lte=day, **only_driver)
        .values("driver_id")
        .annotate(n=Sum("amount"))
        .values_list("driver_id", "n")
    )
    cycle_start = date(day.year, 1, 1)
    cycle_points = dict(
        PointsEntry.objects.filter(day__gte=cycle_start, day__lte=day, **only_driver)
        .values("driver_id")
        .annotate(n=Sum("amount"))
        .values_list("driver_id", "n")
    )

    start = datetime(day.year, 1, 1, tzinfo=LOCAL_TZ)
    events = defaultdict(list)
    for index, at, reason, result in Punishment.objects.filter(
        punished_at__gte=start, punished_at__lt=end, **only
    ).values_list("license_index", "punished_at", "reason", "result"):
        events[index].append((at, Deduction.Source.PUNISHMENT, reason, result))
    complaints = Complaint.objects.filter(complained_at__gte=start, complained_at__lt=end)
    complaints = complaints.annotate(lic=_trip_license()).filter(lic__isnull=False)
    if only:
        complaints = complaints.filter(lic__in=only["license_index__in"])
    for index, at, result in complaints.values_list("lic", "complained_at", "result"):
        events[index].append((at, Deduction.Source.COMPLAINT, "", result))

    reported: dict[str, tuple[date, int]] = {}
    for index, tested_on, level in CreditLevel.objects.filter(
        tested_on__gte=cycle_start, tested_on__lte=day, **only
    ).values_list("license_index", "tested_on", "level"):
        current = reported.get(index)
        if current is None or (tested_on, -level) > (current[0], -current[1]):
            reported[index] = (tested_on, level)

    results = {}
    for index, driver_id in id_of.items():
        credit = Credit(cycle_points=cycle_points.get(driver_id, 0))
        for at, source, reason, outcome in sorted(events.get(index, ()), key=lambda e: e[0]):
            rule_book = books.at(at) or book
            row = Books.deduction(rule_book, source, reason, outcome)
            if row is None:
                continue
            credit.deducted += row.points
            credit.items.append(
                {
                    "at": at.isoformat(),
                    "source": source,
                    "label": row.label,
                    "points": row.points,
                    "book_version": rule_book.version,
                }
            )
        credit.bonus = formula.credit_bonus(credit.cycle_points, book.credit_bonus_step)
        credit.points = formula.credit_points(credit.deducted, credit.bonus)
        credit.own_grade = formula.grade_of(credit.points)
        credit.reported_level = reported[index][1] if index in reported else None
        credit.grade = formula.combined_grade(credit.own_grade, credit.reported_level)
        s = service.get(index, {})
        inputs = formula.Inputs(
            orders=s.get("orders", 0),
            rating_count=s.get("rating_count", 0),
            rating_sum=s.get("rating_sum", 0),
            complaints=s.get("complaints", 0),
            punishments=s.get("punishments", 0),
            violations=s.get("violations", 0),
            credit_grade=credit.grade,
            community_points=max(0, community.get(driver_id, 0)),
        )
        total, rows = formula.score(inputs, weights)
        results[driver_id] = Result(
            driver_id=driver_id,
            day=day,
            book=book,
            inputs=inputs,
            credit=credit,
            score=total,
            rows=rows,
            window=(months[0], day),
        )
    return results


def for_driver(driver: Driver, day: date) -> Result | None:
    return collect(day, driver_ids=[driver.pk]).get(driver.pk)

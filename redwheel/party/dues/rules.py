"""The dues rules (domain-rules §4) as data, and the arithmetic on them. Pure: no database.

Bands apply to the whole monthly income, not in slices: income in a band pays that band's
rate on all of it. Each band's upper edge is inclusive (the 2008 rules say "3000元以下（含
3000元）", "3000元以上至5000元（含5000元）" …):

    wage / net income    ≤ 3,000 → 0.5 %   3,000.01–5,000 → 1 %   5,000.01–10,000 → 1.5 %
                         > 10,000 → 2 %
    retirement pay       ≤ 5,000 → 0.5 %   > 5,000 → 1 %
    students, unemployed, minimum living allowance: a flat 0.20 yuan a month

Money is Decimal yuan, rounded to the fen (0.01) half up (`ROUND_HALF_UP`, 0.005 → 0.01): the
previous quarter's average income first, then the monthly amount.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")
# The bases (models.Basis values) that pay the flat amount, and the one with its own bands.
FLAT = frozenset({"student", "unemployed", "minimum_allowance"})
RETIRED = "retired"
ZERO = Decimal("0.00")


def to_fen(value) -> Decimal:
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Band:
    up_to: Decimal | None  # inclusive upper edge; None: no upper edge (the last band)
    rate: Decimal  # a fraction: 0.005 is 0.5 %


@dataclass(frozen=True)
class Rules:
    """One version of a city's rules; `rule_set_id` is None for the built-in defaults."""

    version: int
    effective_from: date
    wage_bands: tuple[Band, ...]
    retired_bands: tuple[Band, ...]
    flat_amount: Decimal
    remind_days_before_month_end: int = 3
    lapse_reminder_months: int = 3
    reminder_sms: bool = False
    rule_set_id: int | None = None


def bands(rows: Sequence[Sequence]) -> tuple[Band, ...]:
    return tuple(
        Band(None if up_to is None else Decimal(str(up_to)), Decimal(str(rate)))
        for up_to, rate in rows
    )


DEFAULT_WAGE_BANDS = bands([(3000, "0.005"), (5000, "0.01"), (10000, "0.015"), (None, "0.02")])
DEFAULT_RETIRED_BANDS = bands([(5000, "0.005"), (None, "0.01")])
DEFAULT_FLAT_AMOUNT = Decimal("0.20")
# The 2008 rules (中组部《关于中国共产党党费收缴、使用和管理的规定》) apply from April 2008.
DEFAULT_EFFECTIVE_FROM = date(2008, 4, 1)

DEFAULT = Rules(
    version=1,
    effective_from=DEFAULT_EFFECTIVE_FROM,
    wage_bands=DEFAULT_WAGE_BANDS,
    retired_bands=DEFAULT_RETIRED_BANDS,
    flat_amount=DEFAULT_FLAT_AMOUNT,
)


class BadBands(ValueError):
    """Bands that cannot be used: unordered edges, no open last band, rates outside 0–100 %."""


def bands_to_json(rows: Sequence[Band]) -> list[dict]:
    return [{"up_to": None if b.up_to is None else str(b.up_to), "rate": str(b.rate)} for b in rows]


def _plain(number: Decimal) -> str:
    return f"{number.normalize():f}"


def bands_text(rows: Sequence[Band]) -> str:
    """Bands as people write them: `3000:0.5, 5000:1, 10000:1.5, *:2` (upper edge in yuan,
    included : rate in %; * is the open last band)."""
    return ", ".join(
        f"{'*' if b.up_to is None else _plain(b.up_to)}:{_plain(b.rate * 100)}" for b in rows
    )


def bands_from_json(data) -> tuple[Band, ...]:
    """Parse and check stored or submitted bands; BadBands when they are not usable."""
    if not isinstance(data, list) or not data:
        raise BadBands("no bands")
    parsed = []
    try:
        for row in data:
            up_to = row.get("up_to")
            parsed.append(
                Band(
                    None if up_to in (None, "") else Decimal(str(up_to)), Decimal(str(row["rate"]))
                )
            )
    except (AttributeError, KeyError, TypeError, InvalidOperation) as exc:
        raise BadBands("unreadable band") from exc
    check_bands(parsed)
    return tuple(parsed)


def check_bands(rows: Sequence[Band]) -> None:
    if not rows or rows[-1].up_to is not None:
        raise BadBands("the last band must have no upper edge")
    edges = [b.up_to for b in rows[:-1]]
    if any(e is None or e <= 0 for e in edges) or edges != sorted(set(edges)):
        raise BadBands("upper edges must be positive and increasing")
    if any(not (Decimal(0) <= b.rate <= Decimal(1)) for b in rows):
        raise BadBands("rates must be between 0 and 1")


def band_for(rows: Sequence[Band], income: Decimal) -> Band:
    """The band `income` falls in: the first whose inclusive upper edge it does not pass."""
    for band in rows:
        if band.up_to is None or income <= band.up_to:
            return band
    return rows[-1]


def monthly_amount(
    rules: Rules, basis: str, income: Decimal | None
) -> tuple[Decimal | None, Decimal]:
    """(rate, monthly amount) for a basis and income. Flat bases have no rate."""
    if basis in FLAT:
        return None, to_fen(rules.flat_amount)
    if income is None or income < 0:
        raise ValueError("an income of zero or more is needed")
    rows = rules.retired_bands if basis == RETIRED else rules.wage_bands
    rate = band_for(rows, income).rate
    return rate, to_fen(income * rate)


def quarter_average(month_incomes: Sequence[Decimal]) -> Decimal:
    """The average monthly net income of a quarter: the three months' total divided by three.
    A month with no income counts as zero and still counts as one of the three."""
    if len(month_incomes) != 3:
        raise ValueError("three months are needed")
    if any(m < 0 for m in month_incomes):
        raise ValueError("incomes must not be negative")
    return to_fen(sum(month_incomes, Decimal(0)) / 3)


# Quarters and months ---------------------------------------------------------------------------


def quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def previous_quarter(quarter: date) -> date:
    quarter = quarter_start(quarter)
    return (
        date(quarter.year - 1, 10, 1)
        if quarter.month == 1
        else date(quarter.year, quarter.month - 3, 1)
    )


def next_quarter(quarter: date) -> date:
    quarter = quarter_start(quarter)
    return (
        date(quarter.year + 1, 1, 1)
        if quarter.month == 10
        else date(quarter.year, quarter.month + 3, 1)
    )


def quarter_months(quarter: date) -> list[date]:
    quarter = quarter_start(quarter)
    return [date(quarter.year, quarter.month + i, 1) for i in range(3)]


def quarter_label(quarter: date) -> str:
    return f"{quarter.year} Q{(quarter.month - 1) // 3 + 1}"


def months_between(first: date, last: date) -> list[date]:
    """Every month start from `first` to `last`, both included (empty when first > last)."""
    months, month = [], date(first.year, first.month, 1)
    last = date(last.year, last.month, 1)
    while month <= last:
        months.append(month)
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return months

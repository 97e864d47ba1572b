"""The rules' arithmetic, as tables: every band, each edge, the flat amount, rounding."""

from datetime import date
from decimal import Decimal

import pytest

from redwheel.party.dues import rules
from redwheel.party.dues.rules import DEFAULT, monthly_amount, quarter_average

D = Decimal

WAGE_TABLE = [
    # income, rate, monthly amount (the expected figures worked out by hand)
    ("0.00", "0.005", "0.00"),
    ("1000.00", "0.005", "5.00"),
    ("2999.99", "0.005", "15.00"),  # 14.99995 rounds half up
    ("3000.00", "0.005", "15.00"),  # the edge belongs to the lower band
    ("3000.01", "0.01", "30.00"),
    ("4000.00", "0.01", "40.00"),
    ("5000.00", "0.01", "50.00"),
    ("5000.01", "0.015", "75.00"),
    ("8000.00", "0.015", "120.00"),
    ("10000.00", "0.015", "150.00"),
    ("10000.01", "0.02", "200.00"),
    ("25000.00", "0.02", "500.00"),
    ("1234.50", "0.005", "6.17"),  # 6.1725
    ("1233.00", "0.005", "6.17"),  # 6.165 → 6.17 (half up, not banker's 6.16)
]


@pytest.mark.parametrize("basis", ["wage", "no_wage"])
@pytest.mark.parametrize(("income", "rate", "amount"), WAGE_TABLE)
def test_wage_and_net_income_bands(basis, income, rate, amount):
    assert monthly_amount(DEFAULT, basis, D(income)) == (D(rate), D(amount))


RETIRED_TABLE = [
    ("2000.00", "0.005", "10.00"),
    ("4999.99", "0.005", "25.00"),
    ("5000.00", "0.005", "25.00"),
    ("5000.01", "0.01", "50.00"),
    ("12000.00", "0.01", "120.00"),
]


@pytest.mark.parametrize(("income", "rate", "amount"), RETIRED_TABLE)
def test_retired_bands(income, rate, amount):
    assert monthly_amount(DEFAULT, "retired", D(income)) == (D(rate), D(amount))


@pytest.mark.parametrize("basis", ["student", "unemployed", "minimum_allowance"])
def test_flat_bases_pay_twenty_fen_whatever_the_income(basis):
    assert monthly_amount(DEFAULT, basis, None) == (None, D("0.20"))
    assert monthly_amount(DEFAULT, basis, D("50000")) == (None, D("0.20"))


def test_a_negative_or_missing_income_is_refused():
    with pytest.raises(ValueError):
        monthly_amount(DEFAULT, "wage", None)
    with pytest.raises(ValueError):
        monthly_amount(DEFAULT, "wage", D("-1"))


AVERAGE_TABLE = [
    (["6000", "6000", "6000"], "6000.00"),
    (["9000", "0", "0"], "3000.00"),  # months with no income still count as months
    (["0", "0", "0"], "0.00"),
    (["1000", "2000", "2000.01"], "1666.67"),  # 1666.6700 → fen
    (["0.01", "0.01", "0"], "0.01"),  # 0.00667 → 0.01
]


@pytest.mark.parametrize(("months", "average"), AVERAGE_TABLE)
def test_quarter_average_divides_the_quarter_by_three(months, average):
    assert quarter_average([D(m) for m in months]) == D(average)


def test_quarter_average_needs_three_months():
    with pytest.raises(ValueError):
        quarter_average([D("100"), D("100")])


def test_an_average_on_an_edge_takes_the_lower_band():
    average = quarter_average([D("9000"), D("0"), D("0")])
    assert monthly_amount(DEFAULT, "no_wage", average) == (D("0.005"), D("15.00"))


QUARTERS = [
    (date(2026, 1, 1), date(2026, 1, 1), date(2025, 10, 1)),
    (date(2026, 3, 31), date(2026, 1, 1), date(2025, 10, 1)),
    (date(2026, 4, 1), date(2026, 4, 1), date(2026, 1, 1)),
    (date(2026, 8, 15), date(2026, 7, 1), date(2026, 4, 1)),
    (date(2026, 12, 31), date(2026, 10, 1), date(2026, 7, 1)),
]


@pytest.mark.parametrize(("day", "quarter", "previous"), QUARTERS)
def test_quarters(day, quarter, previous):
    assert rules.quarter_start(day) == quarter
    assert rules.previous_quarter(quarter) == previous
    assert rules.next_quarter(previous) == quarter


def test_quarter_months():
    assert rules.quarter_months(date(2026, 10, 1)) == [
        date(2026, 10, 1),
        date(2026, 11, 1),
        date(2026, 12, 1),
    ]


@pytest.mark.parametrize(
    "bands",
    [
        [],
        [{"up_to": "3000", "rate": "0.005"}],  # no open last band
        [{"up_to": "5000", "rate": "0.01"}, {"up_to": "3000", "rate": "0.005"},
         {"up_to": None, "rate": "0.02"}],  # edges not increasing
        [{"up_to": None, "rate": "1.5"}],  # a rate above 100 %
        [{"rate": "x"}],
    ],
)  # fmt: skip
def test_unusable_bands_are_refused(bands):
    with pytest.raises(rules.BadBands):
        rules.bands_from_json(bands)


def test_bands_round_trip_through_json():
    data = rules.bands_to_json(DEFAULT.wage_bands)
    assert data[0] == {"up_to": "3000", "rate": "0.005"}
    assert data[-1] == {"up_to": None, "rate": "0.02"}
    assert rules.bands_from_json(data) == DEFAULT.wage_bands

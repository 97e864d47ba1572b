"""Cross-field rules of exchange records, and every code the validator can return is documented."""

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redwheel.exchange.records import RECORD_TYPES, SPECS
from redwheel.exchange.rejection_codes import MESSAGES
from redwheel.exchange.tests.examples import example
from redwheel.exchange.validation import validate_batch

COMPANY = "PA1"


def codes(record_type, changes):
    record = example(record_type, COMPANY) | changes
    _valid, rejected = validate_batch(record_type, [record], COMPANY)
    return [(r["field"], r["code"]) for r in rejected]


@pytest.mark.parametrize(
    ("record_type", "changes", "expected"),
    [
        # alighting before boarding
        (
            "operatePay",
            {"DepTime": "20240315083200", "DestTime": "20240315083100"},
            [("DestTime", "end_before_start")],
        ),
        # paid 3 minutes before boarding: beyond the 120 s skew
        (
            "operatePay",
            {"DepTime": "20240315083200", "PayTime": "20240315082900"},
            [("PayTime", "paid_before_departure")],
        ),
        (
            "orderCancel",
            {"OrderTime": "20240315082500", "CancelTime": "20240315082000"},
            [("CancelTime", "cancelled_before_ordered")],
        ),
        (
            "baseInfoDriverEducate",
            {"StartTime": "1100", "StopTime": "0900"},
            [("StopTime", "end_before_start")],
        ),
        (
            "baseInfoDriver",
            {"ContractOn": "20240101", "ContractOff": "20231231"},
            [("ContractOff", "end_before_start")],
        ),
        (
            "operatePay",
            {"FactPrice": 30, "Price": 25, "BenfitPrice": 1.5},
            [("FactPrice", "price_mismatch")],
        ),
        (
            "operatePay",
            {"FactPrice": 23.5, "CashPrice": 10, "LinePrice": 10},
            [("FactPrice", "price_mismatch")],
        ),
        # London in GCJ-02: outside China, refused before any conversion
        (
            "orderCreate",
            {"DepLongitude": -127000, "DepLatitude": 51507000, "Encrypt": 1},
            [("DepLongitude", "outside_china")],
        ),
        (
            "positionDriver",
            {"Longitude": 104065735, "Latitude": 60000000},
            [("Latitude", "outside_china")],
        ),
        ("operateArrive", {"DriveMile": -1}, [("DriveMile", "bad_number")]),
        ("operateDepart", {"WaitTime": -5}, [("WaitTime", "bad_number")]),
        ("operatePay", {"FactPrice": "-0.01"}, [("FactPrice", "bad_number")]),
    ],
)
def test_a_record_breaking_a_cross_field_rule_is_rejected(record_type, changes, expected):
    assert codes(record_type, changes) == expected


@pytest.mark.parametrize(
    ("record_type", "changes"),
    [
        # within the 120 s clock skew
        ("operatePay", {"DepTime": "20240315083200", "PayTime": "20240315083001"}),
        ("orderCancel", {"OrderTime": "20240315082500", "CancelTime": "20240315082301"}),
        ("operatePay", {"DepTime": "20240315083200", "DestTime": "20240315083200"}),
        # a fen of rounding is tolerated; absent terms are not checked
        ("operatePay", {"FactPrice": 23.51, "Price": 25, "BenfitPrice": 1.5}),
        ("operatePay", {"FactPrice": 23.5, "CashPrice": 3.5, "LinePrice": 20}),
        ("operatePay", {"FactPrice": 99, "Price": None, "BenfitPrice": 1.5}),
        ("orderCreate", {"DepLongitude": 73500000, "DepLatitude": 53600000}),
    ],
)
def test_records_within_the_tolerances_pass(record_type, changes):
    assert codes(record_type, changes) == []


DOCS = Path(__file__).resolve().parents[3] / "docs" / "exchange.md"
STORE_CODES = {"duplicate_phone", "vehicle_driver_unknown", "foreign_vehicle", "driver_other_city"}


def documented_codes() -> set[str]:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Rejection codes", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))


def test_every_message_code_is_documented():
    missing = (set(MESSAGES) | STORE_CODES) - documented_codes()
    assert not missing, f"docs/exchange.md does not list {sorted(missing)}"


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.from_regex(r"\A[0-9]{4,18}X?\Z"),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    record_type=st.sampled_from(RECORD_TYPES),
    data=st.data(),
)
def test_fuzzed_records_only_get_documented_codes(record_type, data):
    base = example(record_type, COMPANY)
    names = sorted(set(SPECS[record_type]) | set(base))
    changes = data.draw(st.dictionaries(st.sampled_from(names), _values, max_size=4))
    record = data.draw(st.one_of(st.just(base | changes), _values))
    _valid, rejected = validate_batch(record_type, [record], COMPANY)
    allowed = documented_codes()
    for rejection in rejected:
        assert rejection["code"] in allowed, rejection

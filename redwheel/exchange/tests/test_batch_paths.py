"""The per-batch fast paths of ingestion say the same as the per-record rules they replace:
batch coordinate conversion, cached licence checks and blind indexes, array literals."""

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redwheel import testing
from redwheel.core import crypto
from redwheel.exchange import coords, validation, writers
from redwheel.exchange.models import Trip
from redwheel.exchange.services.common import _blind_index
from redwheel.exchange.tests.examples import example

MICRO_LNG = st.integers(min_value=73_500_000, max_value=135_100_000)
MICRO_LAT = st.integers(min_value=3_800_000, max_value=53_600_000)
ENCRYPT = st.sampled_from([0, 1, 2, 3, 4, None])


@settings(max_examples=60, deadline=None)
@given(points=st.lists(st.tuples(MICRO_LNG, MICRO_LAT, ENCRYPT), min_size=1, max_size=40))
def test_batch_conversion_equals_the_per_point_conversion(points):
    lngs = [p[0] / 1e6 for p in points]
    lats = [p[1] / 1e6 for p in points]
    encrypts = [p[2] for p in points]
    expected = [coords.to_wgs84(a, b, e) for a, b, e in zip(lngs, lats, encrypts, strict=True)]
    assert coords.to_wgs84_many(lngs, lats, encrypts) == expected


def test_batch_conversion_of_known_points():
    # Chengdu in GCJ-02 is ~300 m off WGS-84; a WGS-84 point is kept; outside China too.
    wgs = (104.065735, 30.657441)
    gcj = coords.wgs84_to_gcj02(*wgs)
    bd = coords.wgs84_to_bd09(*wgs)
    out = coords.to_wgs84_many([gcj[0], bd[0], 104.065735], [gcj[1], bd[1], 30.657441], [1, 3, 2])
    for lng, lat in out[:2]:
        assert coords.distance_m(lng, lat, *wgs) < 0.05
    assert out[2] == wgs
    assert coords.to_wgs84_many([], [], []) == []


def test_rounding_to_seven_places_is_pythons_even_on_halves():
    values = [k / 1e7 + 0.5e-7 for k in range(1_040_000_000, 1_040_002_000)]
    values += [(k + 0.5) / 1e7 for k in range(-1000, 1000)] + [104.06573449999999, -0.0]
    assert coords._round7(np.array(values)) == [round(v, 7) for v in values]


def test_a_converted_record_carries_wgs84_and_a_rejected_one_is_not_converted():
    good = example("operateLogin", "P1")
    good |= {"Longitude": 104_071_700, "Latitude": 30_655_000, "Encrypt": 1}
    outside = good | {"Longitude": 2_350_000}
    valid, rejected = validation.validate_batch("operateLogin", [good, outside], "P1")
    ((index, cleaned),) = valid
    assert index == 0
    expected = coords.gcj02_to_wgs84(104.0717, 30.655)
    assert (cleaned["Longitude"], cleaned["Latitude"]) == (
        round(expected[0], 7),
        round(expected[1], 7),
    )
    assert [(r["index"], r["field"], r["code"]) for r in rejected] == [
        (1, "Longitude", "outside_china")
    ]


def test_the_cached_licence_check_still_refuses_a_birth_date_after_today():
    born = date(2030, 6, 1)
    number = testing.id_number(77, born=born)
    assert not validation.license_ok(number, born - timedelta(days=1))
    assert validation.license_ok(number, born)
    assert not validation.license_ok(number[:-1] + ("0" if number[-1] != "0" else "1"), born)


def test_the_cached_blind_index_follows_the_key():
    number = testing.id_number(78)
    assert _blind_index(number, "key-one") == crypto.blind_index(number, "key-one")
    assert _blind_index(number, "key-two") == crypto.blind_index(number, "key-two")
    assert _blind_index(number, "key-one") != _blind_index(number, "key-two")


AWKWARD = ["a,b", "{x}", "NULL", " spaced ", 'quo"te', "back\\slash", '\\"', "中文", "end\\"]


@pytest.mark.django_db
def test_one_of_matches_awkward_order_ids_exactly(city):
    platform = city.platform_a
    for order_id in [*AWKWARD, "plain", "null"]:
        Trip.objects.create(platform=platform, order_id=order_id, license_index="x")
    found = Trip.objects.filter(writers.one_of("order_id", AWKWARD), platform=platform)
    assert sorted(found.values_list("order_id", flat=True)) == sorted(AWKWARD)
    assert not Trip.objects.filter(writers.one_of("order_id", []), platform=platform).exists()


def test_text_array_literal_quotes_every_element():
    assert writers.text_array(["a", "b"]) == '{"a","b"}'
    assert writers.text_array(['q"', "b\\"]) == '{"q\\"","b\\\\"}'
    assert writers.text_array([]) == "{}"

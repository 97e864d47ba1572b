"""Datum conversion: the iterative inverses round-trip to well under a metre across China."""

from hypothesis import given, settings
from hypothesis import strategies as st

from redwheel.exchange import coords

CHINA_LNG = st.floats(min_value=73.5, max_value=135.0, allow_nan=False)
CHINA_LAT = st.floats(min_value=18.0, max_value=53.5, allow_nan=False)


@settings(max_examples=400, deadline=None)
@given(lng=CHINA_LNG, lat=CHINA_LAT)
def test_gcj02_round_trip_is_below_one_metre(lng, lat):
    back = coords.gcj02_to_wgs84(*coords.wgs84_to_gcj02(lng, lat))
    assert coords.distance_m(lng, lat, *back) < 1.0
    assert coords.distance_m(lng, lat, *back) < 0.01  # in fact below a centimetre


@settings(max_examples=400, deadline=None)
@given(lng=CHINA_LNG, lat=CHINA_LAT)
def test_bd09_round_trip_is_below_one_metre(lng, lat):
    back = coords.bd09_to_wgs84(*coords.wgs84_to_bd09(lng, lat))
    assert coords.distance_m(lng, lat, *back) < 1.0


@settings(max_examples=200, deadline=None)
@given(lng=CHINA_LNG, lat=CHINA_LAT, encrypt=st.sampled_from([1, 3]))
def test_to_wgs84_of_the_forward_transform_returns_the_point(lng, lat, encrypt):
    forward = coords.wgs84_to_gcj02 if encrypt == 1 else coords.wgs84_to_bd09
    assert coords.distance_m(lng, lat, *coords.to_wgs84(*forward(lng, lat), encrypt)) < 1.0


def test_the_offset_is_real_and_other_datums_are_kept():
    lng, lat = 104.065735, 30.657441  # Chengdu
    assert 100 < coords.distance_m(lng, lat, *coords.wgs84_to_gcj02(lng, lat)) < 1000
    for encrypt in (0, 2, 4, None):
        assert coords.to_wgs84(lng, lat, encrypt) == (lng, lat)
    # Outside China there is no GCJ-02 offset.
    assert coords.gcj02_to_wgs84(2.35, 48.85) == (2.35, 48.85)

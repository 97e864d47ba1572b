"""Datum conversion for exchange coordinates: GCJ-02 and BD-09 to WGS-84.

GCJ-02 ("Mars" coordinates, used by Amap and most Chinese map SDKs) is WGS-84 plus a
deliberately non-linear offset of a few hundred metres inside China; BD-09 (Baidu) is a
further rotation/scaling of GCJ-02. Only the forward transforms are published, so the inverse
is computed iteratively: start from the input and correct by the forward error until it is
below ~1e-9 degree (a few tenths of a millimetre). Outside China's rough bounding box the
GCJ-02 offset is not applied, as the SDKs do.

Exchange values are integers in 1e-6 degree; `to_wgs84` takes and returns degrees.
`to_wgs84_many` is the same conversion for a whole batch at once, with NumPy: the same
formulas and the same per-point iteration (each point stops when it has converged), so it
agrees with `to_wgs84` except where the platform's vector sin/cos/atan2 differ from libm's in
the last bit, which can move a result by one 1e-7° step in the rare case it sits on a rounding
boundary.
"""

import math

import numpy as np

ENCRYPT_GCJ02 = 1
ENCRYPT_WGS84 = 2
ENCRYPT_BD09 = 3
ENCRYPT_CGCS2000 = 4
ENCRYPT_OTHER = 0

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by the GCJ-02 algorithm
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0
_TOLERANCE = 1e-9
_MAX_ITERATIONS = 30


def out_of_china(lng: float, lat: float) -> bool:
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


_PI = math.pi
_sin, _cos, _sqrt = math.sin, math.cos, math.sqrt


def wgs84_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    """The published forward transform.

    This is `_transform_lat` / `_transform_lng` inlined, with the term they share computed
    once: the same floating-point operations in the same order, so the same results, at about
    half the cost (it runs several times per converted coordinate).
    """
    if not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271):
        return lng, lat
    x, y = lng - 105.0, lat - 35.0
    shared = (20.0 * _sin(6.0 * x * _PI) + 20.0 * _sin(2.0 * x * _PI)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * _sqrt(abs(x))
    dlat += shared
    dlat += (20.0 * _sin(y * _PI) + 40.0 * _sin(y / 3.0 * _PI)) * 2.0 / 3.0
    dlat += (160.0 * _sin(y / 12.0 * _PI) + 320 * _sin(y * _PI / 30.0)) * 2.0 / 3.0
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * _sqrt(abs(x))
    dlng += shared
    dlng += (20.0 * _sin(x * _PI) + 40.0 * _sin(x / 3.0 * _PI)) * 2.0 / 3.0
    dlng += (150.0 * _sin(x / 12.0 * _PI) + 300.0 * _sin(x / 30.0 * _PI)) * 2.0 / 3.0
    radlat = lat / 180.0 * _PI
    magic = 1 - _EE * _sin(radlat) ** 2
    sqrtmagic = _sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * _PI)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * _cos(radlat) * _PI)
    return lng + dlng, lat + dlat


def gcj02_to_bd09(lng: float, lat: float) -> tuple[float, float]:
    """The published forward transform."""
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def wgs84_to_bd09(lng: float, lat: float) -> tuple[float, float]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lng, lat))


def _invert(forward, lng: float, lat: float) -> tuple[float, float]:
    """Solve forward(x) = (lng, lat) by fixed-point correction (the Jacobian is ~identity)."""
    x, y = lng, lat
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(x, y)
        dx, dy = fx - lng, fy - lat
        if abs(dx) < _TOLERANCE and abs(dy) < _TOLERANCE:
            break
        x, y = x - dx, y - dy
    return x, y


def gcj02_to_wgs84(lng: float, lat: float) -> tuple[float, float]:
    if out_of_china(lng, lat):
        return lng, lat
    return _invert(wgs84_to_gcj02, lng, lat)


def bd09_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    return _invert(gcj02_to_bd09, lng, lat)


def bd09_to_wgs84(lng: float, lat: float) -> tuple[float, float]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lng, lat))


def to_wgs84(lng: float, lat: float, encrypt: int | None) -> tuple[float, float]:
    """Degrees in the datum named by `Encrypt` → WGS-84 degrees (rounded to 1e-7°, ~1 cm).

    1 (GCJ-02) and 3 (BD-09) are converted; 2 (WGS-84), 4 (CGCS2000, within centimetres of
    WGS-84), 0 (other) and a missing Encrypt are stored as they are.
    """
    if encrypt == ENCRYPT_GCJ02:
        lng, lat = gcj02_to_wgs84(lng, lat)
    elif encrypt == ENCRYPT_BD09:
        lng, lat = bd09_to_wgs84(lng, lat)
    return round(lng, 7), round(lat, 7)


# Batch conversion (NumPy) ------------------------------------------------------------------


def _in_china_np(lng: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """`not out_of_china` per point."""
    return (lng >= 72.004) & (lng <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _wgs84_to_gcj02_np(lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`wgs84_to_gcj02` on arrays, operation for operation."""
    x, y = lng - 105.0, lat - 35.0
    sin, sqrt = np.sin, np.sqrt
    shared = (20.0 * sin(6.0 * x * _PI) + 20.0 * sin(2.0 * x * _PI)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(np.abs(x))
    dlat += shared
    dlat += (20.0 * sin(y * _PI) + 40.0 * sin(y / 3.0 * _PI)) * 2.0 / 3.0
    dlat += (160.0 * sin(y / 12.0 * _PI) + 320 * sin(y * _PI / 30.0)) * 2.0 / 3.0
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(np.abs(x))
    dlng += shared
    dlng += (20.0 * sin(x * _PI) + 40.0 * sin(x / 3.0 * _PI)) * 2.0 / 3.0
    dlng += (150.0 * sin(x / 12.0 * _PI) + 300.0 * sin(x / 30.0 * _PI)) * 2.0 / 3.0
    radlat = lat / 180.0 * _PI
    magic = 1 - _EE * sin(radlat) ** 2
    sqrtmagic = sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * _PI)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * np.cos(radlat) * _PI)
    inside = _in_china_np(lng, lat)
    return np.where(inside, lng + dlng, lng), np.where(inside, lat + dlat, lat)


def _gcj02_to_bd09_np(lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.sqrt(lng * lng + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lng) + 0.000003 * np.cos(lng * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _invert_np(forward, lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`_invert` on arrays: each point is corrected until it has converged, then left alone,
    so every point takes the steps the scalar loop would take."""
    x, y = lng.copy(), lat.copy()
    active = np.arange(len(lng))
    for _ in range(_MAX_ITERATIONS):
        if not len(active):
            break
        xa, ya = x[active], y[active]
        fx, fy = forward(xa, ya)
        dx, dy = fx - lng[active], fy - lat[active]
        going = (np.abs(dx) >= _TOLERANCE) | (np.abs(dy) >= _TOLERANCE)
        active = active[going]
        x[active] = xa[going] - dx[going]
        y[active] = ya[going] - dy[going]
    return x, y


def _gcj02_to_wgs84_np(lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    inside = _in_china_np(lng, lat)
    x, y = lng.copy(), lat.copy()
    if inside.any():
        x[inside], y[inside] = _invert_np(_wgs84_to_gcj02_np, lng[inside], lat[inside])
    return x, y


def to_wgs84_many(lngs, lats, encrypts) -> list[tuple[float, float]]:
    """`to_wgs84` for many points at once: [(lng, lat), ...] in WGS-84 degrees, rounded to
    1e-7°, from sequences of degrees and their `Encrypt` codes."""
    n = len(lngs)
    if n == 0:
        return []
    lng = np.asarray(lngs, dtype=np.float64)
    lat = np.asarray(lats, dtype=np.float64)
    code = np.fromiter((-1 if e is None else e for e in encrypts), dtype=np.int64, count=n)
    with np.errstate(all="ignore"):  # lanes outside China are computed, then discarded
        bd = code == ENCRYPT_BD09
        if bd.any():
            lng[bd], lat[bd] = _invert_np(_gcj02_to_bd09_np, lng[bd], lat[bd])
        converted = (code == ENCRYPT_GCJ02) | bd
        if converted.any():
            lng[converted], lat[converted] = _gcj02_to_wgs84_np(lng[converted], lat[converted])
    return list(zip(_round7(lng), _round7(lat), strict=True))


def _round7(values: np.ndarray) -> list[float]:
    """Python's `round(v, 7)` for each value, which rounds the exact binary value half-even.

    Scaling by 1e7 and rounding to an integer k picks the same k except when the scaled value
    lies within its own rounding error of a half; those few go through `round` itself. k / 1e7
    is then the double nearest to k·10⁻⁷, which is what `round` returns as well."""
    scaled = values * 1e7
    k = np.rint(scaled)
    out = (k / 1e7).tolist()
    for i in np.flatnonzero(np.abs(np.abs(scaled - k) - 0.5) < 1e-4).tolist():
        out[i] = round(float(values[i]), 7)
    return out


def distance_m(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(min(1.0, math.sqrt(h)))

"""Distances on WGS-84 coordinates (degrees) and "drivers near a point" from last positions."""

import math

EARTH_RADIUS_M = 6_371_008.8


def distance_m(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lng: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lng, max_lng, min_lat, max_lat) enclosing the circle; a cheap SQL pre-filter."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlng = math.degrees(radius_m / (EARTH_RADIUS_M * max(math.cos(math.radians(lat)), 1e-6)))
    return lng - dlng, lng + dlng, lat - dlat, lat + dlat


def drivers_near(lng: float, lat: float, radius_km: float, drivers_qs, since=None) -> dict:
    """{driver_id: distance_m} for drivers of `drivers_qs` whose last known position (the
    newest `exchange.LatestPosition` row over their platforms) lies within `radius_km`."""
    from redwheel.exchange.models import LatestPosition

    radius_m = radius_km * 1000
    min_lng, max_lng, min_lat, max_lat = bounding_box(lng, lat, radius_m)
    in_box = LatestPosition.objects.filter(
        driver__in=drivers_qs,
        lng__gte=min_lng,
        lng__lte=max_lng,
        lat__gte=min_lat,
        lat__lte=max_lat,
    )
    if since is not None:
        in_box = in_box.filter(at__gte=since)
    # A driver on several platforms has several rows: only the newest one counts.
    rows = LatestPosition.objects.filter(driver_id__in=in_box.values("driver_id"))
    newest: dict[int, tuple] = {}
    for driver_id, at, p_lng, p_lat in rows.values_list("driver_id", "at", "lng", "lat"):
        if driver_id not in newest or at > newest[driver_id][0]:
            newest[driver_id] = (at, p_lng, p_lat)
    found = {}
    for driver_id, (_at, p_lng, p_lat) in newest.items():
        d = distance_m(lng, lat, p_lng, p_lat)
        if d <= radius_m:
            found[driver_id] = round(d)
    return found

"""One platform's feed for the demo month: the records of a driver's driving day, order by
order (create, match, depart, arrive, pay, ratings, complaints, positions), as the platform
would send them. operations.py decides who drives how much; this module writes the records.
"""

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from redwheel.core.dates import LOCAL_TZ

LNG_RANGE, LAT_RANGE = (103.90, 104.20), (30.50, 30.80)
HOTSPOTS = [  # GCJ-02, roughly: where Chengdu's trips start and end
    ("天府广场", 104.0665, 30.6574),
    ("春熙路", 104.0810, 30.6570),
    ("成都东站", 104.1410, 30.6300),
    ("成都站", 104.0740, 30.6970),
    ("双流国际机场", 103.9560, 30.5720),
    ("高新区软件园", 104.0690, 30.5460),
    ("宽窄巷子", 104.0560, 30.6640),
    ("太古里", 104.0840, 30.6540),
    ("四川大学华西医院", 104.0630, 30.6410),
    ("金融城", 104.0730, 30.5780),
]
COMPLAINTS = [
    "绕路",
    "服务态度差",
    "车内有异味",
    "未按导航路线行驶",
    "接驾迟到",
    "途中接打电话",
    "拒绝开空调",
    "到达后未结束行程",
]
COMPLAINT_RESULTS = [
    "已核实，对司机进行教育",
    "已核实，退还部分车费",
    "未核实，已向乘客解释",
    "已核实，扣减服务分",
]
CANCEL_REASONS = {
    1: "行程有变",
    2: "司机接驾距离过远",
    3: "平台判定超时未接驾",
    4: "乘客迟到未上车",
    5: "司机未到达上车点",
}


@dataclass
class FeedDriver:
    license_no: str
    name: str
    phone: str
    gender: str
    region: str
    plate: str
    member: bool
    platforms: list  # [(platform, share, affiliation)]
    active: bool = True
    day_rate: float = 0.0  # share of the month's full-intensity days this driver drives
    quality: float = 0.0
    complaint_rate: float = 0.0
    per_hour: float = 1.0
    full_time: bool = False


# Small generators -------------------------------------------------------------------------------


def f14(t: datetime) -> str:
    return t.strftime("%Y%m%d%H%M%S")


def point(rng: random.Random) -> tuple[float, float, str]:
    if rng.random() < 0.7:
        name, lng, lat = rng.choice(HOTSPOTS)
        lng, lat = rng.gauss(lng, 0.012), rng.gauss(lat, 0.010)
    else:
        name, lng, lat = "", rng.uniform(*LNG_RANGE), rng.uniform(*LAT_RANGE)
    lng = min(max(lng, LNG_RANGE[0]), LNG_RANGE[1])
    lat = min(max(lat, LAT_RANGE[0]), LAT_RANGE[1])
    return lng, lat, name or "成都市"


def e6(value: float) -> int:
    return round(value * 1_000_000)


def km_between(a, b) -> float:
    dx = (a[0] - b[0]) * 111.32 * math.cos(math.radians(30.65))
    dy = (a[1] - b[1]) * 110.57
    return math.hypot(dx, dy)


def star_score(rng: random.Random, quality: float) -> int:
    p5 = min(0.95, max(0.3, 0.72 + 0.10 * quality))
    x = rng.random()
    if x < p5:
        return 5
    x = (x - p5) / (1 - p5)
    return 4 if x < 0.6 else 3 if x < 0.85 else 2 if x < 0.95 else 1


def poisson(rng: random.Random, lam: float) -> int:
    n, p, limit = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return n
        n += 1


# The records of one feed ---------------------------------------------------------------------


@dataclass
class Feed:
    """Records of one platform, by record type, in sending order."""

    platform: object
    encrypt: int
    records: dict = field(default_factory=lambda: defaultdict(list))
    order_seq: int = 0
    trips: int = 0

    def add(self, record_type: str, record: dict) -> None:
        self.records[record_type].append({"CompanyId": self.platform.company_id, **record})

    def order_id(self, month: date) -> str:
        self.order_seq += 1
        return f"{self.platform.company_id}{month:%Y%m}{self.order_seq:07d}"


PICKUP_MINUTES = (2, 8)
RIDE_MINUTES = (10, 30)
BUSY_SHARE = (0.30, 0.60)  # busy (pickup + ride) as a share of online time
LONGEST_DAY_HOURS = 13  # online hours at most, before the rest between the two sessions
LAST_ARRIVAL_HOUR = 23  # days end before midnight, so a day's trips stay on that day
# pickup + ride on average, plus about two minutes of matching and paying
AVERAGE_BUSY_HOURS = ((sum(PICKUP_MINUTES) + sum(RIDE_MINUTES)) / 2 + 2) / 60


def driving_day(rng, feed: Feed, month: date, d: FeedDriver, day: int, count: int):
    """One day's sessions and `count` completed trips (cancelled orders come on top). Long
    days are split in two with a rest (fatigue rule). The busy share is drawn per day, high
    enough that the day fits in LONGEST_DAY_HOURS; better drivers wait a little less."""
    completed = complaints = 0
    busy_hours = count * AVERAGE_BUSY_HOURS
    low = max(BUSY_SHARE[0], busy_hours / LONGEST_DAY_HOURS)
    share = min(BUSY_SHARE[1], max(low, rng.uniform(*BUSY_SHARE) * d.per_hour / 1.15))
    online_hours = busy_hours / share + 1.5  # + the rest and the slack of the draws
    latest_start = max(5.5, LAST_ARRIVAL_HOUR - 1 - online_hours)
    start_hour = rng.uniform(5.5, min(latest_start, 17))
    t = datetime(month.year, month.month, day) + timedelta(hours=start_hour)
    t = t.replace(microsecond=0)
    parts = [count] if count <= 9 else [count // 2, count - count // 2]
    day_end = datetime(month.year, month.month, day, LAST_ARRIVAL_HOUR)
    pos = point(rng)
    for index, part in enumerate(parts):
        online(feed, d, "operateLogin", "LoginTime", t, pos)
        done = 0
        while done < part:
            # Behind schedule, wait less: the day's trips must all arrive on that day.
            rest_hours = 1.0 if index < len(parts) - 1 else 0.0
            hours_left = (day_end - t).total_seconds() / 3600 - rest_hours
            still = (count - completed - done) * AVERAGE_BUSY_HOURS
            needed = still / hours_left if hours_left > 0 else 1.0
            t, pos, c, k = trip(rng, feed, month, d, t, pos, min(0.9, max(share, needed)))
            done += c
            complaints += k
        completed += done
        t += timedelta(seconds=int(rng.uniform(60, 900)))
        if rng.random() >= 0.03:  # a few sessions end with no logout (app killed): not counted
            online(feed, d, "operateLogout", "LogoutTime", t, pos)
        t += timedelta(minutes=rng.randint(30, 60))
    return completed, complaints


def online(feed: Feed, d: FeedDriver, record_type: str, time_field: str, at: datetime, pos):
    feed.add(
        record_type,
        {
            "LicenseId": d.license_no,
            "VehicleNo": d.plate,
            time_field: f14(at),
            "Longitude": e6(pos[0]),
            "Latitude": e6(pos[1]),
            "Encrypt": 1,
        },
    )


def toward(rng, start, km: float) -> tuple[float, float, str]:
    """A point about `km` from `start` in a random direction, kept inside the city."""
    angle = rng.uniform(0, 2 * math.pi)
    lng = start[0] + km * math.cos(angle) / (111.32 * math.cos(math.radians(30.65)))
    lat = start[1] + km * math.sin(angle) / 110.57
    lng = min(max(lng, LNG_RANGE[0]), LNG_RANGE[1])
    lat = min(max(lat, LAT_RANGE[0]), LAT_RANGE[1])
    near = min(HOTSPOTS, key=lambda h: km_between((lng, lat), h[1:]))
    return lng, lat, near[0] if km_between((lng, lat), near[1:]) < 1.5 else "成都市"


def trip(rng, feed: Feed, month: date, d: FeedDriver, t: datetime, pos, busy_share: float):
    """Wait for an order, maybe have it cancelled, otherwise drive it: pickup PICKUP_MINUTES,
    ride RIDE_MINUTES, and a wait before the order that makes busy about `busy_share` of
    online time. Returns the new time, position, completed (0/1) and complaints (0/1)."""
    pickup = rng.uniform(*PICKUP_MINUTES) * 60
    drive = int(rng.uniform(*RIDE_MINUTES) * 60)
    cancel = rng.random() < 0.08
    # a cancelled order is re-dispatched quickly, so it adds little waiting
    gap = (pickup + drive) * (1 / busy_share - 1) * rng.uniform(0.5, 1.5) * (0.2 if cancel else 1)
    order_time = t + timedelta(seconds=int(gap) + 5)
    origin = toward(rng, pos, pickup / 3600 * rng.uniform(15, 25))
    km = max(1.2, drive / 3600 * rng.uniform(18, 32))
    dest = toward(rng, origin, km / 1.3)
    order_id = feed.order_id(month)
    matched = order_time + timedelta(seconds=rng.randint(3, 50))
    feed.add(
        "orderCreate",
        {
            "Address": d.region,
            "OrderId": order_id,
            "DepartTime": f14(order_time),
            "OrderTime": f14(order_time),
            "Departure": origin[2],
            "DepLongitude": e6(origin[0]),
            "DepLatitude": e6(origin[1]),
            "Destination": dest[2],
            "DestLongitude": e6(dest[0]),
            "DestLatitude": e6(dest[1]),
            "Encrypt": 1,
            "FareType": "KC01",
        },
    )
    feed.add(
        "orderMatch",
        {
            "Address": d.region,
            "OrderId": order_id,
            "Longitude": e6(pos[0]),
            "Latitude": e6(pos[1]),
            "Encrypt": 1,
            "LicenseId": d.license_no,
            "DriverPhone": d.phone,
            "VehicleNo": d.plate,
            "DistributeTime": f14(matched),
        },
    )
    if cancel:
        code = rng.choices([1, 2, 3, 4, 5], weights=[50, 15, 10, 15, 10])[0]
        cancelled = matched + timedelta(seconds=rng.randint(30, 600))
        feed.add(
            "orderCancel",
            {
                "Address": d.region,
                "OrderId": order_id,
                "OrderTime": f14(order_time),
                "CancelTime": f14(cancelled),
                "Operator": {1: 1, 2: 2, 3: 3, 4: 1, 5: 2}[code],
                "CancelTypeCode": code,
                "CancelReason": CANCEL_REASONS[code],
            },
        )
        return cancelled, pos, 0, 0
    pickup_km = km_between(pos, origin)
    depart = matched + timedelta(seconds=int(pickup))
    arrive = depart + timedelta(seconds=drive)
    paid = arrive + timedelta(seconds=rng.randint(10, 180))
    price = Decimal(8 + 1.9 * km + 0.35 * drive / 60).quantize(Decimal("0.1"))
    night = Decimal("0.0")
    if depart.hour >= 23 or depart.hour < 5:
        night = (price * Decimal("0.2")).quantize(Decimal("0.1"))
    benefit = Decimal(rng.choice([0, 0, 0, 2, 3, 5]))
    fact = max(Decimal("5.0"), price + night - benefit)
    wait = rng.randint(0, 240)
    feed.add(
        "operateDepart",
        {
            "OrderId": order_id,
            "LicenseId": d.license_no,
            "FareType": "KC01",
            "VehicleNo": d.plate,
            "DepLongitude": e6(origin[0]),
            "DepLatitude": e6(origin[1]),
            "Encrypt": 1,
            "DepTime": f14(depart),
            "WaitMile": round(pickup_km, 1),
            "WaitTime": wait,
        },
    )
    feed.add(
        "operateArrive",
        {
            "OrderId": order_id,
            "DestLongitude": e6(dest[0]),
            "DestLatitude": e6(dest[1]),
            "Encrypt": 1,
            "DestTime": f14(arrive),
            "DriveMile": round(km, 1),
            "DriveTime": drive,
        },
    )
    feed.add(
        "operatePay",
        {
            "OrderId": order_id,
            "OnArea": d.region,
            "DriverName": d.name,
            "LicenseId": d.license_no,
            "FareType": "KC01",
            "VehicleNo": d.plate,
            "BookDepTime": f14(order_time),
            "WaitTime": wait,
            "DepLongitude": e6(origin[0]),
            "DepLatitude": e6(origin[1]),
            "DepArea": origin[2],
            "DepTime": f14(depart),
            "DestLongitude": e6(dest[0]),
            "DestLatitude": e6(dest[1]),
            "DestArea": dest[2],
            "DestTime": f14(arrive),
            "DriveMile": round(km, 1),
            "DriveTime": drive,
            "WaitMile": round(pickup_km, 1),
            "FactPrice": str(fact),
            "Price": str(price + night),
            "BenfitPrice": str(benefit),
            "NightUpPrice": str(night),
            "PayState": 1,
            "PayTime": f14(paid),
            "OrderMatchTime": f14(matched),
        },
    )
    complained = 0
    if rng.random() < 0.6:
        score = star_score(rng, d.quality)
        feed.add(
            "ratedPassenger",
            {
                "OrderId": order_id,
                "EvaluateTime": f14(arrive + timedelta(seconds=rng.randint(60, 6 * 3600))),
                "ServiceScore": score,
                "DriverScore": score,
                "VehicleScore": star_score(rng, 0.3),
                "Detail": "",
            },
        )
    if rng.random() < d.complaint_rate:
        complained = 1
        feed.add(
            "ratedPassengerComplaint",
            {
                "OrderId": order_id,
                "ComplaintTime": f14(arrive + timedelta(minutes=rng.randint(10, 600))),
                "Detail": rng.choice(COMPLAINTS),
                "Result": rng.choice(COMPLAINT_RESULTS),
            },
        )
    if rng.random() < 0.05:  # a modest sample of positions: pickup, mid-trip, drop-off
        for fraction, status in ((0.0, 2), (0.5, 1), (1.0, 3)):
            at = depart + timedelta(seconds=int(drive * fraction))
            lng = origin[0] + (dest[0] - origin[0]) * fraction
            lat = origin[1] + (dest[1] - origin[1]) * fraction
            feed.add(
                "positionDriver",
                {
                    "LicenseId": d.license_no,
                    "DriverRegionCode": d.region,
                    "VehicleNo": d.plate,
                    "PositionTime": int(at.replace(tzinfo=LOCAL_TZ).timestamp()),
                    "Longitude": e6(lng),
                    "Latitude": e6(lat),
                    "Encrypt": feed.encrypt,
                    "Direction": rng.randrange(360),
                    "Elevation": 500,
                    "Speed": round(rng.uniform(0, 60), 1),
                    "BizStatus": status,
                    "OrderId": order_id,
                },
            )
    return paid, dest, 1, complained

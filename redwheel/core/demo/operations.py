"""A month of the demo city's operating data, generated as platforms would send it.

For every platform with affiliated drivers, the generator writes exchange-format records (see
reference/exchange-format.md) exactly as the platform's feed would carry them: F14 local times,
coordinates as integers of 1e-6 degree (GCJ-02 with Encrypt=1, as most platforms send; one
platform in four sends WGS-84 positions with Encrypt=2), LicenseId as the driver's real licence
number (this module is the only reader of it), plus a few invalid records and records about
drivers the platforms never sent a base record for. The records are loaded through the real
ingestion service and the metric snapshots are computed from what was stored.

Behaviour is generated, not set: every driver gets latent traits (how much they drive, how
well they serve) drawn from distributions; verified party members' traits are shifted (more
active, better service). What the member-comparison report then shows is computed from the
ingested data, with the sampling noise of a real month.

`scale` is the fraction of drivers who drive this month in the generated data (at least 20,
or all of them if fewer); above 1 it multiplies each driver's volume. At scale 1.0 the demo
city (about 3,200 drivers) gets about 55,000 completed trips.
"""

import calendar
import math
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from stdnum.cn import ric

from redwheel.core.permissions import SystemActor
from redwheel.drivers.models import PARTY_MEMBER_CATEGORIES, Affiliation, Membership, Vehicle
from redwheel.exchange import metrics
from redwheel.exchange.models import IngestBatch, Source

CHUNK = 5000
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
DISTRICTS = [
    "510104",
    "510105",
    "510106",
    "510107",
    "510108",
    "510112",
    "510113",
    "510114",
    "510115",
    "510116",
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
PUNISH_REASONS = [
    ("超速行驶", "警告并扣减服务分"),
    ("未按规定路线行驶", "罚款50元"),
    ("乘客投诉属实", "暂停接单1天"),
    ("疲劳驾驶预警未休息", "强制下线6小时"),
    ("车辆卫生不合格", "责令整改"),
]
COURSES = [
    ("安全驾驶培训", 60),
    ("防御性驾驶", 90),
    ("服务规范与文明礼仪", 45),
    ("心肺复苏与急救", 120),
    ("手语服务入门", 60),
    ("防骗指南", 30),
    ("移动课堂：党史学习", 45),
    ("新能源车辆安全使用", 40),
]
MEMBER_COURSES = [("移动课堂：党史学习", 45), ("党员先锋车队服务规范", 60)]
CANCEL_REASONS = {
    1: "行程有变",
    2: "司机接驾距离过远",
    3: "平台判定超时未接驾",
    4: "乘客迟到未上车",
    5: "司机未到达上车点",
}


@dataclass
class Summary:
    month: date
    platforms: int = 0
    drivers: int = 0
    records: int = 0
    accepted: int = 0
    unchanged: int = 0
    rejected: int = 0
    trips: int = 0
    snapshots: int = 0
    seconds: float = 0.0
    already_loaded: bool = False


def source_name(month: date) -> str:
    return f"demo {month:%Y-%m}"


def already_loaded(month: date) -> bool:
    return IngestBatch.objects.filter(
        source=Source.DEMO, source_name=source_name(metrics.month_start(month))
    ).exists()


def default_month(today: date | None = None) -> date:
    """The previous full calendar month (2026-10 when run in November 2026)."""
    return metrics.previous_month(metrics.month_start(today))


# Drivers and their traits ---------------------------------------------------------------------


@dataclass
class _Driver:
    license_no: str
    name: str
    phone: str
    gender: str
    region: str
    plate: str
    member: bool
    platforms: list  # [(platform, share, affiliation)]
    active: bool = True
    trips: int = 0
    quality: float = 0.0
    complaint_rate: float = 0.0
    per_hour: float = 1.0
    full_time: bool = False


def _load_drivers(rng: random.Random, scale: float) -> list[_Driver]:
    affiliations = (
        Affiliation.objects.filter(is_active=True)
        .select_related("platform", "driver", "driver__membership")
        .prefetch_related(Prefetch("driver__vehicles", queryset=Vehicle.objects.order_by("id")))
        .order_by("driver_id", "joined_on", "id")
    )
    by_driver: dict[int, list[Affiliation]] = defaultdict(list)
    for a in affiliations:
        by_driver[a.driver_id].append(a)
    ids = sorted(by_driver)
    if scale < 1:
        ids = sorted(rng.sample(ids, min(len(ids), max(20, round(len(ids) * scale)))))
    drivers = []
    for driver_id in ids:
        affs = by_driver[driver_id]
        d = affs[0].driver
        membership: Membership | None = getattr(d, "membership", None)
        member = bool(
            membership
            and membership.state == Membership.State.VERIFIED
            and membership.category in PARTY_MEMBER_CATEGORIES
        )
        shares = [0.75] + [0.25 / (len(affs) - 1)] * (len(affs) - 1) if len(affs) > 1 else [1.0]
        vehicles = list(d.vehicles.all())
        drivers.append(
            _Driver(
                license_no=d.license_no,
                name=d.name,
                phone=d.phone,
                gender=d.gender,
                region=d.region_code or rng.choice(DISTRICTS),
                plate=vehicles[0].plate if vehicles else "",
                member=member,
                platforms=[(a.platform, share, a) for a, share in zip(affs, shares, strict=True)],
            )
        )
    return drivers


def _traits(rng: random.Random, d: _Driver, scale: float) -> None:
    """Latent traits. Members: more active (×1.22 median, and more often full-time) and better
    service (quality +1.1 sd, so complaints about 0.4× as likely and more five-star ratings)."""
    d.active = rng.random() >= (0.03 if d.member else 0.07)
    d.full_time = rng.random() < (0.45 if d.member else 0.35)
    median = 14.0 * (1.22 if d.member else 1.0) * (1.5 if d.full_time else 0.85)
    d.trips = round(median * rng.lognormvariate(0, 0.7) * max(scale, 1.0)) if d.active else 0
    d.quality = rng.gauss(1.1 if d.member else 0.0, 1.0)
    d.complaint_rate = 0.02 * math.exp(-0.8 * d.quality)
    d.per_hour = 1.15 * math.exp(0.06 * d.quality) * rng.lognormvariate(0, 0.15)


# Small generators -------------------------------------------------------------------------------


def _f14(t: datetime) -> str:
    return t.strftime("%Y%m%d%H%M%S")


def _point(rng: random.Random) -> tuple[float, float, str]:
    if rng.random() < 0.7:
        name, lng, lat = rng.choice(HOTSPOTS)
        lng, lat = rng.gauss(lng, 0.012), rng.gauss(lat, 0.010)
    else:
        name, lng, lat = "", rng.uniform(*LNG_RANGE), rng.uniform(*LAT_RANGE)
    lng = min(max(lng, LNG_RANGE[0]), LNG_RANGE[1])
    lat = min(max(lat, LAT_RANGE[0]), LAT_RANGE[1])
    return lng, lat, name or "成都市"


def _e6(value: float) -> int:
    return round(value * 1_000_000)


def _km(a, b) -> float:
    dx = (a[0] - b[0]) * 111.32 * math.cos(math.radians(30.65))
    dy = (a[1] - b[1]) * 110.57
    return math.hypot(dx, dy)


def _score(rng: random.Random, quality: float) -> int:
    p5 = min(0.95, max(0.3, 0.72 + 0.10 * quality))
    x = rng.random()
    if x < p5:
        return 5
    x = (x - p5) / (1 - p5)
    return 4 if x < 0.6 else 3 if x < 0.85 else 2 if x < 0.95 else 1


def _poisson(rng: random.Random, lam: float) -> int:
    n, p, limit = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return n
        n += 1


def _unknown_license(seq: int) -> str:
    body = f"5101081985{seq % 12 + 1:02d}{seq % 28 + 1:02d}{800 + seq % 199:03d}"
    return body + ric.calc_check_digit(body + "0")


def _wrong_check_digit(number: str) -> str:
    digits = "0123456789X"
    return number[:17] + digits[(digits.index(number[17]) + 1) % len(digits)]


# The month ----------------------------------------------------------------------------------


@dataclass
class _Feed:
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


SEND_ORDER = [
    "baseInfoDriver",
    "orderCreate",
    "orderMatch",
    "operateDepart",
    "operateArrive",
    "operatePay",
    "orderCancel",
    "operateLogin",
    "operateLogout",
    "ratedPassenger",
    "ratedPassengerComplaint",
    "ratedDriverPunish",
    "ratedDriver",
    "baseInfoDriverStat",
    "baseInfoDriverEducate",
    "positionDriver",
]


def build_records(seed: int, month_start: date, scale: float = 1.0) -> tuple[list[_Feed], int]:
    """Generate the month's records per platform. Returns (feeds, drivers generated)."""
    month = metrics.month_start(month_start)
    rng = random.Random(seed)
    drivers = _load_drivers(rng, scale)
    feeds: dict[int, _Feed] = {}
    for d in drivers:
        for platform, _share, _a in d.platforms:
            if platform.id not in feeds:
                feeds[platform.id] = _Feed(platform, encrypt=2 if len(feeds) % 4 == 3 else 1)
    for d in drivers:
        _traits(rng, d, scale)
        for platform, share, affiliation in d.platforms:
            _driver_month(rng, feeds[platform.id], month, d, share, affiliation)
    for index, feed in enumerate(feeds.values()):
        _unknown_drivers(rng, feed, month, index)
        _invalid_records(rng, feed, month)
    return list(feeds.values()), len(drivers)


def _driver_month(rng, feed: _Feed, month: date, d: _Driver, share: float, affiliation) -> None:
    days_in_month = calendar.monthrange(month.year, month.month)[1]
    region = d.region
    registered = affiliation.joined_on or date(2023, 1, 5)
    feed.add(
        "baseInfoDriver",
        {
            "Address": region,
            "DriverName": d.name,
            "DriverPhone": d.phone,
            "DriverGender": {"M": "1", "F": "2"}.get(d.gender, ""),
            "DriverBirthday": d.license_no[6:14],
            "DriverNation": "汉族",
            "LicenseId": d.license_no,
            "TaxiDriver": 0,
            "CertificateNo": affiliation.certificate_no,
            "NetworkCarIssueOrganization": "成都市交通运输局",
            "RegisterDate": registered.strftime("%Y%m%d"),
            "FullTimeDriver": int(d.full_time),
            "InDriverBlacklist": 0,
            "CommercialType": 1,
            "State": 0,
            "Flag": 1,
            "UpdateTime": _f14(datetime(month.year, month.month, 1, 6, 0)),
        },
    )
    trips = round(d.trips * share)
    completed = complaints = 0
    if trips:
        per_day = rng.uniform(9, 16) if d.full_time else rng.uniform(4, 9)
        days = sorted(
            rng.sample(
                range(1, days_in_month + 1), min(days_in_month, max(1, round(trips / per_day)))
            )
        )
        counts = [0] * len(days)
        for _i in range(trips):
            counts[rng.randrange(len(days))] += 1
        for day, count in zip(days, counts, strict=True):
            c, k = _driving_day(rng, feed, month, d, day, count)
            completed += c
            complaints += k
    feed.trips += completed
    last = datetime(month.year, month.month, days_in_month, 23, 0)
    for _i in range(_poisson(rng, 0.08 * math.exp(-0.7 * d.quality))):
        reason, result = rng.choice(PUNISH_REASONS)
        feed.add(
            "ratedDriverPunish",
            {
                "LicenseId": d.license_no,
                "PunishReason": reason,
                "PunishResult": result,
                "PunishTime": _f14(
                    datetime(
                        month.year,
                        month.month,
                        rng.randint(1, days_in_month),
                        rng.randint(8, 20),
                        rng.randrange(60),
                        rng.randrange(60),
                    )
                ),
            },
        )
    if d.active:
        level = 5 if d.quality > 1.2 else 4 if d.quality > 0 else 3 if d.quality > -1.3 else 2
        feed.add(
            "ratedDriver",
            {
                "LicenseId": d.license_no,
                "Level": level,
                "TestDate": last.strftime("%Y%m%d"),
                "TestDepartment": "成都市交通运输局",
            },
        )
        feed.add(
            "baseInfoDriverStat",
            {
                "Address": region,
                "LicenseId": d.license_no,
                "Cycle": f"{month:%Y%m}",
                "OrderCount": completed,
                "TrafficViolationCount": _poisson(rng, 0.05),
                "ComplainedCount": complaints,
                "Flag": 1,
                "UpdateTime": _f14(last),
            },
        )
    courses = _poisson(rng, 1.3 if d.member else 0.5) if share >= 0.5 else 0
    catalogue = COURSES + (MEMBER_COURSES if d.member else [])
    for name, minutes in rng.sample(catalogue, min(courses, len(catalogue))):
        start = rng.choice([9, 10, 14, 15, 19])
        feed.add(
            "baseInfoDriverEducate",
            {
                "Address": region,
                "LicenseId": d.license_no,
                "CourseName": name,
                "CourseDate": f"{month:%Y%m}{rng.randint(1, days_in_month):02d}",
                "StartTime": f"{start:02d}00",
                "StopTime": f"{start + minutes // 60:02d}{minutes % 60:02d}",
                "Duration": minutes,
                "Flag": 1,
                "UpdateTime": _f14(last),
            },
        )


def _driving_day(rng, feed: _Feed, month: date, d: _Driver, day: int, count: int):
    """One day's sessions and trips. Long days are split in two with a rest (fatigue rule)."""
    completed = complaints = 0
    start_hour = rng.choice([6.5, 7, 7.5, 8, 9, 11, 13, 16, 17, 19, 20])
    t = datetime(month.year, month.month, day) + timedelta(hours=rng.gauss(start_hour, 0.5))
    t = t.replace(microsecond=0)
    parts = [count] if count <= 9 else [count // 2, count - count // 2]
    pos = _point(rng)
    for part in parts:
        login = t
        _online(feed, d, "operateLogin", "LoginTime", login, pos)
        for _i in range(part):
            t, pos, c, k = _trip(rng, feed, month, d, t, pos)
            completed += c
            complaints += k
        t += timedelta(seconds=int(rng.expovariate(1 / 900)) + 60)
        if rng.random() >= 0.03:  # a few sessions end with no logout (app killed): not counted
            _online(feed, d, "operateLogout", "LogoutTime", t, pos)
        t += timedelta(minutes=rng.randint(30, 90))
    return completed, complaints


def _online(feed: _Feed, d: _Driver, record_type: str, time_field: str, at: datetime, pos):
    feed.add(
        record_type,
        {
            "LicenseId": d.license_no,
            "VehicleNo": d.plate,
            time_field: _f14(at),
            "Longitude": _e6(pos[0]),
            "Latitude": _e6(pos[1]),
            "Encrypt": 1,
        },
    )


def _trip(rng, feed: _Feed, month: date, d: _Driver, t: datetime, pos):
    """Wait for an order, maybe have it cancelled, otherwise drive it. Returns the new time,
    position, completed (0/1) and complaints (0/1)."""
    gap = rng.expovariate(d.per_hour / 3600) * 0.45
    order_time = t + timedelta(seconds=int(gap) + 5)
    origin, dest = _point(rng), _point(rng)
    order_id = feed.order_id(month)
    matched = order_time + timedelta(seconds=rng.randint(3, 50))
    feed.add(
        "orderCreate",
        {
            "Address": d.region,
            "OrderId": order_id,
            "DepartTime": _f14(order_time),
            "OrderTime": _f14(order_time),
            "Departure": origin[2],
            "DepLongitude": _e6(origin[0]),
            "DepLatitude": _e6(origin[1]),
            "Destination": dest[2],
            "DestLongitude": _e6(dest[0]),
            "DestLatitude": _e6(dest[1]),
            "Encrypt": 1,
            "FareType": "KC01",
        },
    )
    feed.add(
        "orderMatch",
        {
            "Address": d.region,
            "OrderId": order_id,
            "Longitude": _e6(pos[0]),
            "Latitude": _e6(pos[1]),
            "Encrypt": 1,
            "LicenseId": d.license_no,
            "DriverPhone": d.phone,
            "VehicleNo": d.plate,
            "DistributeTime": _f14(matched),
        },
    )
    if rng.random() < 0.08:
        code = rng.choices([1, 2, 3, 4, 5], weights=[50, 15, 10, 15, 10])[0]
        cancelled = matched + timedelta(seconds=rng.randint(30, 600))
        feed.add(
            "orderCancel",
            {
                "Address": d.region,
                "OrderId": order_id,
                "OrderTime": _f14(order_time),
                "CancelTime": _f14(cancelled),
                "Operator": {1: 1, 2: 2, 3: 3, 4: 1, 5: 2}[code],
                "CancelTypeCode": code,
                "CancelReason": CANCEL_REASONS[code],
            },
        )
        return cancelled, pos, 0, 0
    pickup_km = _km(pos, origin)
    depart = matched + timedelta(seconds=int(120 + pickup_km / 25 * 3600 * rng.uniform(0.3, 0.6)))
    km = max(1.2, _km(origin, dest) * rng.uniform(1.15, 1.45))
    drive = int(km / rng.uniform(18, 32) * 3600)
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
            "DepLongitude": _e6(origin[0]),
            "DepLatitude": _e6(origin[1]),
            "Encrypt": 1,
            "DepTime": _f14(depart),
            "WaitMile": round(pickup_km, 1),
            "WaitTime": wait,
        },
    )
    feed.add(
        "operateArrive",
        {
            "OrderId": order_id,
            "DestLongitude": _e6(dest[0]),
            "DestLatitude": _e6(dest[1]),
            "Encrypt": 1,
            "DestTime": _f14(arrive),
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
            "BookDepTime": _f14(order_time),
            "WaitTime": wait,
            "DepLongitude": _e6(origin[0]),
            "DepLatitude": _e6(origin[1]),
            "DepArea": origin[2],
            "DepTime": _f14(depart),
            "DestLongitude": _e6(dest[0]),
            "DestLatitude": _e6(dest[1]),
            "DestArea": dest[2],
            "DestTime": _f14(arrive),
            "DriveMile": round(km, 1),
            "DriveTime": drive,
            "WaitMile": round(pickup_km, 1),
            "FactPrice": str(fact),
            "Price": str(price + night),
            "BenfitPrice": str(benefit),
            "NightUpPrice": str(night),
            "PayState": 1,
            "PayTime": _f14(paid),
            "OrderMatchTime": _f14(matched),
        },
    )
    complained = 0
    if rng.random() < 0.6:
        score = _score(rng, d.quality)
        feed.add(
            "ratedPassenger",
            {
                "OrderId": order_id,
                "EvaluateTime": _f14(arrive + timedelta(seconds=rng.randint(60, 6 * 3600))),
                "ServiceScore": score,
                "DriverScore": score,
                "VehicleScore": _score(rng, 0.3),
                "Detail": "",
            },
        )
    if rng.random() < d.complaint_rate:
        complained = 1
        feed.add(
            "ratedPassengerComplaint",
            {
                "OrderId": order_id,
                "ComplaintTime": _f14(arrive + timedelta(minutes=rng.randint(10, 600))),
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
                    "PositionTime": int(at.replace(tzinfo=metrics.LOCAL_TZ).timestamp()),
                    "Longitude": _e6(lng),
                    "Latitude": _e6(lat),
                    "Encrypt": feed.encrypt,
                    "Direction": rng.randrange(360),
                    "Elevation": 500,
                    "Speed": round(rng.uniform(0, 60), 1),
                    "BizStatus": status,
                    "OrderId": order_id,
                },
            )
    return paid, dest, 1, complained


def _unknown_drivers(rng, feed: _Feed, month: date, index: int) -> None:
    """Two or three drivers this platform never sent a base record for."""
    for k in range(2 + index % 2):
        d = _Driver(
            license_no=_unknown_license(97 * index + k),
            name="",
            phone="",
            gender="",
            region=rng.choice(DISTRICTS),
            plate="",
            member=False,
            platforms=[],
        )
        _traits(rng, d, 1.0)
        day = rng.randint(1, 25)
        _driving_day(rng, feed, month, d, day, rng.randint(2, 5))


def _invalid_records(rng, feed: _Feed, month: date) -> None:
    """A few records a real feed gets wrong, so that the rejection pages have content."""
    for record_type, bad in (
        ("orderCreate", {"OrderTime": f"{month:%Y%m}32250000"}),  # day 32
        ("orderCreate", {"DepLongitude": 1041234567}),  # not a longitude
        ("operatePay", {"FactPrice": "-12.5"}),
        ("ratedPassenger", {"ServiceScore": 7}),
        ("operateLogin", {"LicenseId": _wrong_check_digit(_unknown_license(5))}),
        ("orderMatch", {"OrderId": ""}),
    ):
        if feed.records.get(record_type):
            for _i in range(rng.randint(1, 3)):
                feed.records[record_type].append(dict(rng.choice(feed.records[record_type])) | bad)


# Loading --------------------------------------------------------------------------------------


def generate_month(seed: int, month_start: date, stdout=None, scale: float = 1.0) -> Summary:
    """Generate the month for every platform with drivers, ingest it, compute the snapshots."""
    from redwheel.exchange.services import ingest

    out = stdout or sys.stdout
    started = time.monotonic()
    month = metrics.month_start(month_start)
    summary = Summary(month=month)

    def say(message: str) -> None:
        out.write(f"[{time.monotonic() - started:5.1f}s] {message}\n")

    feeds, summary.drivers = build_records(seed, month, scale)
    summary.platforms = len(feeds)
    say(
        _("%(records)s records generated for %(drivers)s drivers on %(platforms)s platforms")
        % {
            "records": sum(len(v) for f in feeds for v in f.records.values()),
            "drivers": summary.drivers,
            "platforms": len(feeds),
        }
    )
    name = source_name(month)
    for feed in feeds:
        for record_type in SEND_ORDER:
            records = feed.records.get(record_type, [])
            for i in range(0, len(records), CHUNK):
                result = ingest(
                    actor=SystemActor.for_platform(feed.platform.pk, "demo feed"),
                    platform=feed.platform,
                    record_type=record_type,
                    records=records[i : i + CHUNK],
                    source=Source.DEMO,
                    source_name=name,
                )
                summary.records += len(records[i : i + CHUNK])
                summary.accepted += result.accepted
                summary.unchanged += result.unchanged
                summary.rejected += result.rejected
        summary.trips += feed.trips
        say(
            _("%(platform)s: %(trips)s completed trips loaded")
            % {"platform": feed.platform.name, "trips": feed.trips}
        )
    summary.snapshots = metrics.recompute_month(month)
    summary.seconds = time.monotonic() - started
    say(
        _(
            "%(accepted)s records accepted, %(rejected)s rejected; %(rows)s driver-month metric "
            "rows computed"
        )
        % {"accepted": summary.accepted, "rejected": summary.rejected, "rows": summary.snapshots}
    )
    return summary

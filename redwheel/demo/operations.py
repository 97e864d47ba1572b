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

The month has the shape of a real one: the last `FULL_DAYS` days at full intensity (full-time
drivers drive on about 70–85 % of them, part-timers on about 40 %), earlier days light; on
every day a driver drives, 8–15 completed trips (see trips.driving_day for ride, pickup and
waiting times).

`scale` multiplies the number of drivers who drive this month (`DRIVING_DRIVERS` at scale
1.0, at least 20, at most all of them); verified party members always drive, so the
member comparison has its sample at every scale. At scale 1.0 the demo city gets about
53,000 completed trips, about 3,300 a day in the last two weeks.
"""

import calendar
import math
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from stdnum.cn import ric

from redwheel.core.permissions import SystemActor
from redwheel.demo.specs import DISTRICTS
from redwheel.demo.trips import Feed, FeedDriver, driving_day, f14, poisson
from redwheel.drivers.models import PARTY_MEMBER_CATEGORIES, Affiliation, Membership, Vehicle
from redwheel.exchange import metrics
from redwheel.exchange.models import IngestBatch, Source

CHUNK = 5000
DRIVING_DRIVERS = 600  # at scale 1.0: bounds `manage.py demo` to a few minutes
FULL_DAYS = 14  # the month's last days, driven at full intensity
EARLY_DAYS_FACTOR = 0.12  # earlier days: this fraction of a driver's full-intensity rate
DAY_RATE = {True: 0.70, False: 0.40}  # share of full-intensity days driven, by full_time
TRIPS_PER_DAY = (8, 15)
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


def _load_drivers(rng: random.Random, scale: float) -> list[FeedDriver]:
    affiliations = (
        Affiliation.objects.filter(is_active=True)
        .select_related("platform", "driver", "driver__membership")
        .prefetch_related(Prefetch("driver__vehicles", queryset=Vehicle.objects.order_by("id")))
        .order_by("driver_id", "joined_on", "id")
    )
    by_driver: dict[int, list[Affiliation]] = defaultdict(list)
    for a in affiliations:
        by_driver[a.driver_id].append(a)
    members = {i for i, affs in by_driver.items() if _is_member(affs[0].driver)}
    others = sorted(set(by_driver) - members)
    wanted = max(20, round(DRIVING_DRIVERS * scale)) - len(members)
    ids = sorted(members | set(rng.sample(others, min(len(others), max(0, wanted)))))
    drivers = []
    for driver_id in ids:
        affs = by_driver[driver_id]
        d = affs[0].driver
        member = driver_id in members
        shares = [0.75] + [0.25 / (len(affs) - 1)] * (len(affs) - 1) if len(affs) > 1 else [1.0]
        vehicles = list(d.vehicles.all())
        drivers.append(
            FeedDriver(
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


def _is_member(driver) -> bool:
    membership: Membership | None = getattr(driver, "membership", None)
    return bool(
        membership
        and membership.state == Membership.State.VERIFIED
        and membership.category in PARTY_MEMBER_CATEGORIES
    )


def _traits(rng: random.Random, d: FeedDriver) -> None:
    """Latent traits. Members: more active (×1.22 days driven, and more often full-time) and
    better service (quality +1.1 sd, so complaints about 0.4× as likely and more five-star
    ratings)."""
    d.active = rng.random() >= (0.03 if d.member else 0.07)
    d.full_time = rng.random() < (0.45 if d.member else 0.35)
    rate = DAY_RATE[d.full_time] * (1.22 if d.member else 1.0) * rng.lognormvariate(0, 0.15)
    d.day_rate = min(0.95, rate) if d.active else 0.0
    d.quality = rng.gauss(1.1 if d.member else 0.0, 1.0)
    d.complaint_rate = 0.02 * math.exp(-0.8 * d.quality)
    d.per_hour = 1.15 * math.exp(0.06 * d.quality) * rng.lognormvariate(0, 0.15)


def _unknown_license(seq: int) -> str:
    body = f"5101081985{seq % 12 + 1:02d}{seq % 28 + 1:02d}{800 + seq % 199:03d}"
    return body + ric.calc_check_digit(body + "0")


def _wrong_check_digit(number: str) -> str:
    digits = "0123456789X"
    return number[:17] + digits[(digits.index(number[17]) + 1) % len(digits)]


# The month ----------------------------------------------------------------------------------


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


def build_records(seed: int, month_start: date, scale: float = 1.0) -> tuple[list[Feed], int]:
    """Generate the month's records per platform. Returns (feeds, drivers generated)."""
    month = metrics.month_start(month_start)
    rng = random.Random(seed)
    drivers = _load_drivers(rng, scale)
    feeds: dict[int, Feed] = {}
    for d in drivers:
        for platform, _share, _a in d.platforms:
            if platform.id not in feeds:
                feeds[platform.id] = Feed(platform, encrypt=2 if len(feeds) % 4 == 3 else 1)
    for d in drivers:
        _traits(rng, d)
        platform_of_day = _driving_days(rng, month, d)
        for platform, share, affiliation in d.platforms:
            days = [day for day, p in platform_of_day.items() if p is platform]
            _driver_month(rng, feeds[platform.id], month, d, share, affiliation, days)
    for index, feed in enumerate(feeds.values()):
        _unknown_drivers(rng, feed, month, index)
        _invalid_records(rng, feed, month)
    return list(feeds.values()), len(drivers)


def _driving_days(rng, month: date, d: FeedDriver) -> dict[int, object]:
    """The days this driver drives, each on one of their platforms (weighted by share)."""
    days_in_month = calendar.monthrange(month.year, month.month)[1]
    first_full = days_in_month - FULL_DAYS + 1
    platforms = [p for p, _s, _a in d.platforms]
    weights = [share for _p, share, _a in d.platforms]
    chosen = {}
    for day in range(1, days_in_month + 1):
        rate = d.day_rate * (1.0 if day >= first_full else EARLY_DAYS_FACTOR)
        if rng.random() < rate:
            chosen[day] = rng.choices(platforms, weights)[0]
    return chosen


def _driver_month(
    rng, feed: Feed, month: date, d: FeedDriver, share: float, affiliation, days: list[int]
) -> None:
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
            "UpdateTime": f14(datetime(month.year, month.month, 1, 6, 0)),
        },
    )
    completed = complaints = 0
    for day in days:
        c, k = driving_day(rng, feed, month, d, day, rng.randint(*TRIPS_PER_DAY))
        completed += c
        complaints += k
    feed.trips += completed
    last = datetime(month.year, month.month, days_in_month, 23, 0)
    for _i in range(poisson(rng, 0.08 * math.exp(-0.7 * d.quality))):
        reason, result = rng.choice(PUNISH_REASONS)
        feed.add(
            "ratedDriverPunish",
            {
                "LicenseId": d.license_no,
                "PunishReason": reason,
                "PunishResult": result,
                "PunishTime": f14(
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
                "TrafficViolationCount": poisson(rng, 0.05),
                "ComplainedCount": complaints,
                "Flag": 1,
                "UpdateTime": f14(last),
            },
        )
    courses = poisson(rng, 1.3 if d.member else 0.5) if share >= 0.5 else 0
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
                "UpdateTime": f14(last),
            },
        )


def _unknown_drivers(rng, feed: Feed, month: date, index: int) -> None:
    """Two or three drivers this platform never sent a base record for."""
    for k in range(2 + index % 2):
        d = FeedDriver(
            license_no=_unknown_license(97 * index + k),
            name="",
            phone="",
            gender="",
            region=rng.choice(DISTRICTS),
            plate="",
            member=False,
            platforms=[],
        )
        _traits(rng, d)
        day = rng.randint(1, 25)
        driving_day(rng, feed, month, d, day, rng.randint(2, 5))


def _invalid_records(rng, feed: Feed, month: date) -> None:
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


def build_demo(demo) -> bool:
    """The operations step: the month's operating data, loaded once per month."""
    month = metrics.month_start(demo.month) if demo.month else default_month()
    if already_loaded(month):
        demo.out.write(
            _("Operating data for %(month)s already loaded.") % {"month": f"{month:%Y-%m}"} + "\n"
        )
        return False
    summary = generate_month(seed=demo.seed, month_start=month, stdout=demo.out, scale=demo.scale)
    demo.out.write(
        _("%(month)s loaded in %(seconds).1f s: %(trips)s completed trips.")
        % {"month": f"{month:%Y-%m}", "seconds": summary.seconds, "trips": summary.trips}
        + "\n"
    )
    return True

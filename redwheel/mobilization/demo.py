"""Demo fleets, hubs, a closed mobilization, volunteer service and an alert for the demo city.

Everything is written through the services, as the committee's staff account and as the
drivers themselves. Past events (the night at 成都东站, a finished hospital-ride day) are
replayed on a simulated clock so their times, hours and summary are believable; the figures are
modelled on the background reports (Zhengzhou: 32 party-member drivers led 150+ drivers and
carried 500+ stranded passengers in one night; Yingtan's "新连心" fleet; Wuhan's "received").
"""

import random
import sys
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest import mock

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.drivers.models import Driver
from redwheel.mobilization import selectors, services
from redwheel.mobilization.models import Fleet, Hub, QueueEntry
from redwheel.orgs.models import OrgUnit

# Volunteer hours and emergency calls earn points under the rule book the scoring demo publishes.
DEMO_AFTER = ("scoring",)
PIONEER_FLEET = "党员先锋车队"
VOLUNTEER_FLEET = "新连心志愿车队"
PLEDGE_TITLE = "党员先锋车队“十要十不要”服务承诺"
PLEDGE_TEXT = "\n".join(
    [
        "一要亮明身份，不要隐瞒党员身份；",
        "二要文明礼貌，不要恶语相向；",
        "三要安全驾驶，不要超速抢行；",
        "四要规范收费，不要绕路加价；",
        "五要车容整洁，不要脏乱差；",
        "六要守时守信，不要随意拒载；",
        "七要主动帮扶，不要见难不帮；",
        "八要应急响应，不要临阵退缩；",
        "九要拾金不昧，不要占为己有；",
        "十要带头守法，不要违规运营。",
    ]
)
# (name, kind, lng, lat WGS-84, region, address, pick-up points)
HUBS = [
    (
        "成都东站",
        Hub.Kind.RAILWAY,
        104.14119,
        30.63088,
        "510108",
        "成华区邛崃山路333号",
        [("东广场网约车上客区", 104.14390, 30.63070), ("西广场P2停车场", 104.13800, 30.63110)],
    ),
    (
        "成都站",
        Hub.Kind.RAILWAY,
        104.07370,
        30.69680,
        "510106",
        "金牛区二环路北二段",
        [("北广场网约车上客点", 104.07320, 30.69850)],
    ),
    (
        "双流国际机场",
        Hub.Kind.AIRPORT,
        103.95690,
        30.57850,
        "510116",
        "双流区机场路",
        [
            ("T1航站楼网约车上客区", 103.95400, 30.57900),
            ("T2航站楼网约车上客区", 103.96100, 30.57700),
        ],
    ),
    (
        "天府国际机场",
        Hub.Kind.AIRPORT,
        104.44110,
        30.31970,
        "510185",
        "简阳市芦葭镇",
        [("T1网约车蓄车场", 104.43800, 30.32200), ("T2网约车蓄车场", 104.44500, 30.31800)],
    ),
    (
        "城北客运中心",
        Hub.Kind.BUS,
        104.07850,
        30.70460,
        "510106",
        "金牛区站北东街",
        [("出站口上客点", 104.07900, 30.70400)],
    ),
]
DISTRICTS = [
    "锦江区",
    "青羊区",
    "金牛区",
    "武侯区",
    "成华区",
    "龙泉驿区",
    "新都区",
    "郫都区",
    "双流区",
    "温江区",
]


class _Clock:
    """A simulated clock for replaying past events through the services."""

    def __init__(self, start: datetime):
        self.now = start

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@contextmanager
def _replay(start: datetime):
    clock = _Clock(start)
    with mock.patch("django.utils.timezone.now", lambda: clock.now):
        yield clock


def demo_mobilization_exists() -> bool:
    return Fleet.objects.filter(name=PIONEER_FLEET).exists()


def _unit(root: OrgUnit, name_contains: str) -> OrgUnit | None:
    units = OrgUnit.objects.filter(path__startswith=root.path, name__contains=name_contains)
    return units.order_by("depth", "id").first()


def build_demo(demo) -> bool:
    """The demo app's hook (docs/demo.md); `demo` is its DemoContext."""
    return build_demo_mobilization(
        staff=demo.committee, root=demo.city, seed=demo.seed, stdout=demo.out
    )


def build_demo_mobilization(*, staff, root: OrgUnit, seed: int = 2026, stdout=None) -> bool:
    """Build once in the city whose committee is `root`, as its staff member `staff`.
    Returns False when it exists."""
    out = stdout or sys.stdout
    if demo_mobilization_exists():
        return False
    rng = random.Random(seed)
    with transaction.atomic():
        fleets = _fleets(rng, staff, root)
        hubs = _hubs(staff, root)
        summary = _night_at_east_station(rng, staff, root, hubs["成都东站"], fleets)
        _volunteer(rng, staff, root, fleets[1])
        _alert(rng, staff, root)
    out.write(
        _(
            "Demo mobilisation: %(called)s drivers called, %(arrived)s arrived "
            "(%(members)s party members), %(rides)s rides, %(passengers)s passengers."
        )
        % {
            "called": summary["drivers_called"],
            "arrived": summary["drivers_arrived"],
            "members": summary["members_arrived"],
            "rides": summary["rides"],
            "passengers": summary["passengers"],
        }
        + "\n"
    )
    return True


def _fleets(rng, staff, root) -> list[Fleet]:
    vanguard_unit = _unit(root, "党员先锋车队") or root
    members = list(
        Driver.objects.filter(services.is_party_member_q(), user__isnull=False).order_by("id")
    )
    pioneer = services.fleet_create(
        actor=staff,
        unit=vanguard_unit,
        name=PIONEER_FLEET,
        kind=Fleet.Kind.PIONEER,
        description="由党员司机组成，承担场站疏导、极端天气保障等急难险重任务。",
        pledge_title=PLEDGE_TITLE,
        pledge_text=PLEDGE_TEXT,
        flag_presented_on=timezone.localdate() - timedelta(days=300),
    )
    for index, driver in enumerate(members):
        member = services.fleet_member_add(
            actor=staff, fleet=pioneer, driver=driver, role="leader" if index < 3 else "member"
        )
        if rng.random() < 0.85:
            services.fleet_pledge_sign(actor=driver.user, member=member)
        services.fleet_markers_set(
            actor=staff, member=member, vehicle_sign=rng.random() < 0.9, identity_shown=True
        )
    others = list(
        Driver.objects.exclude(pk__in=[d.pk for d in members])
        .filter(user__isnull=False)
        .order_by("id")
    )
    volunteers = rng.sample(others, min(len(others), max(20, 3 * len(members))))
    lianxin = services.fleet_create(
        actor=staff,
        unit=root,
        name=VOLUNTEER_FLEET,
        kind=Fleet.Kind.VOLUNTEER,
        description="党员带群众的志愿服务车队：爱心送考、送老人就医、场站应急保障。",
        pledge_title="志愿服务承诺",
        pledge_text="守时守信，免费服务，安全第一，热情周到。",
        flag_presented_on=timezone.localdate() - timedelta(days=700),
    )
    for index, driver in enumerate(members[:10] + volunteers):
        member = services.fleet_member_add(
            actor=staff, fleet=lianxin, driver=driver, role="leader" if index < 2 else "member"
        )
        if rng.random() < 0.7:
            services.fleet_pledge_sign(actor=driver.user, member=member)
    return [pioneer, lianxin]


def _hubs(staff, root) -> dict[str, Hub]:
    hubs = {}
    for name, kind, lng, lat, region, address, points in HUBS:
        hub = services.hub_create(
            actor=staff,
            unit=root,
            name=name,
            kind=kind,
            lng=lng,
            lat=lat,
            region_code=region,
            address=address,
        )
        for point, p_lng, p_lat in points:
            services.pickup_point_add(actor=staff, hub=hub, name=point, lng=p_lng, lat=p_lat)
        hubs[name] = hub
    return hubs


def _night_at_east_station(rng, staff, root, hub, fleets) -> dict:
    """Replay a winter night: a call at 21:30, answers within minutes, arrivals over the next
    hour, a queue with priority passengers, rides until about 03:00, then the summary."""
    day = timezone.localdate() - timedelta(days=24)
    start = timezone.make_aware(datetime(day.year, day.month, day.day, 21, 30))
    points = list(hub.pickup_points.all())
    with _replay(start) as clock:
        m = services.mobilization_open(
            actor=staff,
            unit=root,
            hub=hub,
            title="春运返程高峰成都东站夜间滞留旅客疏导",
            reason="受降雪影响多趟列车晚点，预计零点后仍有大量旅客滞留东站，公共交通已停运，"
            "需要网约车应急保障车队免费接送。",
            starts_at=start,
            ends_at=start + timedelta(hours=6),
            expected_passengers=500,
            drivers_needed=150,
        )
        clock.advance(minutes=2)
        services.mobilization_call(actor=staff, mobilization=m, fleets=fleets)
        called = list(m.calls.select_related("driver__user").order_by("id"))
        member_ids = set(
            Driver.objects.filter(
                services.is_party_member_q(), pk__in=[c.driver_id for c in called]
            ).values_list("pk", flat=True)
        )
        answers = []
        for call in called:
            keen = 0.97 if call.driver_id in member_ids else 0.78
            if rng.random() < keen:
                answers.append((rng.uniform(0.2, 15), call.driver))
        answers.sort(key=lambda a: a[0])
        arrivals = []
        for minute, driver in answers:
            clock.now = start + timedelta(minutes=2 + minute)
            services.response_record(actor=driver.user, mobilization=m, status="received")
            coming = 0.95 if driver.pk in member_ids else 0.75
            if rng.random() < coming:
                arrivals.append((minute + rng.uniform(8, 60), driver))
            else:
                clock.advance(minutes=rng.uniform(1, 5))
                services.response_record(actor=driver.user, mobilization=m, status="cant_come")
        arrivals.sort(key=lambda a: a[0])
        for minute, driver in arrivals:
            clock.now = start + timedelta(minutes=2 + minute - rng.uniform(5, 8))
            services.response_record(actor=driver.user, mobilization=m, status="on_my_way")
        arrived = []
        for minute, driver in arrivals:
            clock.now = start + timedelta(minutes=2 + minute)
            services.response_record(actor=driver.user, mobilization=m, status="arrived")
            arrived.append(driver)
        # Passengers come out in waves as delayed trains arrive; arrived drivers carry them.
        clock.now = start + timedelta(minutes=40)
        target_passengers = max(60, round(len(arrived) * 4.6))
        queued = 0
        while queued < target_passengers:
            for _i in range(rng.randint(8, 20)):
                need = rng.choices(
                    ["none", "elderly", "child", "pregnant", "disabled"], weights=[78, 10, 8, 2, 2]
                )[0]
                size = rng.choices([1, 2, 3], weights=[55, 30, 15])[0]
                services.passenger_enqueue(
                    actor=staff,
                    mobilization=m,
                    party_size=size,
                    need=need,
                    pickup_point=rng.choice(points),
                    destination_district=rng.choice(DISTRICTS),
                )
                queued += size
            waiting = QueueEntry.objects.filter(mobilization=m, status="waiting").count()
            for _i in range(waiting):
                clock.advance(seconds=rng.randint(20, 70))
                services.ride_record(actor=staff, mobilization=m, driver=rng.choice(arrived))
            clock.advance(minutes=rng.randint(8, 15))
        clock.now = start + timedelta(hours=5, minutes=40)
        m = services.mobilization_close(
            actor=staff,
            mobilization=m,
            note="滞留旅客全部疏导完毕。党员司机带头响应，老人、孕妇和带小孩的旅客优先上车。",
        )
    return m.summary


def _next_exam_day() -> datetime:
    today = timezone.localdate()
    year = today.year if today < today.replace(month=6, day=7) else today.year + 1
    return timezone.make_aware(datetime(year, 6, 7, 7, 0))


def _volunteer(rng, staff, root, fleet) -> None:
    exam = _next_exam_day()
    drivers = [
        fm.driver
        for fm in fleet.members.select_related("driver__user").order_by("id")
        if selectors.driver_within_unit(fm.driver, root)
    ]
    opportunity = services.opportunity_create(
        actor=staff,
        unit=root,
        fleet=fleet,
        title=f"{exam.year}年高考爱心送考",
        kind="exam",
        role="送考司机（免费接送考生往返考点）",
        place="成都七中、树德中学等考点",
        description="连续第21年开展爱心送考。考生凭准考证免费乘车，请提前10分钟到达接送点。",
        starts_at=exam,
        ends_at=exam + timedelta(hours=11),
        places=80,
    )
    for driver in drivers[: min(len(drivers), 24)]:
        services.signup_create(actor=driver.user, opportunity=opportunity)
    # A finished day of hospital rides for elderly residents, with confirmed hours.
    day = timezone.localdate() - timedelta(days=40)
    start = timezone.make_aware(datetime(day.year, day.month, day.day, 8, 0))
    with _replay(start - timedelta(days=5)) as clock:
        past = services.opportunity_create(
            actor=staff,
            unit=root,
            fleet=fleet,
            title="重阳节接送社区老人就医",
            kind="hospital",
            role="接送司机",
            place="锦江区书院街街道社区卫生服务中心",
            description="为行动不便的独居老人提供免费就医接送。",
            starts_at=start,
            ends_at=start + timedelta(hours=8),
            places=12,
        )
        signups = [services.signup_create(actor=d.user, opportunity=past) for d in drivers[-12:]]
        for signup in signups:
            clock.now = start + timedelta(minutes=rng.randint(-10, 20))
            services.signup_check_in(actor=signup.driver.user, signup=signup)
        for signup in signups:
            clock.now = start + timedelta(hours=rng.uniform(3, 7))
            services.signup_check_out(actor=signup.driver.user, signup=signup)
        clock.now = start + timedelta(hours=9)
        for signup in signups:
            services.signup_confirm(actor=staff, signup=signup)
        services.opportunity_close(actor=staff, opportunity=past)


def _alert(rng, staff, root) -> None:
    alert = services.alert_create(
        actor=staff,
        unit=root,
        kind="missing_person",
        title="寻找走失老人",
        description="王大爷，78岁，身高约1.65米，灰色棉外套、黑色布鞋，患阿尔茨海默病，"
        "今晨8时许在春熙路附近走失。如有发现请点击“看到了”并注明位置。",
        lng=104.08130,
        lat=30.65760,
        radius_km=8,
        expires_at=timezone.now() + timedelta(days=2),
    )
    recipient = alert.recipients.select_related("driver__user").order_by("id").first()
    if recipient is not None and recipient.driver.user_id:
        services.sighting_report(
            actor=recipient.driver.user,
            alert=alert,
            lng=104.0742,
            lat=30.6571,
            note="天府广场地铁站C口附近见到相似老人，往人民南路方向步行。",
        )

"""Demo organisation life on the demo city (docs/demo.md): a quarter of meetings in every
branch that has members (支委会 and 主题党日 each month, one 支部党员大会 — one of them not
quorate), with attendance marked by the organisers and leave; and this month's 主题党日
published by the committee and adopted by most branches, with a few leave requests waiting.

Through the services, as the committee's staff member, with times in the past."""

import random
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from redwheel.core.dates import LOCAL_TZ, local_date, month_start, previous_month
from redwheel.orgs.models import OrgUnit
from redwheel.party.meetings import services
from redwheel.party.meetings.models import Meeting

# The scoring step publishes the rule book that meeting_record consults for points.
DEMO_AFTER = ("scoring",)

THEMES = ["学习《中国共产党章程》", "安全行车 文明服务", "传承红色基因 争做先锋司机"]
THIS_MONTH_THEME = "党员司机亮身份 践承诺"
MATERIALS = (
    "一、学习材料：新就业形态劳动者权益保障有关文件。\n"
    "二、交流：结合出车经历谈服务乘客的做法。\n"
    "三、志愿服务：到附近驿站开展便民服务。"
)


def _at(day, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL_TZ)


def _sessions(day, two: bool):
    noon = _at(day, 12)
    specs = [services.SessionSpec(noon, noon + timedelta(hours=1), "午间场")]
    if two:
        evening = _at(day, 20)
        specs.append(services.SessionSpec(evening, evening + timedelta(hours=1), "晚间场"))
    return specs


def _held(rng, actor, branch, members, meeting, *, turnout: float, leave: float = 0.1):
    """Mark attendance as the organiser would, then record the minutes the next day."""
    for driver in members:
        draw = rng.random()
        state = "present" if draw < turnout else "leave" if draw < turnout + leave else None
        if state:
            services.attendance_mark(actor=actor, meeting=meeting, driver=driver, state=state)
    return services.meeting_record(
        actor=actor,
        meeting=meeting,
        minutes=f"{meeting.title}：传达学习上级精神，讨论支部近期工作，布置下月任务。",
        now=meeting.ends_at + timedelta(days=1),
    )


def build_demo(demo) -> bool:
    city: OrgUnit = demo.city
    if Meeting.objects.filter(branch__path__startswith=city.path).exists():
        return False
    rng = random.Random(demo.seed + 14)
    actor = demo.committee
    today = local_date()
    this_month = month_start(today)
    months = [previous_month(this_month)]
    months = [previous_month(months[0]), *months]
    months = [previous_month(months[0]), *months]
    branches = [
        b
        for b in OrgUnit.objects.filter(
            path__startswith=city.path, kind=OrgUnit.Kind.BRANCH
        ).order_by("path")
        if services.branch_members(b).exists()
    ]
    recorded = 0
    with transaction.atomic():
        services.meeting_types_seed(actor=actor, city=city)
        themes = [
            services.themed_day_publish(
                actor=actor, city=city, month=month, title=title, materials=MATERIALS
            )
            for month, title in zip(months, THEMES, strict=True)
        ]
        for n, branch in enumerate(branches):
            members = list(services.branch_members(branch))
            for month, theme in zip(months, themes, strict=True):
                committee = services.meeting_create(
                    actor=actor, branch=branch, type_code="branch_committee",
                    title=f"{month:%-m}月支委会", place="支部活动室",
                    sessions=_sessions(month + timedelta(days=4 + n % 5), two=False),
                    agenda="研究本月组织生活安排。",
                )  # fmt: skip
                _held(rng, actor, branch, members, committee, turnout=0.8)
                if rng.random() < 0.85:  # most branches held the month's themed day
                    themed = services.themed_day_adopt(
                        actor=actor, theme=theme, branch=branch,
                        sessions=_sessions(month + timedelta(days=14 + n % 6), two=True),
                        place="司机之家", online_link="https://meeting.example.cn/demo",
                    )  # fmt: skip
                    _held(rng, actor, branch, members, themed, turnout=0.75)
                    recorded += 1
                recorded += 1
            # One 支部党员大会 in the quarter; the last branch's falls short of its quorum.
            turnout = 0.3 if n == len(branches) - 1 else 0.85
            assembly = services.meeting_create(
                actor=actor, branch=branch, type_code="branch_assembly",
                title="季度支部党员大会", place="支部活动室",
                sessions=_sessions(months[1] + timedelta(days=20), two=True),
                agenda="一、支部工作报告；二、讨论发展党员事项。",
            )  # fmt: skip
            _held(rng, actor, branch, members, assembly, turnout=turnout, leave=0.0)
            recorded += 1
        _this_month(rng, actor, city, branches, this_month, today)
    demo.say(
        _("%(meetings)s meetings recorded in %(branches)s branches; 主题党日 published.")
        % {"meetings": recorded, "branches": len(branches)}
    )
    return True


def _this_month(rng, actor, city, branches, month, today) -> None:
    theme = services.themed_day_publish(
        actor=actor, city=city, month=month, title=THIS_MONTH_THEME, materials=MATERIALS
    )
    day = max(today + timedelta(days=2), month + timedelta(days=14))
    for n, branch in enumerate(branches):
        if n % 5 == 4:
            continue  # most, not all, branches adopted it so far
        meeting = services.themed_day_adopt(
            actor=actor, theme=theme, branch=branch, sessions=_sessions(day, two=True),
            place="司机之家",
        )  # fmt: skip
        for driver in services.branch_members(branch):
            if driver.user_id is None or rng.random() > 0.2:
                continue
            leave = services.leave_request(
                actor=driver.user, meeting=meeting, reason="当天有长途订单"
            )
            if rng.random() < 0.5:
                services.leave_decide(actor=actor, leave=leave, approve=True, note="请会后自学材料")

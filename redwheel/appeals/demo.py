"""Demo appeals on the demo city: cases at every level and in every status, some overdue and
escalated, mediations with 先赔后理, penalty reviews where penalties were ingested.

Everything goes through the services with explicit times in the past, then the escalation
job runs once at the present moment, as the worker would. Units differ in how fast they
answer, so the accountability page ranks them visibly apart.
"""

import random
import sys
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.accounts.models import Grant, Role
from redwheel.appeals import services
from redwheel.appeals.models import Case, Category, Status
from redwheel.core.permissions import SystemActor
from redwheel.drivers.models import Driver

DEMO_SCOPE = "demo"
SCENARIOS = [
    "new",
    "accepted",
    "waiting",
    "answered",
    "closed_satisfied",
    "closed_unsatisfied",
    "reopened",
    "merged",
    "withdrawn",
    "escalated",
    "level3",
    "level4_answered",
    "overdue",
    "level4_overdue",
    "mediation",
    "slow_answer",
]
ROUNDS = 5
# Penalty reviews appeal the punishments that the month of operating data carries.
DEMO_AFTER = ("operations",)

TEXTS = {
    Category.INCOME: (
        "本月抽成比例超过平台公布的上限",
        "平台公布抽成上限27%，但我本月多笔订单实际抽成超过30%，请帮忙核实。",
    ),
    Category.DISPATCH: (
        "连续多日被派远距离接驾单",
        "最近一周接驾距离普遍超过5公里，收入明显下降。",
    ),
    Category.PENALTY: ("对乘客投诉处罚有异议", "乘客投诉绕路，但我按导航行驶，有行车记录仪视频。"),
    Category.INSURANCE: ("事故后保险理赔迟迟没有进展", "上月追尾事故，平台保险理赔已等待三周。"),
    Category.FACILITIES: (
        "机场蓄车池附近没有厕所",
        "双流机场蓄车池排队时间长，附近没有可用厕所和充电桩。",
    ),
    Category.SAFETY: ("夜间遇到乘客辱骂威胁", "凌晨接单时乘客醉酒辱骂并威胁，希望平台和组织关注。"),
    Category.RULES: ("服务分规则调整未提前告知", "平台调整服务分计算方式，没有提前公示。"),
    Category.OTHER: ("司机之家开放时间太短", "附近司机之家晚上八点就关门，夜班司机用不上。"),
}
ANSWERS = [
    "已与平台运营核实，多收部分将在下个结算周期退还，并已要求平台在司机端公示抽成明细。",
    "已协调平台调整该区域派单半径，下周起试行，请继续反馈效果。",
    "经调取订单轨迹和行车记录，处罚已撤销，服务分已恢复。",
    "已联系保险公司加快理赔，预计五个工作日内到账。",
    "已与机场管理方协调，蓄车池增设移动厕所，充电桩纳入下季度建设计划。",
]


def _handler(case: Case, admin):
    """Someone who would really act: the contact member, else a grant on the unit or above."""
    if case.assignee_id:
        return case.assignee
    paths = [*case.unit.ancestor_paths(), case.unit.path]
    grant = (
        Grant.objects.filter(
            unit__path__in=paths, role__in=[Role.SECRETARY, Role.ORGANISER, Role.STAFF]
        )
        .select_related("user")
        .order_by("-unit__depth", "id")
        .first()
    )
    return grant.user if grant else admin


def demo_appeals_exist() -> bool:
    return Case.objects.filter(idempotency_scope=DEMO_SCOPE).exists()


def build_demo(demo) -> bool:
    """The demo app's hook (docs/demo.md); `demo` is its DemoContext."""
    return build_demo_appeals(actor=demo.admin, seed=demo.seed, stdout=demo.out)


def build_demo_appeals(*, actor=None, seed: int = 2026, stdout=None, rounds: int = ROUNDS) -> bool:
    """Create the demo cases unless they exist (`rounds` passes through every scenario), with
    `actor` (an operator by default) taking in the cases filed at an intake desk.
    Returns True when built."""
    out = stdout or sys.stdout
    if demo_appeals_exist():
        out.write(_("Demo appeals exist already; nothing to do.") + "\n")
        return False
    rng = random.Random(seed)
    admin = actor or SystemActor.operator("demo")
    drivers = list(
        Driver.objects.filter(user__isnull=False, branch__isnull=False)
        .select_related("user", "branch")
        .order_by("id")
    )
    rng.shuffle(drivers)
    now = timezone.now()
    speed: dict[int, float] = {}  # per unit: hours to answer; some units are slow
    made = 0
    with transaction.atomic():
        for index, scenario in enumerate(SCENARIOS * rounds):
            if index >= len(drivers):
                break
            _scenario(scenario, drivers[index], index, rng, now, admin, speed)
            made += 1
        counts = services.escalate_due(now=now)
    out.write(
        _("Demo appeals: %(n)s cases; the escalation job moved %(e)s and flagged %(o)s overdue.")
        % {"n": made, "e": counts["escalated"], "o": counts["overdue"]}
        + "\n"
    )
    return True


def _punishment(driver):
    from redwheel.exchange.models import Punishment

    return Punishment.objects.filter(driver=driver).order_by("-punished_at").first()


def _scenario(
    name: str, driver: Driver, index: int, rng: random.Random, now, admin, speed: dict
) -> None:
    hours = timedelta(hours=1)
    ages = {
        "new": rng.uniform(0.1, 1.5),
        "accepted": rng.uniform(1, 3),
        "waiting": rng.uniform(2, 30),
        "answered": rng.uniform(24, 90),
        "level3": rng.uniform(3, 6),
    }
    filed_at = now - hours * ages.get(name, rng.uniform(9 * 24, 40 * 24))
    category = rng.choice(list(TEXTS))
    punishment = (
        _punishment(driver) if category == Category.PENALTY or name == "slow_answer" else None
    )
    if name == "slow_answer" and punishment is None:
        category = Category.PENALTY if category == Category.SAFETY else category
    if category == Category.SAFETY and name in ("overdue", "level4_overdue", "level3"):
        category = Category.RULES
    title, description = TEXTS[Category.PENALTY if punishment else category]
    mediation = None
    if name == "mediation":
        category = Category.OTHER
        title, description = "乘客投诉绕路要求退款", "乘客认为绕路多收12元，司机称按平台导航行驶。"
        mediation = {
            "passenger": rng.choice(["王女士", "李先生", "赵女士"]),
            "order_ref": f"DD{filed_at:%Y%m%d}{index:04d}",
            "facts": "行程比预估多3.2公里，导航记录显示因道路施工绕行。",
            "proposed_settlement": "平台先行退还乘客差价，再核实责任。",
            "compensate_first": True,
            "payer": None,
            "amount": 12,
        }
    actor = driver.user
    channel = Case.Channel.APP
    if mediation is not None or index % 7 == 3:
        channel, actor = Case.Channel.INTAKE, admin
    case, _created = services.case_file(
        actor=actor,
        driver=driver,
        category=category,
        title=title,
        description=description,
        channel=channel,
        punishment=punishment,
        idempotency_key=f"demo-{index}",
        idempotency_scope=DEMO_SCOPE,
        mediation=_with_payer(mediation, driver),
        now=filed_at,
    )
    unit_hours = speed.setdefault(case.unit_id, rng.choice([1.5, 3, 5, 30, 70]))
    handler = _handler(case, admin)
    at = filed_at + hours * rng.uniform(0.3, 1.5)

    def answer(when):
        nonlocal case
        case = services.case_answer(
            actor=_handler(case, admin), case=case, answer=rng.choice(ANSWERS), now=when
        )

    def escalate(times, when):
        nonlocal case
        for step in range(times):
            if case.level >= 4:
                break
            case = services.case_escalate(
                actor=_handler(case, admin),
                case=case,
                reason="需要上级组织协调平台处理",
                now=when + hours * step,
            )

    if name == "new":
        return
    if name in ("overdue",):
        return  # untouched: the job escalates it
    if name == "accepted":
        services.case_accept(actor=handler, case=case, note="已受理，正在核实。", now=at)
    elif name == "waiting":
        services.case_accept(actor=handler, case=case, now=at)
        services.case_request_info(
            actor=handler, case=case, question="请上传相关订单截图和结算明细。", now=at + hours
        )
    elif name in (
        "answered",
        "closed_satisfied",
        "closed_unsatisfied",
        "reopened",
        "slow_answer",
        "mediation",
    ):
        services.case_accept(actor=handler, case=case, now=at)
        delay = unit_hours * (3 if name == "slow_answer" else 1)
        when = min(filed_at + hours * delay, now - hours)
        answer(when)
        if name == "mediation":
            services.mediation_update(
                actor=handler,
                case=case,
                outcome="agreed",
                outcome_note="平台已先行赔付乘客12元，司机无责。",
                now=when,
            )
        if name in ("closed_satisfied", "mediation"):
            services.case_rate(actor=driver.user, case=case, satisfied=True, now=when + hours)
        elif name in ("closed_unsatisfied", "reopened"):
            services.case_rate(
                actor=driver.user,
                case=case,
                satisfied=False,
                comment="问题没有根本解决",
                now=when + hours,
            )
            if name == "reopened" and now - when < services.REOPEN_WINDOW - hours * 3:
                services.case_reopen(
                    actor=driver.user, case=case, reason="问题仍然存在", now=when + 2 * hours
                )
    elif name == "merged":
        dup, _c = services.case_file(
            actor=driver.user,
            driver=driver,
            category=category,
            title=title,
            description=description,
            channel=Case.Channel.APP,
            idempotency_key=f"demo-{index}-dup",
            idempotency_scope=DEMO_SCOPE,
            now=filed_at + hours,
        )
        services.case_merge(actor=_handler(dup, admin), case=dup, into=case, now=at + hours)
        answer(min(filed_at + hours * unit_hours, now - hours))
    elif name == "withdrawn":
        services.case_withdraw(actor=driver.user, case=case, reason="已与平台协商解决。", now=at)
    elif name == "escalated":
        escalate(1, at)
        services.case_accept(actor=_handler(case, admin), case=case, now=at + 2 * hours)
        if index % 2:
            answer(at + 6 * hours)
    elif name == "level3":
        escalate(2, at)
    elif name == "level4_answered":
        escalate(3, at)
        answer(at + 30 * hours)
        services.case_rate(
            actor=driver.user, case=case, satisfied=rng.random() < 0.7, now=at + 31 * hours
        )
    elif name == "level4_overdue":
        escalate(3, at)
    assert case.status in Status.values


def _with_payer(mediation, driver):
    if mediation is None:
        return None
    from redwheel.appeals.routing import platform_of

    return {**mediation, "payer": platform_of(driver)}

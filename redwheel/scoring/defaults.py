"""The first rule book of the demo city (and a fixture for tests): rules and deduction table.

The names are data published by the committee (shown as written), not interface strings.
"""

from redwheel.scoring import services
from redwheel.scoring.models import Category, Deduction

RULES = [
    # code, name, category, points, evidence, per day, per month
    (
        "learning_course",
        "完成一门移动课堂课程",
        Category.LEARNING,
        2,
        "学习记录（移动课堂完成证明）",
        4,
        20,
    ),
    (
        "volunteer_hour",
        "志愿服务（每小时）",
        Category.VOLUNTEER,
        2,
        "车队队长确认的志愿服务时长",
        8,
        40,
    ),
    (
        "emergency_call",
        "响应应急保障调度",
        Category.EMERGENCY,
        5,
        "应急调度记录中的到岗确认",
        10,
        30,
    ),
    (
        "lost_property",
        "拾金不昧、归还乘客遗失物品",
        Category.GOOD_DEED,
        5,
        "平台或乘客出具的归还记录",
        10,
        20,
    ),
    ("brave_deed", "见义勇为", Category.GOOD_DEED, 10, "公安机关或行业党委的认定", None, 20),
    ("accepted_report", "随手拍问题被采纳", Category.REPORT, 3, "随手拍审核通过并转办", 6, 15),
    (
        "training_session",
        "参加安全或服务培训",
        Category.TRAINING,
        2,
        "培训组织者确认的出勤记录",
        2,
        10,
    ),
]

DEDUCTIONS = [
    # source, keyword, points, label
    (Deduction.Source.PUNISHMENT, "酒", 20, "酒后驾驶"),
    (Deduction.Source.PUNISHMENT, "殴打", 10, "辱骂、殴打乘客"),
    (Deduction.Source.PUNISHMENT, "拒载", 5, "拒载、甩客"),
    (Deduction.Source.PUNISHMENT, "超速", 3, "超速行驶"),
    (Deduction.Source.PUNISHMENT, "疲劳驾驶", 3, "疲劳驾驶"),
    (Deduction.Source.PUNISHMENT, "路线", 3, "绕路、未按规定路线行驶"),
    (Deduction.Source.PUNISHMENT, "", 1, "其他平台处罚"),
    (Deduction.Source.COMPLAINT, "已核实", 1, "乘客投诉经核实成立"),
]


def draft_default(*, actor, title: str = "网约车司机积分与信誉规则（第一版）", based_on=None):
    """A draft with the default rules and table (publish it with `rulebook_publish`)."""
    book = services.rulebook_draft(
        actor=actor,
        title=title,
        based_on=based_on,
        change_note="首次发布：积分规则、信誉扣分对照表与综合评分权重。",
    )
    if based_on is None:
        for code, name, category, points, evidence, day_cap, month_cap in RULES:
            services.rule_set(
                actor=actor,
                book=book,
                code=code,
                name=name,
                category=category,
                points=points,
                evidence=evidence,
                daily_cap=day_cap,
                monthly_cap=month_cap,
            )
        for position, (source, keyword, points, label) in enumerate(DEDUCTIONS):
            services.deduction_add(
                actor=actor,
                book=book,
                source=source,
                keyword=keyword,
                points=points,
                label=label,
                position=position,
            )
    return book

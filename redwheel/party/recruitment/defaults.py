"""The seeded default pipeline: the 25 steps in 5 stages of the 2014 发展党员工作细则.

Names are data (Chinese, as the rules write them). Steps marked `verify` carry numbers that the
committee should check against its own rules: they ship as editable defaults (domain-rules,
header). Rule kinds are documented in `rules.py`.
"""

PDF_IMG = ["pdf", "jpg", "png"]
PDF = ["pdf"]


def _m(code: str, label: str, types=PDF_IMG, required: bool = False) -> dict:
    return {"code": code, "label": label, "types": list(types), "required": required}


def _f(code: str, label: str, type_: str, required: bool = False) -> dict:
    return {"code": code, "label": label, "type": type_, "required": required}


# Report and approval after the branch meeting: within 3 months, at most 6, then restart.
RESTART_AFTER_6 = {
    "kind": "within", "after_step": 15, "months": 3, "limit_months": 6, "over_limit": "restart"
}  # fmt: skip

STAGES = {
    1: "入党申请",
    2: "入党积极分子的确定和培养教育",
    3: "发展对象的确定和考察",
    4: "预备党员的接收",
    5: "预备党员的教育、考察和转正",
}

# number, stage, name, responsible, materials, fields, rules, guidance, verify
DEFAULT_STEPS = [
    (1, 1, "递交入党申请书", "applicant",
     [_m("application", "入党申请书", required=True)], [], [],
     "年满18岁；流动人员可向流动党员党组织提出申请。", False),
    (2, 1, "党组织派人谈话", "branch_committee",
     [_m("talk_record", "谈话记录")], [_f("talker", "谈话人", "text", True)],
     [{"kind": "within", "after_step": 1, "months": 1}],
     "收到入党申请书后一个月内派人谈话。", False),
    (3, 2, "推荐和确定入党积极分子", "branch_committee",
     [_m("recommendation", "推荐材料")],
     [_f("method", "推荐方式（党员推荐/群团组织推优）", "text", True),
      _f("committee_date", "支委会研究日期", "date")], [], "", False),
    (4, 2, "上级党委备案", "higher_committee", [], [_f("filed_with", "备案单位", "text")],
     [{"kind": "within", "after_step": 3, "months": 1}], "", True),
    (5, 2, "指定培养联系人", "branch_committee", [], [], [{"kind": "mentors", "min": 1, "max": 2}],
     "一至二名正式党员。", False),
    (6, 2, "培养教育考察", "mentor",
     [_m("thought_reports", "思想汇报"), _m("assessments", "考察记录")],
     [_f("reports", "思想汇报份数", "number")],
     [{"kind": "every", "months": 6, "what": "支部考察"}],
     "每半年考察一次；思想汇报一般每季度一次。", True),
    (7, 3, "确定发展对象", "branch_committee", [_m("opinions", "听取意见记录")],
     [_f("committee_date", "支委会讨论日期", "date")],
     [{"kind": "at_least", "after_step": 3, "years": 1}],
     "经过一年以上培养教育和考察。", False),
    (8, 3, "报上级党委备案", "higher_committee", [], [],
     [{"kind": "within", "after_step": 7, "months": 1}], "", True),
    (9, 3, "确定入党介绍人", "branch_committee", [], [], [{"kind": "sponsors", "count": 2}],
     "两名正式党员。", False),
    (10, 3, "进行政治审查", "branch_committee", [_m("vetting", "政审材料", required=True)],
     [_f("conclusion", "政审结论", "text", True)],
     [{"kind": "valid_for", "years": 1, "until_step": 15}],
     "政审结论一年内有效。", True),
    (11, 3, "开展集中培训", "higher_committee", [_m("certificate", "培训结业证明")],
     [_f("days", "培训天数", "number"), _f("hours", "培训学时", "hours")],
     [{"kind": "training", "min_days": 3, "min_hours": 24}],
     "一般不少于3天（或不少于24个学时）。", True),
    (12, 4, "支部委员会审查", "branch_committee", [], [_f("result", "审查结论", "text")], [], "",
     False),
    (13, 4, "上级党委预审", "higher_committee", [_m("publicity", "公示材料")],
     [_f("publicity_from", "公示开始", "date"), _f("publicity_to", "公示结束", "date")], [],
     "预审前先公示。", False),
    (14, 4, "填写入党志愿书", "applicant", [_m("volunteer_form", "入党志愿书", PDF)], [], [], "",
     False),
    (15, 4, "支部大会讨论", "branch_meeting", [_m("minutes", "会议记录")],
     [_f("members_present", "到会有表决权党员", "number", True),
      _f("votes_for", "赞成票", "number", True)],
     [{"kind": "within", "after_step": 13, "months": 1}, {"kind": "probation", "years": 1}],
     "一般在预审后一个月内召开；无记名投票。会议日期即入党时间。", True),
    (16, 4, "上级党委派人谈话", "higher_committee", [_m("talk_record", "谈话记录")],
     [_f("talker", "谈话人", "text")],
     [RESTART_AFTER_6],
     "支部大会决议3个月内未报上级的应重新讨论，超过6个月的应重新履行发展程序。", True),
    (17, 4, "上级党委审批", "higher_committee", [_m("approval", "审批意见")], [],
     [RESTART_AFTER_6],
     "3个月内审批，特殊情况不超过6个月；注明预备期起止时间。", True),
    (18, 4, "再上一级党委组织部门备案", "higher_committee", [], [],
     [{"kind": "within", "after_step": 17, "months": 1}], "", True),
    (19, 5, "编入党支部和党小组", "branch_committee", [], [_f("group", "党小组", "text")], [], "",
     False),
    (20, 5, "入党宣誓", "branch_committee", [], [], [], "", False),
    (21, 5, "继续教育考察", "mentor", [_m("reports", "思想汇报")], [], [], "", False),
    (22, 5, "提出转正申请", "applicant", [_m("application", "转正申请书")], [],
     [{"kind": "before_probation_end", "months": 1}], "预备期满前一个月左右提出。", True),
    (23, 5, "支部大会讨论", "branch_meeting", [_m("minutes", "会议记录")],
     [_f("members_present", "到会有表决权党员", "number"), _f("votes_for", "赞成票", "number")],
     [{"kind": "at_probation_end"}], "预备期满及时讨论。", False),
    (24, 5, "上级党委审批", "higher_committee", [_m("approval", "审批意见")], [],
     [{"kind": "within", "after_step": 23, "months": 3},
      {"kind": "outcomes", "extend_min_months": 6, "extend_max_months": 12}],
     "结论：按期转正、延长预备期（半年至一年）或取消预备党员资格。", True),
    (25, 5, "材料归档", "branch_committee", [], [],
     [{"kind": "within", "after_step": 24, "months": 1}], "", True),
]  # fmt: skip


def default_steps() -> list[dict]:
    """The default steps as dicts ready for `PipelineStep(**step)`."""
    keys = ("number", "stage", "name", "responsible", "materials", "fields", "rules")
    return [
        {**dict(zip(keys, row[:7], strict=True)), "guidance": row[7], "verify": row[8]}
        for row in DEFAULT_STEPS
    ]

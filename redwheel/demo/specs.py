"""What the demo city (成都市) is made of: its platforms, party organisations, joint-building
agreements and fixed demo accounts. Data only; city.py and people.py build it."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from redwheel.orgs.models import Platform

URL = "http://127.0.0.1:8000"
DEMO_PASSWORD = "RedWheel-demo-2026"
ROOT_NAME = "成都市网约车行业党委"
CITY_REGION = "510100"
# The demo city exists when this platform does (CompanyIds are unique).
MARKER_COMPANY_ID = "RCCX510100"
FULL_SIZE = 3200


@dataclass(frozen=True)
class StaffSpec:
    key: str
    phone: str
    name: str
    role: str  # a Role value, "superuser" or "driver"
    units: tuple[str, ...] = ()


# Fixed demo accounts; phones are valid mainland mobiles no generated driver can get.
STAFF = [
    StaffSpec("admin", "13800000001", "周启明", "superuser"),
    StaffSpec("committee", "13800000002", "陈雪梅", "staff", ("root",)),
    StaffSpec("regulator", "13800000003", "刘建国", "regulator", ("root",)),
    StaffSpec("secretary", "13800000004", "王海燕", "secretary", ("rc",)),
    StaffSpec("organiser", "13800000005", "张伟", "organiser", ("rc.jinjiang",)),
    StaffSpec("instructor", "13800000006", "赵德明", "instructor", ("tf.mobile", "jj.first")),
    StaffSpec("viewer", "13800000007", "黄丽", "viewer", ("root",)),
]
MEMBER_DRIVER = StaffSpec("member_driver", "13800000008", "何志强", "driver")
ORDINARY_DRIVER = StaffSpec("ordinary_driver", "13800000009", "陈小勇", "driver")
RESERVED_PHONES = {s.phone for s in [*STAFF, MEMBER_DRIVER, ORDINARY_DRIVER]}


@dataclass(frozen=True)
class PlatformSpec:
    key: str
    company_id: str
    name: str
    kind: str
    cap: Decimal | None
    share: float  # of drivers whose main platform this is
    organised: bool = True


PLATFORMS = [
    PlatformSpec(
        "rc", MARKER_COMPANY_ID, "蓉城出行", Platform.Kind.PLATFORM, Decimal("28.00"), 0.33
    ),
    PlatformSpec("tf", "TFYC510100", "天府约车", Platform.Kind.PLATFORM, Decimal("27.00"), 0.20),
    PlatformSpec(
        "xm",
        "XMKC510100",
        "熊猫快车",
        Platform.Kind.PLATFORM,
        Decimal("30.00"),
        0.14,
        organised=False,
    ),
    PlatformSpec("jj", "JJZC510100", "锦江专车", Platform.Kind.PLATFORM, Decimal("29.00"), 0.11),
    PlatformSpec("yd", "YDJH510100", "一点聚合", Platform.Kind.AGGREGATOR, Decimal("27.50"), 0.14),
    PlatformSpec("sd", "SDZL510100", "蜀道汽车租赁", Platform.Kind.LEASING, None, 0.08),
]
AGGREGATOR_PARTNERS = ("tf", "xm", "jj")

# The party organisation tree: (key, parent key, name, kind, branch type, region code).
UNITS: list[tuple[str, str | None, str, str, str, str]] = [
    ("root", None, ROOT_NAME, "committee", "", CITY_REGION),
    # 蓉城出行: an enterprise party committee with district branches.
    ("rc", "root", "蓉城出行党委", "enterprise_committee", "", "510107"),
    ("rc.jinjiang", "rc", "蓉城出行锦江片区党支部", "branch", "regular", "510104"),
    ("rc.jinjiang.g1", "rc.jinjiang", "锦江片区第一党小组", "group", "", "510104"),
    ("rc.jinjiang.g2", "rc.jinjiang", "锦江片区第二党小组", "group", "", "510104"),
    ("rc.wuhou", "rc", "蓉城出行武侯片区党支部", "branch", "regular", "510107"),
    ("rc.wuhou.g1", "rc.wuhou", "武侯片区夜间运营党小组", "group", "", "510107"),
    ("rc.chenghua", "rc", "蓉城出行成华片区党支部", "branch", "regular", "510108"),
    ("rc.airport", "rc", "蓉城出行双流机场片区党支部", "branch", "regular", "510116"),
    ("rc.mobile", "rc", "蓉城出行流动党员党支部", "branch", "mobile", "510107"),
    ("rc.vanguard", "rc", "蓉城出行党员先锋车队功能型党支部", "branch", "functional", "510107"),
    # 天府约车: a general branch directly under the industry committee.
    ("tf", "root", "天府约车党总支", "general_branch", "", "510105"),
    ("tf.qingyang", "tf", "天府约车青羊片区党支部", "branch", "regular", "510105"),
    ("tf.qingyang.g1", "tf.qingyang", "青羊片区党小组", "group", "", "510105"),
    ("tf.jinniu", "tf", "天府约车金牛片区党支部", "branch", "regular", "510106"),
    ("tf.mobile", "tf", "天府约车流动党员党支部", "branch", "mobile", "510105"),
    ("tf.emergency", "tf", "天府约车应急保障车队功能型党支部", "branch", "functional", "510106"),
    # 锦江专车: a small general branch.
    ("jj", "root", "锦江专车党总支", "general_branch", "", "510104"),
    ("jj.first", "jj", "锦江专车第一党支部", "branch", "regular", "510104"),
    ("jj.mobile", "jj", "锦江专车流动党员党支部", "branch", "mobile", "510104"),
    ("jj.station", "jj", "锦江专车司机之家志愿服务功能型党支部", "branch", "functional", "510104"),
    # 一点聚合: the aggregator's party committee leads joint building with its partners.
    ("yd", "root", "一点聚合党委", "enterprise_committee", "", "510116"),
    ("yd.ops", "yd", "一点聚合运营服务党支部", "branch", "regular", "510116"),
    ("yd.ops.g1", "yd.ops", "运营服务党小组", "group", "", "510116"),
    ("yd.xindu", "yd", "一点聚合新都片区党支部", "branch", "regular", "510114"),
    ("yd.mobile", "yd", "一点聚合流动党员党支部", "branch", "mobile", "510116"),
    ("yd.vanguard", "yd", "一点聚合党员先锋车队功能型党支部", "branch", "functional", "510116"),
    # 蜀道汽车租赁 and the small fleet operators it leases to share one joint branch.
    ("sd", "root", "蜀道汽车租赁及合作车队联合党支部", "branch", "joint", "510112"),
]
PLATFORM_OF_UNIT = {"rc": "rc", "tf": "tf", "jj": "jj", "yd": "yd", "sd": "sd"}

AGREEMENTS = [
    (
        "一点聚合党委与合作平台党建联建协议",
        "yd",
        ("tf", "jj"),
        date(2025, 3, 18),
        "党员司机亮身份互认；联合组建应急保障车队；春运、极端天气场站疏导；诉求直达联动处理。",
    ),
    (
        "一点聚合党员先锋车队与天府约车应急保障车队联建",
        "yd.vanguard",
        ("tf.emergency",),
        date(2025, 6, 9),
        "双流机场、成都东站夜间滞留旅客免费接送；高考爱心送考。",
    ),
    (
        "双流机场片区网约车党建联建协议",
        "rc.airport",
        ("yd.ops", "sd"),
        date(2025, 9, 1),
        "机场片区司机之家共建共享；党员联系司机结对；新能源车充电互助。",
    ),
]

VERIFY_NOTES = [
    "已与原籍党组织核实组织关系。",
    "党员档案核对无误。",
    "经支部委员会审核，信息属实。",
    "已查验党员证明材料。",
]
REJECTION_REASONS = [
    "经向所申报的党组织核实，未查到其组织关系。",
    "申报的入党时间与党员档案记载不一致，请核对后重新申报。",
    "组织关系已于2019年转出且未接续，请先办理组织关系接转。",
    "申报信息与其他支部登记重复，请联系原支部核实。",
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

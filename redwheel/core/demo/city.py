"""Build the demo city (成都市) through the services, deterministically from a seed.

The city is modelled on the background articles: an industry party committee at the root,
platform party organisations with regular, mobile-member (流动党员), functional (党员先锋车队)
and joint (联合) branches, an aggregator with partner platforms linked by joint-building
agreements (联建), one platform with no party organisation at all (the coverage gap), about
3,200 drivers of whom about 53 are verified party members, some of them mobile members
checked in with their home organisations elsewhere, plus activists, applicants, declarations
awaiting verification, rejections, badge consents and contact pairs (党员联系司机).
"""

import random
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from stdnum.cn import ric

from redwheel.accounts import services as accounts
from redwheel.accounts.models import User
from redwheel.core import audit
from redwheel.core.demo.names import HOME_ORGANISATIONS, PeopleFactory, Person
from redwheel.drivers import services as drivers
from redwheel.drivers.models import Category, Driver
from redwheel.orgs import services as orgs
from redwheel.orgs.models import OrgUnit, Platform

URL = "http://127.0.0.1:8000"
DEMO_PASSWORD = "RedWheel-demo-2026"
ROOT_NAME = "成都市网约车行业党委"
CITY_REGION = "510100"
# The demo city exists when this platform does (CompanyIds are unique).
MARKER_COMPANY_ID = "RCCX510100"
FULL_SIZE = 3200


class DemoCityConflict(Exception):
    """A committee with the demo name exists but the demo city was not built here."""


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


@dataclass(frozen=True)
class Login:
    role: str
    name: str
    phone: str
    password: str
    sees: str


def demo_logins() -> list[Login]:
    units = {key: name for key, _p, name, *_rest in UNITS}
    rows = [
        (_("Administrator"), STAFF[0], _("Everything, including the Django admin at /admin/")),
        (
            _("Industry committee staff"),
            STAFF[1],
            _("The whole city: coverage, verification queue, drivers, audit log"),
        ),
        (_("Transport regulator"), STAFF[2], _("The whole city read-only, and the audit log")),
        (
            _("Platform party secretary"),
            STAFF[3],
            _("%(unit)s and its branches: drivers, verification, check-ins")
            % {"unit": units["rc"]},
        ),
        (
            _("Branch organiser"),
            STAFF[4],
            _("One branch (%(unit)s): its members, check-ins and contact pairs")
            % {"unit": units["rc.jinjiang"]},
        ),
        (
            _("Instructor"),
            STAFF[5],
            _("Read-only view of the branches they guide: %(units)s")
            % {"units": "、".join(units[key] for key in STAFF[5].units)},
        ),
        (_("Viewer"), STAFF[6], _("Read-only view of the whole city")),
        (
            _("Driver (verified party member)"),
            MEMBER_DRIVER,
            _("Their own page: verified membership, badge switched on"),
        ),
        (
            _("Driver (not a party member)"),
            ORDINARY_DRIVER,
            _("Their own page: can declare party membership"),
        ),
    ]
    return [Login(role, spec.name, spec.phone, DEMO_PASSWORD, sees) for role, spec, sees in rows]


def print_logins(stdout=None, url: str = URL) -> None:
    out = stdout or sys.stdout
    rows = [(_("Role"), _("Name"), _("Phone"), _("Password"), _("What they see"))]
    rows += [(x.role, x.name, x.phone, x.password, x.sees) for x in demo_logins()]
    widths = [max(_width(row[i]) for row in rows) for i in range(4)]
    out.write(_("Open %(url)s and sign in with one of these accounts:") % {"url": url} + "\n")
    for index, row in enumerate(rows):
        cells = [row[i] + " " * (widths[i] - _width(row[i])) for i in range(4)]
        out.write("  ".join([*cells, row[4]]) + "\n")
        if index == 0:
            out.write("  ".join("-" * w for w in [*widths, _width(row[4])]) + "\n")


def _width(text: str) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def demo_city_exists() -> bool:
    return Platform.objects.filter(company_id=MARKER_COMPANY_ID).exists()


@dataclass
class _Plan:
    """One generated driver before it is written."""

    person: Person
    platforms: list[str]
    branch: str | None
    region: str
    new_energy: bool
    role: str = "ordinary"  # see _assign_roles
    home_organisation: str = ""
    fixed_phone: str = ""


@dataclass
class _Builder:
    rng: random.Random
    out: object
    scale: float
    people: PeopleFactory
    users: dict = field(default_factory=dict)
    platforms: dict = field(default_factory=dict)
    units: dict = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def say(self, message: str) -> None:
        self.out.write(f"[{time.monotonic() - self.started:5.1f}s] {message}\n")
        if hasattr(self.out, "flush"):
            self.out.flush()

    def count(self, full: int, minimum: int) -> int:
        return max(minimum, round(full * self.scale))


def build_demo_city(seed: int = 2026, stdout=None, scale: float = 1.0) -> bool:
    """Build the city unless it exists. Returns True when it was built, False if it existed."""
    out = stdout or sys.stdout
    if demo_city_exists():
        return False
    if OrgUnit.objects.filter(name=ROOT_NAME, parent=None).exists():
        raise DemoCityConflict(
            _("A committee named %(name)s exists but it is not the demo city.")
            % {"name": ROOT_NAME}
        )
    rng = random.Random(seed)
    builder = _Builder(
        rng=rng, out=out, scale=scale, people=PeopleFactory(rng, reserved_phones=RESERVED_PHONES)
    )
    with transaction.atomic():
        _build_accounts_and_tree(builder)
        plans = _plan_drivers(builder)
        created = _create_drivers(builder, plans)
        _party(builder, plans, created)
    builder.say(_("Demo city built."))
    return True


# Organisations and staff ---------------------------------------------------------------------


def _build_accounts_and_tree(b: _Builder) -> None:
    admin_spec = STAFF[0]
    admin = User.objects.create_superuser(
        admin_spec.phone, DEMO_PASSWORD, display_name=admin_spec.name
    )
    audit.record(actor=None, action="user.create", obj=admin, summary=admin.phone_masked)
    b.users["admin"] = admin

    root_key, _parent, root_name, root_kind, _type, root_region = UNITS[0]
    b.units[root_key] = orgs.unit_create(
        actor=admin, name=root_name, kind=root_kind, parent=None, region_code=root_region
    )
    for spec in PLATFORMS:
        b.platforms[spec.key] = orgs.platform_create(
            actor=admin,
            city=b.units[root_key],
            company_id=spec.company_id,
            name=spec.name,
            kind=spec.kind,
            commission_cap_percent=spec.cap,
        )
    orgs.platform_set_partners(
        actor=admin,
        aggregator=b.platforms["yd"],
        partners=[b.platforms[key] for key in AGGREGATOR_PARTNERS],
    )
    b.say(_("%(count)s platforms") % {"count": len(b.platforms)})

    for key, parent, name, kind, branch_type, region in UNITS[1:]:
        platform_key = PLATFORM_OF_UNIT.get(key)
        b.units[key] = orgs.unit_create(
            actor=admin,
            name=name,
            kind=kind,
            parent=b.units[parent] if parent else None,
            region_code=region,
            branch_type=branch_type,
            platform=b.platforms[platform_key] if platform_key else None,
        )
    for name, lead, partners, signed_on, scope in AGREEMENTS:
        orgs.agreement_create(
            actor=admin,
            name=name,
            lead_unit=b.units[lead],
            partner_units=[b.units[key] for key in partners],
            signed_on=signed_on,
            ends_on=signed_on.replace(year=signed_on.year + 3) - timedelta(days=1),
            scope=scope,
        )
    b.say(
        _("%(units)s party units, %(agreements)s joint-building agreements")
        % {"units": len(b.units), "agreements": len(AGREEMENTS)}
    )

    for spec in STAFF[1:]:
        user = accounts.user_create(
            actor=admin, phone=spec.phone, display_name=spec.name, password=DEMO_PASSWORD
        )
        for unit_key in spec.units:
            accounts.grant_create(actor=admin, user=user, unit=b.units[unit_key], role=spec.role)
        b.users[spec.key] = user
    b.say(_("%(count)s staff accounts") % {"count": len(STAFF)})


# Drivers -------------------------------------------------------------------------------------


def _regular_branches(platform_key: str) -> list[str]:
    if platform_key == "sd":
        return ["sd"]
    return [
        key
        for key, _p, _n, kind, branch_type, _r in UNITS
        if key.startswith(platform_key + ".") and branch_type == "regular"
    ]


def _unit_region(key: str) -> str:
    return next(region for k, *_rest, region in UNITS if k == key)


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


def _plan_drivers(b: _Builder) -> list[_Plan]:
    rng = b.rng
    total = b.count(FULL_SIZE, 60)
    keys = [spec.key for spec in PLATFORMS]
    weights = [spec.share for spec in PLATFORMS]
    mains = rng.choices(keys, weights=weights, k=total)
    plans: list[_Plan | None] = [None] * total
    roles = _assign_roles(b, mains)
    for index, main in enumerate(mains):
        platforms = [main]
        if main == "yd" and rng.random() < 0.8:  # aggregator drivers drive for a partner too
            platforms.append(rng.choice(AGGREGATOR_PARTNERS))
        elif rng.random() < 0.12:
            platforms.append(rng.choice([k for k in keys if k not in (main, "yd")]))
        branch = rng.choice(_regular_branches(main)) if main != "xm" else None
        region = _unit_region(branch) if branch and rng.random() < 0.7 else rng.choice(DISTRICTS)
        role = roles.get(index, "ordinary")
        home = ""
        birth_regions: tuple[str, ...] = ()
        if role == "mobile":
            birth_regions, home = HOME_ORGANISATIONS[index % len(HOME_ORGANISATIONS)]
        person = b.people.person(regions=birth_regions)
        plans[index] = _Plan(
            person=person,
            platforms=platforms,
            branch=branch,
            region=region,
            new_energy=rng.random() < 0.4,
            role=role,
            home_organisation=home,
        )
    _pin_demo_drivers(b, plans)
    return plans


def _assign_roles(b: _Builder, mains: list[str]) -> dict[int, str]:
    """Pick which drivers get which party status. Only organised platforms' drivers qualify."""
    # Drivers 0 and 1 are the demo logins on 蓉城出行: a verified full member and a driver with
    # no party status; the rest are drawn at random.
    mains[0] = mains[1] = "rc"
    roles: dict[int, str] = {0: "full"}
    eligible = [i for i, main in enumerate(mains) if main != "xm" and i > 1]
    b.rng.shuffle(eligible)
    with_mobile_branch = {"rc", "tf", "jj", "yd"}
    wanted = [
        ("mobile", b.count(12, 3)),  # verified full members checked in (流动党员)
        ("full", b.count(35, 5)),  # verified full members
        ("probationary", b.count(6, 1)),  # verified probationary members
        ("declared", b.count(15, 3)),  # party members awaiting verification
        ("rejected", b.count(4, 1)),
        ("activist_verified", b.count(22, 2)),
        ("activist_declared", b.count(8, 1)),
        ("applicant_verified", b.count(14, 1)),
        ("applicant_declared", b.count(6, 1)),
    ]
    for role, number in wanted:
        number -= sum(1 for r in roles.values() if r == role)
        pool = [
            i
            for i in eligible
            if i not in roles and (role != "mobile" or mains[i] in with_mobile_branch)
        ]
        for index in pool[:number]:
            roles[index] = role
    return roles


def _pin_demo_drivers(b: _Builder, plans: list[_Plan]) -> None:
    """The two demo driver logins: a verified member on 蓉城出行 and an ordinary driver."""
    member, ordinary = plans[0], plans[1]  # see _assign_roles
    for plan, spec in ((member, MEMBER_DRIVER), (ordinary, ORDINARY_DRIVER)):
        person = plan.person
        if person.gender != "M":  # both demo names are men's names; the ID must agree
            person = b.people.person(gender="M")
        plan.person = Person(spec.name, "M", person.id_number, spec.phone)
        plan.fixed_phone = spec.phone


def _create_drivers(b: _Builder, plans: list[_Plan]) -> list[Driver]:
    admin = b.users["admin"]
    created: list[Driver] = []
    step = max(1, len(plans) // 10)
    for index, plan in enumerate(plans, start=1):
        if plan.fixed_phone:  # demo logins: an activated account with the demo password
            accounts.user_create(
                actor=admin,
                phone=plan.fixed_phone,
                display_name=plan.person.name,
                password=DEMO_PASSWORD,
            )
        person = plan.person
        driver = drivers.driver_create(
            actor=admin,
            name=person.name,
            license_no=person.id_number,
            phone=person.phone,
            branch=b.units[plan.branch] if plan.branch else None,
            gender=person.gender,
            region_code=plan.region,
        )
        for platform_key in plan.platforms:
            drivers.affiliation_add(
                actor=admin,
                driver=driver,
                platform=b.platforms[platform_key],
                joined_on=date(2019, 1, 1) + timedelta(days=b.rng.randrange(6 * 365)),
            )
        brand, model = b.people.car(plan.new_energy)
        drivers.vehicle_add(
            actor=admin,
            driver=driver,
            plate=b.people.plate(plan.new_energy),
            brand=brand,
            model=model,
        )
        created.append(driver)
        if index % step == 0 or index == len(plans):
            b.say(_("drivers: %(done)s/%(total)s") % {"done": index, "total": len(plans)})
    return created


# Party status --------------------------------------------------------------------------------


def _verifier(b: _Builder, driver: Driver):
    """蓉城出行's secretary verifies her own platform's members; the committee does the rest."""
    return (
        b.users["secretary"]
        if driver.branch and driver.branch.platform_id == b.platforms["rc"].pk
        else b.users["committee"]
    )


def _joined_party_on(b: _Builder, person: Person, probationary: bool) -> date:
    if probationary:
        return date(2025, 1, 1) + timedelta(days=b.rng.randrange(300))
    born = ric.get_birth_date(person.id_number)
    earliest = date(born.year + 20, born.month, min(born.day, 28))
    latest = date(2024, 6, 30)
    if earliest >= latest:
        return latest
    return earliest + timedelta(days=b.rng.randrange((latest - earliest).days))


def _member_branch(b: _Builder, plan: _Plan, driver: Driver) -> OrgUnit:
    main = plan.platforms[0]
    if plan.role == "mobile":
        return b.units[f"{main}.mobile"] if main != "sd" else b.units["sd"]
    if plan.role == "full" and main != "sd" and b.rng.random() < 0.25:
        functional = {
            "rc": "rc.vanguard",
            "tf": "tf.emergency",
            "jj": "jj.station",
            "yd": "yd.vanguard",
        }[main]
        return b.units[functional]
    return driver.branch


def _party(b: _Builder, plans: list[_Plan], created: list[Driver]) -> None:
    rng = b.rng
    committee = b.users["committee"]
    by_role: dict[str, list[tuple[_Plan, Driver]]] = {}
    for plan, driver in zip(plans, created, strict=True):
        by_role.setdefault(plan.role, []).append((plan, driver))

    category_of = {
        "mobile": Category.FULL,
        "full": Category.FULL,
        "probationary": Category.PROBATIONARY,
        "declared": None,
        "rejected": None,
        "activist_verified": Category.ACTIVIST,
        "activist_declared": Category.ACTIVIST,
        "applicant_verified": Category.APPLICANT,
        "applicant_declared": Category.APPLICANT,
    }
    verified_ids: list[int] = []
    demo_member_id = None
    memberships = 0
    for role, role_category in category_of.items():
        for plan, driver in by_role.get(role, []):
            category = role_category or (
                Category.FULL if rng.random() < 0.85 else Category.PROBATIONARY
            )
            is_member = category in (Category.FULL, Category.PROBATIONARY)
            # About half declare themselves in the app; the rest are registered by staff (摸排).
            actor = driver.user if rng.random() < 0.5 else committee
            membership = drivers.membership_declare(
                actor=actor,
                driver=driver,
                category=category,
                branch=_member_branch(b, plan, driver),
                joined_party_on=(
                    _joined_party_on(b, plan.person, category == Category.PROBATIONARY)
                    if is_member
                    else None
                ),
                home_organisation=plan.home_organisation,
            )
            if role == "rejected":
                drivers.membership_reject(
                    actor=_verifier(b, driver),
                    membership=membership,
                    reason=rng.choice(REJECTION_REASONS),
                )
            elif role not in ("declared", "activist_declared", "applicant_declared"):
                drivers.membership_verify(
                    actor=_verifier(b, driver), membership=membership, note=rng.choice(VERIFY_NOTES)
                )
                if is_member:
                    verified_ids.append(driver.pk)
                if plan.fixed_phone == MEMBER_DRIVER.phone:
                    demo_member_id = driver.pk
            if role == "mobile":  # 流动党员报到, done by the driver on the phone
                drivers.membership_check_in(
                    actor=driver.user,
                    membership=membership,
                    mobile_branch=membership.branch,
                    home_organisation=plan.home_organisation,
                )
            memberships += 1
    b.say(
        _("%(count)s party declarations (%(verified)s verified party members)")
        % {"count": memberships, "verified": len(verified_ids)}
    )

    # Fresh copies: the services changed the memberships behind the objects we hold.
    fresh = Driver.objects.select_related("membership", "user").in_bulk(verified_ids)
    verified_members = [fresh[pk] for pk in verified_ids]
    # Badge consent: the demo member and about 30 others switch the badge on themselves.
    demo_member = fresh[demo_member_id]
    others = [d for d in verified_members if d is not demo_member]
    consenting = [demo_member, *rng.sample(others, min(len(others), b.count(29, 3)))]
    for driver in consenting:
        drivers.badge_consent_set(actor=driver.user, driver=driver, consented=True)
    b.say(_("%(count)s members show the party-member badge") % {"count": len(consenting)})

    # Contact pairs (党员联系司机): members look after ordinary drivers of their own platform.
    ordinary_by_platform: dict[str, list[Driver]] = {}
    for plan, driver in by_role.get("ordinary", []):
        if not plan.fixed_phone:
            ordinary_by_platform.setdefault(plan.platforms[0], []).append(driver)
    main_of = {driver.pk: plan.platforms[0] for plan, driver in zip(plans, created, strict=True)}
    pairs = 0
    wanted = b.count(40, 4)
    mentors = [d for d in verified_members if ordinary_by_platform.get(main_of[d.pk])]
    while pairs < wanted and mentors:
        member = mentors[pairs % len(mentors)]
        pool = ordinary_by_platform[main_of[member.pk]]
        drivers.contact_pair_create(
            actor=committee, member=member, driver=pool.pop(rng.randrange(len(pool)))
        )
        pairs += 1
        if not pool:
            mentors = [d for d in mentors if ordinary_by_platform.get(main_of[d.pk])]
    b.say(_("%(count)s contact pairs") % {"count": pairs})

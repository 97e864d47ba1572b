"""The demo city's drivers and their party status, generated from the builder's seed.

Who drives for which platform, who is a verified member, an activist, an applicant or
a rejected declaration, who checked in as a mobile member, shows the badge or is paired with
a member (党员联系司机): everything is written through the drivers' services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from stdnum.cn import ric

from redwheel.accounts import services as accounts
from redwheel.demo.names import HOME_ORGANISATIONS, Person
from redwheel.demo.specs import (
    AGGREGATOR_PARTNERS,
    DEMO_PASSWORD,
    DISTRICTS,
    FULL_SIZE,
    MEMBER_DRIVER,
    ORDINARY_DRIVER,
    PLATFORMS,
    REJECTION_REASONS,
    UNITS,
    VERIFY_NOTES,
)
from redwheel.drivers import services as drivers
from redwheel.drivers.models import Category, Driver
from redwheel.orgs.models import OrgUnit

if TYPE_CHECKING:
    from redwheel.demo.city import Builder


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


def plan_drivers(b: Builder) -> list[_Plan]:
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


def _assign_roles(b: Builder, mains: list[str]) -> dict[int, str]:
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


def _pin_demo_drivers(b: Builder, plans: list[_Plan]) -> None:
    """The two demo driver logins: a verified member on 蓉城出行 and an ordinary driver."""
    member, ordinary = plans[0], plans[1]  # see _assign_roles
    for plan, spec in ((member, MEMBER_DRIVER), (ordinary, ORDINARY_DRIVER)):
        person = plan.person
        if person.gender != "M":  # both demo names are men's names; the ID must agree
            person = b.people.person(gender="M")
        plan.person = Person(spec.name, "M", person.id_number, spec.phone)
        plan.fixed_phone = spec.phone


def create_drivers(b: Builder, plans: list[_Plan]) -> list[Driver]:
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


def _verifier(b: Builder, driver: Driver):
    """蓉城出行's secretary verifies her own platform's members; the committee does the rest."""
    return (
        b.users["secretary"]
        if driver.branch and driver.branch.platform_id == b.platforms["rc"].pk
        else b.users["committee"]
    )


def _joined_party_on(b: Builder, person: Person, probationary: bool) -> date:
    if probationary:
        return date(2025, 1, 1) + timedelta(days=b.rng.randrange(300))
    born = ric.get_birth_date(person.id_number)
    earliest = date(born.year + 20, born.month, min(born.day, 28))
    latest = date(2024, 6, 30)
    if earliest >= latest:
        return latest
    return earliest + timedelta(days=b.rng.randrange((latest - earliest).days))


def _member_branch(b: Builder, plan: _Plan, driver: Driver) -> OrgUnit:
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


def party(b: Builder, plans: list[_Plan], created: list[Driver]) -> None:
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

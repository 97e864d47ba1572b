"""Who handles a case at each level of the appeal chain.

Level 1: the driver's contact party member (党员联系司机) if they have one, else the driver's
branch. Level 2: the mobile-member branch (the one the driver checked in to, else the
platform's mobile branch). Level 3: the platform's party organisation (its top unit).
Level 4: the city's industry party committee (the root of the city's tree). A level with no
unit, with the unit that already holds the case, or with a unit outside the case's city is
skipped: several cities share one database, and a case never leaves its own city.
"""

from django.db.models import F

from redwheel.drivers.models import ContactPair, Driver, Membership
from redwheel.orgs.models import OrgUnit, Platform

TOP_LEVEL = 4


def platform_of(driver: Driver, platform: Platform | None = None) -> Platform | None:
    if platform is not None:
        return platform
    affiliation = driver.affiliations.filter(is_active=True).select_related("platform")
    first = affiliation.order_by("id").first()
    return first.platform if first else None


def top_unit(platform: Platform | None) -> OrgUnit | None:
    """The platform's own party organisation: its unit whose parent is not the platform's."""
    if platform is None:
        return None
    return (
        OrgUnit.objects.filter(platform=platform, is_active=True)
        .exclude(parent__platform=F("platform"))
        .order_by("depth", "path")
        .first()
    )


def city_above(unit: OrgUnit | None) -> OrgUnit | None:
    """The root unit (the city's industry committee) whose tree holds `unit`."""
    if unit is None:
        return None
    return OrgUnit.objects.filter(
        parent__isnull=True, path__in=[*unit.ancestor_paths(), unit.path]
    ).first()


def city_of(driver: Driver, platform: Platform | None = None) -> OrgUnit | None:
    """The city a driver's appeals stay in: their branch's, else the platform's licence city."""
    if driver.branch_id:
        return city_above(driver.branch)
    if platform is not None and platform.city_id:
        return platform.city
    return city_above(top_unit(platform))


def _in_city(unit: OrgUnit | None, city: OrgUnit) -> bool:
    return unit is not None and unit.path.startswith(city.path)


def _membership(driver: Driver) -> Membership | None:
    try:
        return driver.membership
    except Membership.DoesNotExist:
        return None


def _level_1(driver: Driver, platform, city: OrgUnit):
    pairs = (
        ContactPair.objects.filter(driver=driver, member__user__isnull=False)
        .select_related("member__user", "member__branch")
        .order_by("id")
    )
    for pair in pairs:
        member_ship = _membership(pair.member)
        unit = (member_ship.branch if member_ship else None) or pair.member.branch or driver.branch
        if _in_city(unit, city):
            return unit, pair.member.user
    return driver.branch, None


def _level_2(driver: Driver, platform, city: OrgUnit):
    membership = _membership(driver)
    if membership is not None and _in_city(membership.mobile_branch, city):
        return membership.mobile_branch, None
    top = top_unit(platform)
    if top is None:
        return None, None
    mobile = (
        OrgUnit.objects.filter(
            path__startswith=top.path,
            kind=OrgUnit.Kind.BRANCH,
            branch_type=OrgUnit.BranchType.MOBILE,
            is_active=True,
        )
        .order_by("path")
        .first()
    )
    return mobile, None


def _level_3(driver: Driver, platform, city: OrgUnit):
    return top_unit(platform), None


def _level_4(driver: Driver, platform, city: OrgUnit):
    return city, None


_TARGETS = {1: _level_1, 2: _level_2, 3: _level_3, 4: _level_4}


def route(
    driver: Driver,
    *,
    level: int = 1,
    platform: Platform | None = None,
    current: OrgUnit | None = None,
):
    """(level, unit, assignee user or None) at `level` or the first level above it that has a
    unit different from `current` inside the case's city; None when nothing is left above.

    The city is the one the case is already in (`current`'s), else the driver's.
    """
    city = city_above(current) if current is not None else city_of(driver, platform)
    if city is None:
        return None
    for candidate in range(level, TOP_LEVEL + 1):
        unit, assignee = _TARGETS[candidate](driver, platform, city)
        if not _in_city(unit, city):
            continue
        if current is None or unit.pk != current.pk:
            return candidate, unit, assignee
    return None

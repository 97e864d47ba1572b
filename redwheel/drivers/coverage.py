"""Coverage (全覆盖): drivers and party members per unit, per platform and on the staff home.

Every function takes the viewer and goes through `permissions.scope`, so nothing outside the
viewer's grants is ever counted. Counts come from grouped queries, never per row. The org pages
(tree, unit detail) show the per-unit counts through `orgs.selectors.register_unit_counter`.
"""

from dataclasses import dataclass

from django.db.models import Count, Q

from redwheel.core.permissions import scope
from redwheel.drivers.models import (
    PARTY_MEMBER_CATEGORIES,
    Affiliation,
    Category,
    Driver,
    Membership,
)
from redwheel.drivers.selectors import MEMBER_UNIT_KINDS
from redwheel.orgs.models import Platform
from redwheel.orgs.selectors import platforms, units

State = Membership.State
ACTIVE_STATES = (State.DECLARED, State.VERIFIED)


def drivers(viewer, action: str = "view"):
    return scope(viewer, action, Driver.objects.all())


def memberships(viewer, action: str = "view"):
    return scope(viewer, action, Membership.objects.all())


# Membership counters, written once and reused with a prefix ("" on Membership, "membership__"
# on Driver, "driver__membership__" on Affiliation).
def _counters(prefix: str, key: str) -> dict:
    party = Q(**{f"{prefix}category__in": PARTY_MEMBER_CATEGORIES})
    active = Q(**{f"{prefix}state__in": ACTIVE_STATES})
    return {
        "declared": Count(
            key, filter=party & Q(**{f"{prefix}state": State.DECLARED}), distinct=True
        ),
        "verified": Count(
            key, filter=party & Q(**{f"{prefix}state": State.VERIFIED}), distinct=True
        ),
        "checked_in": Count(
            key,
            filter=party
            & Q(**{f"{prefix}state": State.VERIFIED})
            & Q(**{f"{prefix}mobile_branch__isnull": False}),
            distinct=True,
        ),
        "activists": Count(
            # 发展对象 are chosen from the activists and still count among them.
            key,
            filter=active & Q(**{f"{prefix}category__in": (Category.ACTIVIST, Category.CANDIDATE)}),
            distinct=True,
        ),
        "applicants": Count(
            key, filter=active & Q(**{f"{prefix}category": Category.APPLICANT}), distinct=True
        ),
    }


COUNTER_KEYS = ("declared", "verified", "checked_in", "activists", "applicants")


def dashboard_stats(viewer) -> dict:
    """The numbers on the staff home page, each for the viewer's own scope."""
    driver_ids = drivers(viewer).values("id")
    stats = Driver.objects.filter(id__in=driver_ids).aggregate(
        drivers=Count("id"), **_counters("membership__", "id")
    )
    stats["units"] = units(viewer).count()
    stats["platforms"] = platforms(viewer).count()
    stats["activists_applicants"] = stats["activists"] + stats["applicants"]
    stats["pending"] = memberships(viewer, "verify").filter(state=State.DECLARED).count()
    return stats


def _zero() -> dict:
    return dict.fromkeys(("drivers", "members", *COUNTER_KEYS), 0)


def unit_member_counts(unit_ids: list[int]) -> dict[int, dict]:
    """Members per unit (its own branch, not the subtree) in three grouped queries; every unit
    asked for gets a row, zeros included."""
    out: dict[int, dict] = {pk: _zero() for pk in unit_ids}
    for row in (
        Membership.objects.filter(branch_id__in=unit_ids)
        .values("branch_id")
        .annotate(**{k: v for k, v in _counters("", "id").items() if k != "checked_in"})
    ):
        counts = out.setdefault(row["branch_id"], _zero())
        counts.update({k: row[k] for k in ("declared", "verified", "activists", "applicants")})
        counts["members"] = row["declared"] + row["verified"]
    for row in (
        Membership.objects.filter(mobile_branch_id__in=unit_ids, state=State.VERIFIED)
        .values("mobile_branch_id")
        .annotate(n=Count("id"))
    ):
        out.setdefault(row["mobile_branch_id"], _zero())["checked_in"] = row["n"]
    for row in (
        Driver.objects.filter(branch_id__in=unit_ids).values("branch_id").annotate(n=Count("id"))
    ):
        out.setdefault(row["branch_id"], _zero())["drivers"] = row["n"]
    return out


# Coverage (全覆盖) -----------------------------------------------------------------------------


@dataclass
class Coverage:
    platforms: list[dict]
    branches: list[dict]
    gaps: list[Platform]
    totals: dict


def coverage(viewer) -> Coverage:
    """Per platform and per branch: drivers, declared / verified / checked-in members,
    activists and applicants; platforms without any party unit are listed as gaps.

    "Declared" and "verified" count full and probationary members in that state; activists and
    applicants count declared or verified records of that category. A driver working for two
    platforms counts on both platform rows but once in the totals. Totals cover the drivers the
    viewer may see plus those working for the platforms in scope.
    """
    platform_qs = platforms(viewer).annotate(unit_count=Count("units", distinct=True))
    platform_list = list(platform_qs.prefetch_related("partners").order_by("name"))
    platform_ids = [p.pk for p in platform_list]
    # Platform rows count every driver working for a platform in scope (a committee-level viewer
    # sees platforms without any party unit, and how many drivers they leave uncovered).
    per_platform = {
        row["platform_id"]: row
        for row in Affiliation.objects.filter(platform_id__in=platform_ids, is_active=True)
        .values("platform_id")
        .annotate(
            drivers=Count("driver_id", distinct=True),
            **_counters("driver__membership__", "driver_id"),
        )
    }
    platform_rows = []
    for platform in platform_list:
        row = per_platform.get(platform.pk) or {"drivers": 0, **dict.fromkeys(COUNTER_KEYS, 0)}
        platform_rows.append(
            {
                "platform": platform,
                "has_unit": platform.unit_count > 0,
                "partners": list(platform.partners.all()),
                **{k: row[k] for k in ("drivers", *COUNTER_KEYS)},
            }
        )

    branch_units = list(
        units(viewer).filter(kind__in=MEMBER_UNIT_KINDS).select_related("platform").order_by("path")
    )
    counts = unit_member_counts([u.pk for u in branch_units])
    branch_rows = [{"unit": u, **counts.get(u.pk, _zero())} for u in branch_units]

    affiliated = Affiliation.objects.filter(platform_id__in=platform_ids, is_active=True)
    totals = Driver.objects.filter(
        Q(id__in=drivers(viewer).values("id")) | Q(id__in=affiliated.values("driver_id"))
    ).aggregate(drivers=Count("id"), **_counters("membership__", "id"))
    return Coverage(
        platforms=platform_rows,
        branches=branch_rows,
        gaps=[p for p in platform_list if p.unit_count == 0],
        totals=totals,
    )

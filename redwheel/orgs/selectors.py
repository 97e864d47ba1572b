"""Reads for the org tree, unit pages, the staff dashboard and coverage (全覆盖).

Every function takes the viewer and goes through `permissions.scope`, so nothing outside the
viewer's grants is ever counted or listed. Counts come from grouped queries, never per row.
"""

from dataclasses import dataclass, field

from django.db.models import Count, F, Q, QuerySet
from django.http import Http404

from redwheel.accounts.models import Grant, PlatformToken, Role
from redwheel.core.notifications import WebhookTarget
from redwheel.core.permissions import can, scope
from redwheel.core.validators import region_name
from redwheel.drivers.models import (
    PARTY_MEMBER_CATEGORIES,
    Affiliation,
    Category,
    Driver,
    Membership,
)
from redwheel.orgs.models import JointAgreement, OrgUnit, Platform

State = Membership.State

# Units that can hold members (the declare / transfer targets of the membership services).
MEMBER_UNIT_KINDS = (
    OrgUnit.Kind.BRANCH,
    OrgUnit.Kind.GENERAL_BRANCH,
    OrgUnit.Kind.ENTERPRISE_COMMITTEE,
)
ACTIVE_STATES = (State.DECLARED, State.VERIFIED)


def units(viewer, action: str = "view"):
    return scope(viewer, action, OrgUnit.objects.all())


def platforms(viewer):
    return scope(viewer, "view", Platform.objects.all())


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
            key, filter=active & Q(**{f"{prefix}category": Category.ACTIVIST}), distinct=True
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


# Org tree -------------------------------------------------------------------------------------


def tree(viewer) -> list[OrgUnit]:
    """Units in view scope, in path order, each with `.level` (indent) and member counts."""
    rows = list(units(viewer).select_related("platform").order_by("path"))
    counts = _unit_member_counts([u.pk for u in rows])
    min_depth = min((u.depth for u in rows), default=0)
    for unit in rows:
        unit.level = unit.depth - min_depth
        unit.counts = counts.get(unit.pk, _zero())
    return rows


def _zero() -> dict:
    return dict.fromkeys(("drivers", "members", *COUNTER_KEYS), 0)


def _unit_member_counts(unit_ids: list[int]) -> dict[int, dict]:
    """Members per unit (its own branch, not the subtree) in two grouped queries."""
    out: dict[int, dict] = {}
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


@dataclass
class UnitDetail:
    unit: OrgUnit
    children: list
    grants: QuerySet  # everyone holding a role on the unit; empty unless the viewer may grant
    instructors: list
    led_agreements: list
    joined_agreements: list
    counts: dict
    can_change: bool
    can_grant: bool
    ancestors: list = field(default_factory=list)
    region: str = ""


def unit_detail(viewer, pk: int) -> UnitDetail:
    unit = units(viewer).select_related("platform", "parent").filter(pk=pk).first()
    if unit is None:
        raise Http404
    children = list(units(viewer).filter(parent=unit).select_related("platform").order_by("name"))
    counts = _unit_member_counts([unit.pk, *(c.pk for c in children)])
    for child in children:
        child.counts = counts.get(child.pk, _zero())
    instructors = list(
        Grant.objects.filter(unit=unit, role=Role.INSTRUCTOR)
        .select_related("user")
        .order_by("created_at")
    )
    may_grant = can(viewer, "grant", unit)
    agreements = JointAgreement.objects.prefetch_related("partner_units").select_related(
        "lead_unit"
    )
    ancestors = list(units(viewer).filter(path__in=unit.ancestor_paths()).order_by("path"))
    return UnitDetail(
        unit=unit,
        children=children,
        grants=unit_grants(viewer, unit) if may_grant else Grant.objects.none(),
        instructors=instructors,
        led_agreements=list(agreements.filter(lead_unit=unit)),
        joined_agreements=list(agreements.filter(partner_units=unit)),
        counts=counts.get(unit.pk, _zero()),
        can_change=can(viewer, "change", unit),
        can_grant=may_grant,
        ancestors=ancestors,
        region=region_name(unit.region_code),
    )


# Access management: role grants, platforms and their tokens, joint building ------------------


def unit_grants(viewer, unit: OrgUnit) -> QuerySet:
    """The role grants on `unit` itself that `viewer` may revoke (needs `grant` on the unit)."""
    return (
        scope(viewer, "grant", Grant.objects.filter(unit=unit))
        .select_related("user", "granted_by")
        .order_by("role", "created_at", "pk")
    )


def platform_list(viewer) -> QuerySet:
    return platforms(viewer).select_related("city").order_by("name", "pk")


def platform_tokens(viewer, platform: Platform) -> QuerySet:
    """The platform's API tokens, for those who may manage them (`grant` on the platform)."""
    return (
        scope(viewer, "grant", PlatformToken.objects.filter(platform=platform))
        .select_related("created_by")
        .order_by(F("revoked_at").asc(nulls_first=True), "-created_at", "-pk")
    )


def agreements(viewer) -> QuerySet:
    """Joint-building agreements the viewer sees as lead or partner, newest first."""
    return (
        scope(viewer, "view", JointAgreement.objects.all())
        .select_related("lead_unit")
        .prefetch_related("partner_units")
        .order_by("-signed_on", "-pk")
    )


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
    counts = _unit_member_counts([u.pk for u in branch_units])
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


def webhook_target(platform_id: int) -> WebhookTarget | None:
    """The outbox's look-up at send time (not a viewer's read: the row was authorised when
    it was queued)."""
    platform = Platform.objects.filter(pk=platform_id).only("webhook_url", "webhook_secret").first()
    if platform is None:
        return None
    return WebhookTarget(url=platform.webhook_url, secret=platform.webhook_secret)

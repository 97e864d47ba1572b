"""Reads for the org tree, unit pages, role grants, platforms and joint agreements.

Every function takes the viewer and goes through `permissions.scope`, so nothing outside the
viewer's grants is ever counted or listed. Counts come from grouped queries, never per row.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import F, QuerySet
from django.http import Http404

from redwheel.accounts.models import Grant, PlatformToken, Role
from redwheel.core.notifications import WebhookTarget
from redwheel.core.permissions import can, scope
from redwheel.core.validators import region_name
from redwheel.orgs.models import JointAgreement, OrgUnit, Platform

# Counts the layers above add to the tree and unit pages (members per unit, from drivers):
# each counter takes unit ids and returns {unit id: {name: number}}.
_unit_counters: list[Callable[[list[int]], dict[int, dict]]] = []


def register_unit_counter(counter: Callable[[list[int]], dict[int, dict]]) -> None:
    if counter not in _unit_counters:
        _unit_counters.append(counter)


def unit_counts(unit_ids: list[int]) -> dict[int, dict]:
    """Every registered counter's numbers per unit; a unit nobody counted gets {}."""
    out: dict[int, dict] = {pk: {} for pk in unit_ids}
    for counter in _unit_counters:
        for pk, numbers in counter(unit_ids).items():
            out.setdefault(pk, {}).update(numbers)
    return out


def units(viewer, action: str = "view"):
    return scope(viewer, action, OrgUnit.objects.all())


def platforms(viewer):
    return scope(viewer, "view", Platform.objects.all())


# Org tree -------------------------------------------------------------------------------------


def tree(viewer) -> list[OrgUnit]:
    """Units in view scope, in path order, each with `.level` (indent) and member counts."""
    rows = list(units(viewer).select_related("platform").order_by("path"))
    counts = unit_counts([u.pk for u in rows])
    min_depth = min((u.depth for u in rows), default=0)
    for unit in rows:
        unit.level = unit.depth - min_depth
        unit.counts = counts[unit.pk]
    return rows


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
    counts = unit_counts([unit.pk, *(c.pk for c in children)])
    for child in children:
        child.counts = counts[child.pk]
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
        counts=counts[unit.pk],
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


def webhook_target(platform_id: int) -> WebhookTarget | None:
    """The outbox's look-up at send time (not a viewer's read: the row was authorised when
    it was queued)."""
    platform = Platform.objects.filter(pk=platform_id).only("webhook_url", "webhook_secret").first()
    if platform is None:
        return None
    return WebhookTarget(url=platform.webhook_url, secret=platform.webhook_secret)

"""Orgs' part of the one permission mechanism: the org tree, platforms, "the city committee"."""

from django.db.models import F, Q, QuerySet

from redwheel.core import permissions
from redwheel.orgs.models import JointAgreement, OrgUnit, Platform


def _prefix(lookup: str, paths: list[str]) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{lookup}__startswith": path})
    return q


def platforms_led_within(paths: list[str]) -> QuerySet:
    """Platforms whose own top party unit, or whose licensing city, lies in the subtrees.

    A grant on one branch of a platform does not open all of that platform's drivers; a grant
    on its party committee (or anything above, up to the city committee) does.
    """
    top_units = OrgUnit.objects.filter(platform__isnull=False).exclude(
        parent__platform=F("platform")
    )
    led = top_units.filter(_prefix("path", paths)).values("platform_id")
    return Platform.objects.filter(Q(pk__in=led) | _prefix("city__path", paths)).values("pk")


def committee_cities(principal, action: str = "view") -> QuerySet:
    """The cities (root units) whose industry committee `principal` acts for with `action`.

    A grant covers its own subtree only, so a root is in scope only for a grant on that root.
    """
    return permissions.scope(principal, action, OrgUnit.objects.filter(parent__isnull=True))


def is_city_committee(principal, action: str = "view", city: OrgUnit | None = None) -> bool:
    """Is `principal` the city committee (of `city`, or of any city) for `action`?"""
    cities = committee_cities(principal, action)
    if city is not None:
        cities = cities.filter(pk=city.pk)
    return cities.exists()


def register() -> None:
    permissions.set_platform_provider(platforms_led_within)
    permissions.register(OrgUnit, units=("path",), platforms=("platform_id",))
    permissions.register(Platform, units=("units__path", "city__path"), platforms=("pk",))
    permissions.register(
        JointAgreement, units=("lead_unit__path", "partner_units__path"), platform_actions=()
    )

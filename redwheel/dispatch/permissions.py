"""Dispatch's part of the one permission mechanism: the sandbox belongs to each city's committee.

Rule sets, simulation runs and fleet sizings are owned by their city (a root org unit, `city`).
Using the sandbox — reading, creating and changing rule sets, runs and sizings — is the
`SANDBOX_ACTION` on that city. It is "audit" because exactly the roles that audit a city hold
it there: regulators (the transport authority) and committee staff. Viewers, instructors and
secretaries on the committee do not, and a grant on a platform's committee or a branch never
covers the city's root, so none of them sees the sandbox (`orgs.permissions.committee_cities`).
Platform principals (tokens, feeds) never see rule sets, runs or sizings.
"""

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from redwheel.core import permissions
from redwheel.core.errors import NotFound, ValidationFailed
from redwheel.dispatch.models import (
    FleetSizing,
    FleetSizingActivity,
    RuleSet,
    RuleSetActivity,
    RunRuleSet,
    SimulationRun,
    SimulationRunActivity,
)
from redwheel.orgs.models import OrgUnit, Platform
from redwheel.orgs.permissions import committee_cities, is_city_committee, platforms_led_within

SANDBOX_ACTION = "audit"


def sandbox_cities(principal) -> QuerySet:
    """The cities whose sandbox `principal` may use (operators and superusers: every city)."""
    return committee_cities(principal, SANDBOX_ACTION)


def may_use_sandbox(principal, city: OrgUnit | None = None) -> bool:
    """May `principal` use the sandbox of `city` (or of any city)?"""
    return is_city_committee(principal, SANDBOX_ACTION, city)


def city_for(principal, city: OrgUnit | None = None) -> OrgUnit:
    """The city a new rule set or run goes to: `city` if the principal may use its sandbox, or
    the one city they may use. NotFound for no city; ValidationFailed when it is ambiguous."""
    cities = sandbox_cities(principal)
    if city is not None:
        found = cities.filter(pk=city.pk).first()
        if found is None:
            raise NotFound()
        return found
    found = list(cities.order_by("path")[:2])
    if not found:
        raise NotFound()
    if len(found) > 1:
        raise ValidationFailed(_("Choose the city."), code="city_required")
    return found[0]


def city_platforms(city: OrgUnit) -> QuerySet:
    """The platforms of `city`: licensed there, or whose party organisation lies in it."""
    return Platform.objects.filter(pk__in=platforms_led_within([city.path]))


def city_rows(queryset: QuerySet, city: OrgUnit) -> QuerySet:
    """Rows of `queryset` that belong to `city` as the registry declares their owners (their
    units in the city's subtree, or their platforms the city's) — e.g. "the city's drivers"."""
    rule = permissions.registered(queryset.model)
    q = Q(pk__in=[])
    for lookup in rule.units:
        q |= Q(**{f"{lookup}__startswith": city.path})
    platforms = platforms_led_within([city.path])
    for lookup in rule.platforms:
        q |= Q(**{f"{lookup}__in": platforms})
    # The lookups may fan out (affiliations): filter by key so no row comes twice.
    return queryset.filter(pk__in=queryset.model._base_manager.filter(q).values("pk"))


def register() -> None:
    for model in (RuleSet, SimulationRun, FleetSizing):
        permissions.register(model, units=("city__path",), platform_actions=())
    permissions.register(RunRuleSet, via="run")
    permissions.register(RuleSetActivity, via="rule_set")
    permissions.register(SimulationRunActivity, via="run")
    permissions.register(FleetSizingActivity, via="sizing")

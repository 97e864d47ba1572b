"""Mobilization's part of the one permission mechanism (`redwheel.core.permissions`).

- Fleets, hubs, mobilizations, opportunities, alerts and service records belong to the unit
  that organises them (`unit`): a grant on that unit or above sees them, nothing beside it.
- Rows about one driver (a call, an answer, a sign-up, an alert received, a sighting, a fleet
  membership, a ride, a service record) also belong to that driver's account, which may `view`
  them and `change` the ones the driver pages write (answer a call, sign up, check in/out,
  report a sighting, sign a fleet pledge).
- Hubs are city infrastructure: besides the unit's subtree, anyone granted `view` somewhere
  below the hub's unit sees it (a platform's committee opens mobilizations at the city's
  railway station), never a hub of a sibling platform or of another city.
- Opportunities are offered to the drivers looked after below the organising unit: a driver
  sees those of the units above their branch, membership branches and platforms' party units.
"""

from django.db.models import Q

from redwheel.core import permissions
from redwheel.drivers.models import Affiliation, Driver, Membership
from redwheel.mobilization.models import (
    Alert,
    AlertRecipient,
    Call,
    Fleet,
    FleetMember,
    Hub,
    Mobilization,
    MobilizationActivity,
    Opportunity,
    OpportunityActivity,
    PickupPoint,
    QueueEntry,
    QueueEntryActivity,
    Response,
    ResponseEvent,
    Ride,
    ServiceRecord,
    Sighting,
    SignUp,
    SignUpActivity,
)
from redwheel.orgs.models import OrgUnit

NOTHING = Q(pk__in=[])
DRIVER_ACTIONS = ("view", "change")


def _with_ancestors(paths) -> set[str]:
    return {a for p in paths for a in OrgUnit(path=p).ancestor_paths()} | set(paths)


def driver_unit_paths(driver: Driver) -> set[str]:
    """Paths of every unit above the driver: their branch, membership branches, and the party
    units of the platforms they actively work for (each with all its ancestors)."""
    unit_ids = {driver.branch_id}
    membership = Membership.objects.filter(driver=driver).first()
    if membership is not None:
        unit_ids |= {membership.branch_id, membership.mobile_branch_id}
    platform_ids = Affiliation.objects.filter(driver=driver, is_active=True).values("platform_id")
    paths = OrgUnit.objects.filter(
        Q(pk__in=unit_ids - {None}) | Q(platform_id__in=platform_ids)
    ).values_list("path", flat=True)
    return _with_ancestors(paths)


def _hubs_above_grants(principal, action: str) -> Q:
    """A hub is visible to `view` grants anywhere below its unit (city infrastructure)."""
    if action != "view":
        return NOTHING
    paths = permissions.granted_paths(principal, "view")
    if not paths:
        return NOTHING
    return Q(unit__path__in=_with_ancestors(paths))


def _opportunities_offered_to_driver(principal, action: str) -> Q:
    """The principal's own driver sees the opportunities of the units above them."""
    if action != "view":
        return NOTHING
    driver = Driver.objects.filter(user_id=principal.pk).first()
    if driver is None:
        return NOTHING
    return Q(unit__path__in=driver_unit_paths(driver))


def register() -> None:
    register_model = permissions.register
    register_model(Fleet, units=("unit__path",))
    register_model(
        FleetMember,
        units=("fleet__unit__path",),
        owners=("driver__user_id",),
        self_actions=DRIVER_ACTIONS,
    )
    register_model(Hub, units=("unit__path",), extra=_hubs_above_grants)
    register_model(PickupPoint, via="hub")

    register_model(Mobilization, units=("unit__path",))
    register_model(MobilizationActivity, via="mobilization")
    register_model(QueueEntry, via="mobilization")
    register_model(QueueEntryActivity, via="entry")
    for model in (Call, Response):
        register_model(
            model,
            units=("mobilization__unit__path",),
            owners=("driver__user_id",),
            self_actions=DRIVER_ACTIONS,
        )
    register_model(ResponseEvent, via="response")
    register_model(Ride, units=("mobilization__unit__path",), owners=("driver__user_id",))

    register_model(Opportunity, units=("unit__path",), extra=_opportunities_offered_to_driver)
    register_model(OpportunityActivity, via="opportunity")
    register_model(
        SignUp,
        units=("opportunity__unit__path",),
        owners=("driver__user_id",),
        self_actions=DRIVER_ACTIONS,
    )
    register_model(SignUpActivity, via="signup")
    register_model(ServiceRecord, units=("unit__path",), owners=("driver__user_id",))

    register_model(Alert, units=("unit__path",), owners=("recipients__driver__user_id",))
    register_model(
        AlertRecipient,
        units=("alert__unit__path",),
        owners=("driver__user_id",),
        self_actions=DRIVER_ACTIONS,
    )
    register_model(Sighting, units=("alert__unit__path",), owners=("driver__user_id",))

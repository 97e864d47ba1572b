"""Reads for fleets, hubs, mobilizations, volunteer service and alerts, scoped to the viewer.

Every read goes through `core.permissions.scope` on the mobilization models themselves; who
owns what is declared once in `mobilization/permissions.py` (staff: the organising unit's
subtree, hubs also below their unit; drivers: their own calls, sign-ups, alerts received).
Anything else raises Http404.
"""

from collections import Counter
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.http import Http404
from django.utils import timezone

from redwheel.core.errors import NotFound
from redwheel.core.permissions import get_or_404, scope
from redwheel.drivers.models import Driver
from redwheel.mobilization.models import (
    Alert,
    AlertRecipient,
    Call,
    Fleet,
    FleetMember,
    Hub,
    Mobilization,
    Opportunity,
    QueueEntry,
    Response,
    ResponseStatus,
    Ride,
    ServiceRecord,
    Sighting,
    SignUp,
)
from redwheel.mobilization.permissions import driver_unit_paths
from redwheel.orgs.models import OrgUnit


def units(viewer, action: str = "view"):
    """The units a viewer may pick as organiser in a form."""
    return scope(viewer, action, OrgUnit.objects.all())


def _get(viewer, action: str, qs, **lookup):
    try:
        return get_or_404(viewer, action, qs, **lookup)
    except NotFound as exc:
        raise Http404 from exc


def own_driver(user) -> Driver:
    """The signed-in person's own driver record (404 for anyone else, system actors included)."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "pk", None) is None:
        raise Http404
    return _get(user, "view", Driver.objects.all(), user_id=user.pk)


# Fleets and hubs -----------------------------------------------------------------------------


def fleets(viewer, action: str = "view"):
    return (
        scope(viewer, action, Fleet.objects.all())
        .select_related("unit")
        .annotate(member_count=Count("members", filter=Q(members__is_active=True)))
        .order_by("name", "id")
    )


def fleet_detail(viewer, pk: int, action: str = "view") -> Fleet:
    fleet = _get(viewer, action, fleets(viewer, action), pk=pk)
    fleet.roster = list(
        scope(viewer, "view", fleet.members.filter(is_active=True))
        .select_related("driver", "driver__membership")
        .order_by("-role", "driver__name", "id")
    )
    return fleet


def fleet_member(viewer, pk: int, action: str = "change") -> FleetMember:
    """A roster row for staff: `action` must hold on the fleet itself (a driver's own row
    does not let them manage the roster)."""
    managed = scope(viewer, action, Fleet.objects.all())
    return _get(
        viewer,
        action,
        FleetMember.objects.filter(fleet__in=managed).select_related(
            "fleet", "fleet__unit", "driver"
        ),
        pk=pk,
    )


def my_fleet_memberships(viewer, driver: Driver):
    return (
        scope(viewer, "view", FleetMember.objects.filter(driver=driver, is_active=True))
        .select_related("fleet", "fleet__unit")
        .order_by("fleet__name", "id")
    )


def my_fleet_membership(viewer, driver: Driver, pk: int) -> FleetMember:
    return _get(
        viewer,
        "change",
        FleetMember.objects.filter(driver=driver).select_related("fleet", "driver"),
        pk=pk,
    )


def hubs(viewer, action: str = "view"):
    return scope(viewer, action, Hub.objects.select_related("unit")).order_by("name", "id")


def hub_detail(viewer, pk: int, action: str = "view") -> Hub:
    return _get(viewer, action, hubs(viewer, action).prefetch_related("pickup_points"), pk=pk)


# Mobilizations -------------------------------------------------------------------------------


def mobilizations(viewer, *, status: str = "", action: str = "view"):
    qs = scope(viewer, action, Mobilization.objects.select_related("hub", "unit"))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-starts_at", "-id")


def mobilization_detail(viewer, pk: int, action: str = "view") -> Mobilization:
    return _get(viewer, action, mobilizations(viewer, action=action), pk=pk)


def board(mobilization: Mobilization) -> dict:
    """The live board: counts, the queue in serving order, responses and recent rides.
    Its rows are owned like the mobilization, which the caller has already scoped."""
    statuses = Counter(mobilization.responses.values_list("status", flat=True))
    rides = mobilization.rides.aggregate(n=Count("id"), p=Sum("passengers"))
    waiting = list(
        mobilization.queue.filter(status=QueueEntry.Status.WAITING)
        .select_related("pickup_point")
        .order_by("priority", "id")
    )
    return {
        "called": mobilization.calls.count(),
        "received": statuses[ResponseStatus.RECEIVED],
        "on_my_way": statuses[ResponseStatus.ON_MY_WAY],
        "arrived": statuses[ResponseStatus.ARRIVED],
        "cant_come": statuses[ResponseStatus.CANT_COME],
        "responded": sum(statuses.values()),
        "rides": rides["n"] or 0,
        "passengers": rides["p"] or 0,
        "waiting": waiting,
        "waiting_passengers": sum(e.party_size for e in waiting),
        "arrived_drivers": list(
            mobilization.responses.filter(arrived_at__isnull=False)
            .select_related("driver")
            .order_by("arrived_at", "id")
        ),
        "recent_responses": list(
            mobilization.responses.select_related("driver").order_by("-updated_at", "-id")[:20]
        ),
        "recent_rides": list(mobilization.rides.select_related("driver").order_by("-id")[:20]),
    }


def timeline(mobilization: Mobilization):
    return mobilization.activities.select_related("actor").order_by("at", "id")


def arrived_driver(mobilization: Mobilization, driver_id: int) -> Driver:
    response = mobilization.responses.filter(driver_id=driver_id).select_related("driver").first()
    if response is None:
        raise Http404
    return response.driver


def queue_entry(viewer, pk: int) -> QueueEntry:
    return _get(viewer, "change", QueueEntry.objects.select_related("mobilization"), pk=pk)


def my_calls(viewer, driver: Driver):
    """The driver's calls the viewer may see (the driver: all of them), newest first, each with
    its current response (or None)."""
    calls = list(
        scope(viewer, "view", Call.objects.filter(driver=driver))
        .select_related("mobilization", "mobilization__hub")
        .order_by("-mobilization__starts_at", "-id")
    )
    responses = {
        r.mobilization_id: r
        for r in scope(viewer, "view", Response.objects.filter(driver=driver)).filter(
            mobilization_id__in=[c.mobilization_id for c in calls]
        )
    }
    for call in calls:
        call.response = responses.get(call.mobilization_id)
    return calls


def my_call(viewer, driver: Driver, mobilization_pk: int) -> Call:
    call = _get(
        viewer,
        "view",
        Call.objects.filter(driver=driver)
        .select_related("mobilization", "mobilization__hub")
        .prefetch_related("mobilization__hub__pickup_points"),
        mobilization_id=mobilization_pk,
    )
    call.response = scope(
        viewer, "view", Response.objects.filter(driver=driver, mobilization_id=mobilization_pk)
    ).first()
    return call


# Volunteer service ---------------------------------------------------------------------------


def opportunities(viewer, action: str = "view"):
    return (
        scope(viewer, action, Opportunity.objects.select_related("unit", "fleet"))
        .annotate(
            taken=Count(
                "signups",
                filter=Q(
                    signups__status__in=[
                        SignUp.Status.SIGNED_UP,
                        SignUp.Status.CHECKED_IN,
                        SignUp.Status.CHECKED_OUT,
                        SignUp.Status.CONFIRMED,
                    ]
                ),
            )
        )
        .order_by("-starts_at", "-id")
    )


def opportunity_detail(viewer, pk: int, action: str = "view") -> Opportunity:
    opportunity = _get(viewer, action, opportunities(viewer, action), pk=pk)
    opportunity.signup_rows = list(
        scope(viewer, "view", opportunity.signups.all())
        .select_related("driver", "service_record")
        .order_by("created_at")
    )
    return opportunity


def signup_for_staff(viewer, pk: int) -> SignUp:
    """A sign-up the viewer may manage: `change` must hold on its opportunity."""
    managed = scope(viewer, "change", Opportunity.objects.all())
    return _get(
        viewer,
        "change",
        SignUp.objects.filter(opportunity__in=managed).select_related("opportunity", "driver"),
        pk=pk,
    )


def opportunities_for_driver(viewer, driver: Driver):
    """The opportunities offered to `driver` (those of the units above them)."""
    return (
        scope(viewer, "view", Opportunity.objects.filter(unit__path__in=driver_unit_paths(driver)))
        .select_related("unit")
        .annotate(taken=Count("signups", filter=~Q(signups__status=SignUp.Status.CANCELLED)))
        .order_by("-starts_at", "-id")
    )


def driver_within_unit(driver: Driver, unit: OrgUnit) -> bool:
    """Is the driver looked after somewhere in `unit`'s subtree (so its opportunities show)?"""
    return unit.path in driver_unit_paths(driver)


def my_signups(viewer, driver: Driver) -> dict:
    return {
        s.opportunity_id: s for s in scope(viewer, "view", SignUp.objects.filter(driver=driver))
    }


def my_signup(viewer, driver: Driver, pk: int) -> SignUp:
    return _get(
        viewer, "change", SignUp.objects.filter(driver=driver).select_related("opportunity"), pk=pk
    )


def my_opportunity(viewer, driver: Driver, pk: int) -> Opportunity:
    return _get(viewer, "view", opportunities_for_driver(viewer, driver), pk=pk)


# Alerts --------------------------------------------------------------------------------------


def alerts(viewer, action: str = "view"):
    return (
        scope(viewer, action, Alert.objects.select_related("unit", "sender"))
        .annotate(sighting_count=Count("sightings"))
        .order_by("-created_at", "-id")
    )


def alert_detail(viewer, pk: int, action: str = "view") -> Alert:
    alert = _get(viewer, action, alerts(viewer, action), pk=pk)
    alert.sighting_rows = list(
        scope(viewer, "view", alert.sightings.all())
        .select_related("driver")
        .order_by("-created_at")
    )
    return alert


def my_alerts(viewer, driver: Driver, *, active_only: bool = False):
    qs = scope(viewer, "view", Alert.objects.filter(recipients__driver=driver)).order_by(
        "-created_at", "-id"
    )
    if active_only:
        qs = qs.filter(withdrawn_at__isnull=True, expires_at__gt=timezone.now())
    return qs


def my_alert(viewer, driver: Driver, pk: int) -> Alert:
    alert = _get(viewer, "view", Alert.objects.filter(recipients__driver=driver), pk=pk)
    alert.my_sightings = list(scope(viewer, "view", alert.sightings.filter(driver=driver)))
    return alert


# Records -------------------------------------------------------------------------------------


def service_history(viewer, driver: Driver) -> dict:
    """Mobilizations (called, answer, rides), confirmed service hours and alerts answered: the
    driver's own rows that the viewer may see (the driver sees all of theirs; staff those of
    the units in their scope)."""

    def mine(model):
        return scope(viewer, "view", model.objects.filter(driver=driver))

    records = list(
        mine(ServiceRecord).select_related("mobilization", "signup__opportunity", "unit")
    )
    hours = sum((r.hours for r in records), Decimal("0.0"))
    return {
        "calls": my_calls(viewer, driver),
        "records": records,
        "hours": hours,
        "mobilization_hours": sum(
            (r.hours for r in records if r.kind == ServiceRecord.Kind.MOBILIZATION), Decimal("0.0")
        ),
        "volunteer_hours": sum(
            (r.hours for r in records if r.kind == ServiceRecord.Kind.VOLUNTEER), Decimal("0.0")
        ),
        "rides": mine(Ride).aggregate(n=Count("id"), p=Sum("passengers")),
        "signups": list(
            mine(SignUp).select_related("opportunity").order_by("-opportunity__starts_at")
        ),
        "sightings": list(mine(Sighting).select_related("alert")),
        "alerts_received": mine(AlertRecipient).count(),
    }


def driver_for_history(viewer, pk: int) -> Driver:
    return _get(viewer, "view", Driver.objects.select_related("branch"), pk=pk)


def unit_statistics(viewer) -> list[dict]:
    """Per organising unit, over the rows in the viewer's scope: mobilizations, calls,
    arrivals, rides, passengers and service hours. Grouped queries only (one per figure),
    whatever the number of units."""
    rows: dict[int, dict] = {}

    def visible(model, **filters):
        return scope(viewer, "view", model.objects.filter(**filters))

    def row(unit_id):
        return rows.setdefault(
            unit_id,
            {
                "unit_id": unit_id,
                "mobilizations": 0,
                "closed": 0,
                "drivers_called": 0,
                "drivers_arrived": 0,
                "rides": 0,
                "passengers": 0,
                "mobilization_hours": Decimal("0.0"),
                "volunteer_hours": Decimal("0.0"),
                "volunteers": 0,
                "opportunities": 0,
                "alerts": 0,
                "sightings": 0,
            },
        )

    staff_mobilizations = visible(Mobilization)
    for r in staff_mobilizations.values("unit_id").annotate(
        n=Count("id"), c=Count("id", filter=Q(status="closed"))
    ):
        row(r["unit_id"]).update(mobilizations=r["n"], closed=r["c"])
    for r in (
        Call.objects.filter(mobilization__in=staff_mobilizations)
        .values("mobilization__unit_id")
        .annotate(n=Count("id"))
    ):
        row(r["mobilization__unit_id"])["drivers_called"] = r["n"]
    for r in (
        Response.objects.filter(mobilization__in=staff_mobilizations, arrived_at__isnull=False)
        .values("mobilization__unit_id")
        .annotate(n=Count("id"))
    ):
        row(r["mobilization__unit_id"])["drivers_arrived"] = r["n"]
    for r in (
        Ride.objects.filter(mobilization__in=staff_mobilizations)
        .values("mobilization__unit_id")
        .annotate(n=Count("id"), p=Sum("passengers"))
    ):
        row(r["mobilization__unit_id"]).update(rides=r["n"], passengers=r["p"] or 0)
    for r in (
        visible(ServiceRecord)
        .values("unit_id", "kind")
        .annotate(h=Sum("hours"), d=Count("driver_id", distinct=True))
    ):
        target = row(r["unit_id"])
        if r["kind"] == ServiceRecord.Kind.MOBILIZATION:
            target["mobilization_hours"] = r["h"]
        else:
            target["volunteer_hours"], target["volunteers"] = r["h"], r["d"]
    for r in visible(Opportunity).values("unit_id").annotate(n=Count("id")):
        row(r["unit_id"])["opportunities"] = r["n"]
    for r in (
        visible(Alert)
        .values("unit_id")
        .annotate(n=Count("id", distinct=True), s=Count("sightings"))
    ):
        row(r["unit_id"]).update(alerts=r["n"], sightings=r["s"])
    names = dict(OrgUnit.objects.filter(pk__in=rows).values_list("pk", "name"))
    paths = dict(OrgUnit.objects.filter(pk__in=rows).values_list("pk", "path"))
    result = []
    for unit_id, values in rows.items():
        values["unit"] = names.get(unit_id, "")
        values["path"] = paths.get(unit_id, "")
        result.append(values)
    return sorted(result, key=lambda v: v["path"])

"""Reads for fleets, hubs, mobilisations, volunteer service and alerts, scoped to the viewer.

Staff see the objects of the units in their scope (`permissions.scope` on OrgUnit); hubs are
city infrastructure, so a hub is also visible to anyone granted somewhere below its unit.
Drivers see only their own calls, sign-ups and the alerts that reached them. Anything else
raises Http404.
"""

from collections import Counter
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.http import Http404
from django.utils import timezone

from redwheel.accounts.permissions import SystemActor, granted_paths, scope
from redwheel.drivers.models import Affiliation, Driver, Membership
from redwheel.mobilization.models import (
    Alert,
    AlertRecipient,
    Call,
    Fleet,
    FleetMember,
    Hub,
    Mobilisation,
    Opportunity,
    QueueEntry,
    Response,
    ResponseStatus,
    Ride,
    ServiceRecord,
    Sighting,
    SignUp,
)
from redwheel.orgs.models import OrgUnit


def units(viewer, action: str = "view"):
    return scope(viewer, action, OrgUnit.objects.all())


def _get(qs, pk):
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


def own_driver(user) -> Driver:
    driver = Driver.objects.filter(user_id=getattr(user, "pk", None)).first()
    if driver is None:
        raise Http404
    return driver


# Fleets and hubs -----------------------------------------------------------------------------


def fleets(viewer, action: str = "view"):
    return (
        Fleet.objects.filter(unit__in=units(viewer, action))
        .select_related("unit")
        .annotate(member_count=Count("members", filter=Q(members__is_active=True)))
        .order_by("name", "id")
    )


def fleet_detail(viewer, pk: int, action: str = "view") -> Fleet:
    fleet = _get(fleets(viewer, action), pk)
    fleet.roster = list(
        fleet.members.filter(is_active=True)
        .select_related("driver", "driver__membership")
        .order_by("-role", "driver__name", "id")
    )
    return fleet


def fleet_member(viewer, pk: int, action: str = "change") -> FleetMember:
    return _get(
        FleetMember.objects.filter(fleet__unit__in=units(viewer, action)).select_related(
            "fleet", "fleet__unit", "driver"
        ),
        pk,
    )


def hubs(viewer):
    qs = Hub.objects.select_related("unit").order_by("name", "id")
    if isinstance(viewer, SystemActor) or (
        getattr(viewer, "is_superuser", False) and viewer.is_active
    ):
        return qs
    paths = granted_paths(viewer, "view")
    above = {a for p in paths for a in OrgUnit(path=p).ancestor_paths()}
    return qs.filter(Q(unit__in=units(viewer)) | Q(unit__path__in=above))


def hub_detail(viewer, pk: int) -> Hub:
    return _get(hubs(viewer).prefetch_related("pickup_points"), pk)


# Mobilisations -------------------------------------------------------------------------------


def mobilisations(viewer, *, status: str = "", action: str = "view"):
    qs = Mobilisation.objects.filter(unit__in=units(viewer, action)).select_related("hub", "unit")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-starts_at", "-id")


def mobilisation_detail(viewer, pk: int, action: str = "view") -> Mobilisation:
    return _get(mobilisations(viewer, action=action), pk)


def board(mobilisation: Mobilisation) -> dict:
    """The live board: counts, the queue in serving order, responses and recent rides."""
    statuses = Counter(mobilisation.responses.values_list("status", flat=True))
    rides = mobilisation.rides.aggregate(n=Count("id"), p=Sum("passengers"))
    waiting = list(
        mobilisation.queue.filter(status=QueueEntry.Status.WAITING)
        .select_related("pickup_point")
        .order_by("priority", "id")
    )
    return {
        "called": mobilisation.calls.count(),
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
            mobilisation.responses.filter(arrived_at__isnull=False)
            .select_related("driver")
            .order_by("arrived_at", "id")
        ),
        "recent_responses": list(
            mobilisation.responses.select_related("driver").order_by("-updated_at", "-id")[:20]
        ),
        "recent_rides": list(mobilisation.rides.select_related("driver").order_by("-id")[:20]),
    }


def timeline(mobilisation: Mobilisation):
    return mobilisation.activities.select_related("actor").order_by("at", "id")


def arrived_driver(mobilisation: Mobilisation, driver_id: int) -> Driver:
    response = mobilisation.responses.filter(driver_id=driver_id).select_related("driver").first()
    if response is None:
        raise Http404
    return response.driver


def queue_entry(viewer, pk: int) -> QueueEntry:
    return _get(
        QueueEntry.objects.filter(mobilisation__unit__in=units(viewer, "change")).select_related(
            "mobilisation"
        ),
        pk,
    )


def my_calls(driver: Driver):
    """The driver's own calls, newest first, each with their current response (or None)."""
    calls = list(
        Call.objects.filter(driver=driver)
        .select_related("mobilisation", "mobilisation__hub")
        .order_by("-mobilisation__starts_at", "-id")
    )
    responses = {
        r.mobilisation_id: r
        for r in Response.objects.filter(
            driver=driver, mobilisation_id__in=[c.mobilisation_id for c in calls]
        )
    }
    for call in calls:
        call.response = responses.get(call.mobilisation_id)
    return calls


def my_call(driver: Driver, mobilisation_pk: int) -> Call:
    call = (
        Call.objects.filter(driver=driver, mobilisation_id=mobilisation_pk)
        .select_related("mobilisation", "mobilisation__hub")
        .prefetch_related("mobilisation__hub__pickup_points")
        .first()
    )
    if call is None:
        raise Http404
    call.response = Response.objects.filter(driver=driver, mobilisation_id=mobilisation_pk).first()
    return call


# Volunteer service ---------------------------------------------------------------------------


def opportunities(viewer, action: str = "view"):
    return (
        Opportunity.objects.filter(unit__in=units(viewer, action))
        .select_related("unit", "fleet")
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
    opportunity = _get(opportunities(viewer, action), pk)
    opportunity.signup_rows = list(
        opportunity.signups.select_related("driver", "service_record").order_by("created_at")
    )
    return opportunity


def signup_for_staff(viewer, pk: int) -> SignUp:
    return _get(
        SignUp.objects.filter(opportunity__unit__in=units(viewer, "change")).select_related(
            "opportunity", "driver"
        ),
        pk,
    )


def _driver_unit_paths(driver: Driver) -> set[str]:
    """Paths of every unit above the driver: their branch, membership branches, and the
    party units of the platforms they work for. Opportunities of these units are theirs."""
    unit_ids = {driver.branch_id}
    membership = Membership.objects.filter(driver=driver).first()
    if membership is not None:
        unit_ids |= {membership.branch_id, membership.mobile_branch_id}
    platform_ids = Affiliation.objects.filter(driver=driver, is_active=True).values("platform_id")
    paths = set(
        OrgUnit.objects.filter(
            Q(pk__in=unit_ids - {None}) | Q(platform_id__in=platform_ids)
        ).values_list("path", flat=True)
    )
    return {a for p in paths for a in [*OrgUnit(path=p).ancestor_paths(), p]}


def opportunities_for_driver(driver: Driver):
    return (
        Opportunity.objects.filter(unit__path__in=_driver_unit_paths(driver))
        .select_related("unit")
        .annotate(taken=Count("signups", filter=~Q(signups__status=SignUp.Status.CANCELLED)))
        .order_by("-starts_at", "-id")
    )


def driver_within_unit(driver: Driver, unit: OrgUnit) -> bool:
    """Is the driver looked after somewhere in `unit`'s subtree (so its opportunities show)?"""
    return unit.path in _driver_unit_paths(driver)


def opportunity_visible_to_driver(driver: Driver, opportunity: Opportunity) -> bool:
    return opportunities_for_driver(driver).filter(pk=opportunity.pk).exists()


def my_signups(driver: Driver) -> dict:
    return {s.opportunity_id: s for s in SignUp.objects.filter(driver=driver)}


def my_signup(driver: Driver, pk: int) -> SignUp:
    return _get(SignUp.objects.filter(driver=driver).select_related("opportunity"), pk)


def my_opportunity(driver: Driver, pk: int) -> Opportunity:
    return _get(opportunities_for_driver(driver), pk)


# Alerts --------------------------------------------------------------------------------------


def alerts(viewer, action: str = "view"):
    return (
        Alert.objects.filter(unit__in=units(viewer, action))
        .select_related("unit", "sender")
        .annotate(sighting_count=Count("sightings"))
        .order_by("-created_at", "-id")
    )


def alert_detail(viewer, pk: int, action: str = "view") -> Alert:
    alert = _get(alerts(viewer, action), pk)
    alert.sighting_rows = list(alert.sightings.select_related("driver").order_by("-created_at"))
    return alert


def my_alerts(driver: Driver, *, active_only: bool = False):
    qs = Alert.objects.filter(recipients__driver=driver).order_by("-created_at", "-id")
    if active_only:
        qs = qs.filter(withdrawn_at__isnull=True, expires_at__gt=timezone.now())
    return qs


def my_alert(driver: Driver, pk: int) -> Alert:
    alert = _get(Alert.objects.filter(recipients__driver=driver), pk)
    alert.my_sightings = list(alert.sightings.filter(driver=driver))
    return alert


# Records -------------------------------------------------------------------------------------


def service_history(driver: Driver) -> dict:
    """Mobilisations (called, answer, rides), confirmed service hours and alerts answered."""
    records = list(
        ServiceRecord.objects.filter(driver=driver).select_related(
            "mobilisation", "signup__opportunity", "unit"
        )
    )
    hours = sum((r.hours for r in records), Decimal("0.0"))
    return {
        "calls": my_calls(driver),
        "records": records,
        "hours": hours,
        "mobilisation_hours": sum(
            (r.hours for r in records if r.kind == "mobilisation"), Decimal("0.0")
        ),
        "volunteer_hours": sum((r.hours for r in records if r.kind == "volunteer"), Decimal("0.0")),
        "rides": Ride.objects.filter(driver=driver).aggregate(n=Count("id"), p=Sum("passengers")),
        "signups": list(
            SignUp.objects.filter(driver=driver)
            .select_related("opportunity")
            .order_by("-opportunity__starts_at")
        ),
        "sightings": list(Sighting.objects.filter(driver=driver).select_related("alert")),
        "alerts_received": AlertRecipient.objects.filter(driver=driver).count(),
    }


def driver_for_history(viewer, pk: int) -> Driver:
    return _get(scope(viewer, "view", Driver.objects.all()).select_related("branch"), pk)


def unit_statistics(viewer) -> list[dict]:
    """Per unit in scope: mobilisations, calls, arrivals, rides, passengers and service hours.
    Grouped queries only (one per figure), whatever the number of units."""
    visible = units(viewer)
    rows: dict[int, dict] = {}

    def row(unit_id):
        return rows.setdefault(
            unit_id,
            {
                "unit_id": unit_id,
                "mobilisations": 0,
                "closed": 0,
                "drivers_called": 0,
                "drivers_arrived": 0,
                "rides": 0,
                "passengers": 0,
                "mobilisation_hours": Decimal("0.0"),
                "volunteer_hours": Decimal("0.0"),
                "volunteers": 0,
                "opportunities": 0,
                "alerts": 0,
                "sightings": 0,
            },
        )

    for r in (
        Mobilisation.objects.filter(unit__in=visible)
        .values("unit_id")
        .annotate(n=Count("id"), c=Count("id", filter=Q(status="closed")))
    ):
        row(r["unit_id"]).update(mobilisations=r["n"], closed=r["c"])
    for r in (
        Call.objects.filter(mobilisation__unit__in=visible)
        .values("mobilisation__unit_id")
        .annotate(n=Count("id"))
    ):
        row(r["mobilisation__unit_id"])["drivers_called"] = r["n"]
    for r in (
        Response.objects.filter(mobilisation__unit__in=visible, arrived_at__isnull=False)
        .values("mobilisation__unit_id")
        .annotate(n=Count("id"))
    ):
        row(r["mobilisation__unit_id"])["drivers_arrived"] = r["n"]
    for r in (
        Ride.objects.filter(mobilisation__unit__in=visible)
        .values("mobilisation__unit_id")
        .annotate(n=Count("id"), p=Sum("passengers"))
    ):
        row(r["mobilisation__unit_id"]).update(rides=r["n"], passengers=r["p"] or 0)
    for r in (
        ServiceRecord.objects.filter(unit__in=visible)
        .values("unit_id", "kind")
        .annotate(h=Sum("hours"), d=Count("driver_id", distinct=True))
    ):
        target = row(r["unit_id"])
        if r["kind"] == ServiceRecord.Kind.MOBILISATION:
            target["mobilisation_hours"] = r["h"]
        else:
            target["volunteer_hours"], target["volunteers"] = r["h"], r["d"]
    for r in Opportunity.objects.filter(unit__in=visible).values("unit_id").annotate(n=Count("id")):
        row(r["unit_id"])["opportunities"] = r["n"]
    for r in (
        Alert.objects.filter(unit__in=visible)
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

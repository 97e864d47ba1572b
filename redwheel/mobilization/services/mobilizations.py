"""Emergency mobilizations: open, call drivers, answers, passenger queue, rides, close.

Mobilizations, answers and queue entries move through the kernel state machines in
`mobilization/states.py`; each move adds an immutable activity row."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core import audit
from redwheel.core.dates import local_date
from redwheel.core.errors import InvalidTransition, NotFound, ValidationFailed
from redwheel.core.models import Notification
from redwheel.core.notifications import enqueue_many, fast_bulk_insert
from redwheel.core.permissions import get_or_404, require, scope
from redwheel.drivers.models import Affiliation, Driver
from redwheel.mobilization import geo
from redwheel.mobilization.models import (
    Call,
    Fleet,
    FleetMember,
    Hub,
    Mobilization,
    PickupPoint,
    QueueEntry,
    QueueEntryActivity,
    Response,
    Ride,
    ServiceRecord,
)
from redwheel.mobilization.services.common import (
    EMERGENCY_RULE,
    _check_radius,
    _city_of,
    _hours,
    _own_driver,
    _record_points,
    is_party_member_q,
)
from redwheel.mobilization.states import MOBILIZATION, QUEUE_ENTRY, RESPONSE, MAction, R
from redwheel.orgs.models import OrgUnit

# Mobilizations -------------------------------------------------------------------------------


def _lock(mobilization: Mobilization) -> Mobilization:
    return (
        Mobilization.objects.select_for_update()
        .select_related("hub", "unit")
        .get(pk=mobilization.pk)
    )


def mobilization_open(
    *,
    actor,
    unit: OrgUnit,
    hub: Hub,
    title: str,
    reason: str,
    starts_at: datetime,
    ends_at: datetime,
    expected_passengers: int = 0,
    drivers_needed: int = 0,
) -> Mobilization:
    require(actor, "change", unit)
    require(actor, "view", hub)
    if _city_of(hub.unit) != _city_of(unit):
        raise NotFound()
    if not (title or "").strip() or not (reason or "").strip():
        raise ValidationFailed(_("A title and a reason are required."))
    if ends_at <= starts_at:
        raise ValidationFailed(_("The end must be after the start."))
    if expected_passengers < 0 or drivers_needed < 0:
        raise ValidationFailed(_("Numbers cannot be negative."))
    with transaction.atomic():
        mobilization = Mobilization(
            unit=unit,
            hub=hub,
            title=title.strip(),
            reason=reason.strip(),
            starts_at=starts_at,
            ends_at=ends_at,
            expected_passengers=expected_passengers,
            drivers_needed=drivers_needed,
            opened_by=actor if getattr(actor, "pk", None) else None,
        )
        MOBILIZATION.apply(mobilization, MAction.OPEN, actor=actor, note=mobilization.reason)
    return mobilization


def _call_notifications(mobilization: Mobilization, driver_ids: list[int]) -> list[Notification]:
    hub = mobilization.hub
    title = _("Call: %(hub)s needs cars") % {"hub": hub.name}
    body = f"{mobilization.title} — {mobilization.reason}"[:500]
    base = {
        # Platforms read this payload: its event name and keys keep their published spelling.
        "mobilisation_id": mobilization.pk,
        "hub": hub.name,
        "lng": hub.lng,
        "lat": hub.lat,
        "title": mobilization.title,
        "starts_at": mobilization.starts_at.isoformat(),
        "ends_at": mobilization.ends_at.isoformat(),
    }
    now = timezone.now()
    rows = []
    users = Driver.objects.filter(pk__in=driver_ids, user__isnull=False).values_list(
        "pk", "user_id"
    )
    for driver_id, user_id in users:
        rows.append(
            Notification(
                channel=Notification.Channel.INBOX,
                recipient_id=user_id,
                event="mobilisation.call",
                title=title,
                body=body,
                payload={**base, "driver_id": driver_id},
                status=Notification.Status.SENT,
                sent_at=now,
            )
        )
    affiliations = (
        Affiliation.objects.filter(driver_id__in=driver_ids, is_active=True)
        .exclude(platform__webhook_url="")
        .values_list("driver_id", "driver__license_masked", "platform_id", "platform__company_id")
    )
    for driver_id, license_masked, platform_id, company_id in affiliations:
        rows.append(
            Notification(
                channel=Notification.Channel.WEBHOOK,
                platform_ref=platform_id,
                event="mobilisation.call",
                title=title,
                payload={
                    **base,
                    "driver_id": driver_id,
                    "license_masked": license_masked,
                    "company_id": company_id,
                },
            )
        )
    return rows


def mobilization_call(
    *,
    actor,
    mobilization: Mobilization,
    fleets: list[Fleet] = (),
    radius_km: float | None = None,
    position_max_age_minutes: int | None = None,
) -> int:
    """Call the active members of `fleets` and/or the drivers last seen within `radius_km` of
    the hub. Drivers already called are skipped. Returns the number of drivers newly called."""
    require(actor, "change", mobilization)
    if not fleets and radius_km is None:
        raise ValidationFailed(_("Choose at least one fleet or a radius."))
    if radius_km is not None:
        _check_radius(radius_km)
    fleet_ids = sorted({f.pk for f in fleets})
    city = _city_of(mobilization.unit)
    usable_fleets = scope(actor, "view", Fleet.objects.filter(pk__in=fleet_ids)).filter(
        unit__path__startswith=city
    )
    if len(fleet_ids) != usable_fleets.count():
        raise NotFound()
    # Only drivers the sender may manage are ever called, whatever the fleet's roster says.
    callable_drivers = scope(actor, "change", Driver.objects.all())
    with transaction.atomic():
        mobilization = _lock(mobilization)
        MOBILIZATION.check(mobilization, MAction.CALL)
        candidates: dict[int, tuple[str, int | None, int | None]] = {}
        for driver_id, fleet_id in (
            FleetMember.objects.filter(
                fleet_id__in=fleet_ids, is_active=True, driver__in=callable_drivers
            )
            .order_by("fleet_id", "id")
            .values_list("driver_id", "fleet_id")
        ):
            candidates.setdefault(driver_id, (Call.Via.FLEET, fleet_id, None))
        if radius_km is not None:
            since = (
                timezone.now() - timedelta(minutes=position_max_age_minutes)
                if position_max_age_minutes
                else None
            )
            hub = mobilization.hub
            near = geo.drivers_near(hub.lng, hub.lat, radius_km, callable_drivers, since=since)
            for driver_id, distance in near.items():
                candidates.setdefault(driver_id, (Call.Via.RADIUS, None, distance))
        already = set(mobilization.calls.values_list("driver_id", flat=True))
        new_ids = sorted(set(candidates) - already)
        fast_bulk_insert(
            Call,
            [
                Call(
                    mobilization=mobilization,
                    driver_id=d,
                    via=candidates[d][0],
                    fleet_id=candidates[d][1],
                    distance_m=candidates[d][2],
                )
                for d in new_ids
            ],
        )
        sent = enqueue_many(_call_notifications(mobilization, new_ids)) if new_ids else 0
        data = {
            "called": len(new_ids),
            "skipped": len(candidates) - len(new_ids),
            "fleets": fleet_ids,
            "radius_km": radius_km,
            "notifications": sent,
        }
        MOBILIZATION.apply(
            mobilization, MAction.CALL, actor=actor, data=data, audit_data=data, audit_summary=""
        )
    return len(new_ids)


def _check_open(mobilization: Mobilization) -> None:
    """Queue and rides are work at an open mobilization (not a move of its state)."""
    if not mobilization.is_open:
        raise InvalidTransition(
            _("This mobilisation is %(status)s; it cannot be changed.")
            % {"status": mobilization.get_status_display()},
            code="mobilisation_not_open",
        )


def response_record(*, actor, mobilization: Mobilization, status: str) -> tuple[Response, bool]:
    """The signed-in driver answers a call. Idempotent: repeating an answer (or sending an older
    one) changes nothing and returns `(response, False)`. Refused once the mobilization closed."""
    driver = _own_driver(actor)
    get_or_404(actor, "change", Call.objects.filter(driver=driver), mobilization_id=mobilization.pk)
    if status not in R.values:
        raise ValidationFailed(_("Unknown answer."))
    with transaction.atomic():
        mobilization = _lock(mobilization)
        if not mobilization.is_open:
            raise InvalidTransition(
                _("This mobilisation has ended (%(status)s); answers are no longer accepted.")
                % {"status": mobilization.get_status_display()},
                code="mobilisation_closed",
            )
        response = (
            Response.objects.select_for_update()
            .filter(mobilization=mobilization, driver=driver)
            .first()
        )
        if status not in RESPONSE.allowed_actions(response):
            return response, False
        current = response.status if response else None
        if response is None:
            response = Response(mobilization=mobilization, driver=driver)
        now = timezone.now()
        try:
            RESPONSE.apply(
                response,
                status,
                actor=actor,
                now=now,
                changes={"arrived_at": now} if status == R.ARRIVED else None,
                audit_summary=f"{current or '-'} → {status}",
            )
        except IntegrityError:  # a concurrent first tap won; treat this one as a repeat
            if current is not None:
                raise
            return Response.objects.get(mobilization=mobilization, driver=driver), False
    return response, True


def passenger_enqueue(
    *,
    actor,
    mobilization: Mobilization,
    party_size: int = 1,
    need: str = "none",
    pickup_point: PickupPoint | None = None,
    destination_district: str = "",
    note: str = "",
) -> QueueEntry:
    require(actor, "change", mobilization)
    if need not in QueueEntry.Need.values:
        raise ValidationFailed(_("Unknown priority need."))
    if not 1 <= party_size <= 8:
        raise ValidationFailed(_("A party has between 1 and 8 passengers."))
    if pickup_point is not None and pickup_point.hub_id != mobilization.hub_id:
        raise ValidationFailed(_("This pick-up point belongs to another hub."))
    with transaction.atomic():
        mobilization = _lock(mobilization)
        _check_open(mobilization)
        entry = QueueEntry(
            mobilization=mobilization,
            party_size=party_size,
            need=need,
            priority=0 if need in QueueEntry.PRIORITY_NEEDS else 1,
            pickup_point=pickup_point,
            destination_district=destination_district.strip(),
            note=note.strip(),
        )
        QUEUE_ENTRY.apply(
            entry,
            QueueEntryActivity.Action.JOIN,
            actor=actor,
            audit_data={"party_size": party_size, "need": need},
        )
    return entry


def passenger_leave(*, actor, entry: QueueEntry) -> QueueEntry:
    require(actor, "change", entry)
    with transaction.atomic():
        entry = QueueEntry.objects.select_for_update().get(pk=entry.pk)
        if QueueEntryActivity.Action.LEAVE not in QUEUE_ENTRY.allowed_actions(entry):
            raise InvalidTransition(_("This passenger is no longer waiting."))
        QUEUE_ENTRY.apply(entry, QueueEntryActivity.Action.LEAVE, actor=actor)
    return entry


def ride_record(
    *,
    actor,
    mobilization: Mobilization,
    driver: Driver,
    destination_district: str = "",
    passengers: int | None = None,
):
    """Record one free ride by an arrived driver. If anyone is waiting, the ride serves the head
    of the queue (priority needs first, then first come first served) and `passengers` is
    ignored; with an empty queue it records `passengers` walk-up passengers."""
    require(actor, "change", mobilization)
    with transaction.atomic():
        mobilization = _lock(mobilization)
        _check_open(mobilization)
        if not Response.objects.filter(
            mobilization=mobilization, driver=driver, arrived_at__isnull=False
        ).exists():
            raise InvalidTransition(
                _("Only drivers who have arrived at the hub can take passengers."),
                code="driver_not_arrived",
            )
        head = (
            QueueEntry.objects.select_for_update()
            .filter(mobilization=mobilization, status=QueueEntry.Status.WAITING)
            .order_by("priority", "id")
            .first()
        )
        if head is not None:
            passengers = head.party_size
            destination_district = destination_district.strip() or head.destination_district
        elif not passengers or passengers < 1:
            raise ValidationFailed(_("Nobody is waiting; give the number of passengers."))
        if not destination_district.strip():
            raise ValidationFailed(_("Give the destination district."))
        ride = Ride.objects.create(
            mobilization=mobilization,
            driver=driver,
            passengers=passengers,
            destination_district=destination_district.strip(),
            recorded_by=actor if getattr(actor, "pk", None) else None,
        )
        if head is not None:
            QUEUE_ENTRY.apply(
                head,
                QueueEntryActivity.Action.SERVE,
                actor=actor,
                changes={"ride": ride, "served_at": timezone.now()},
            )
        audit.record(
            actor=actor,
            action="mobilization.ride",
            obj=ride,
            summary=f"{driver.name} · {passengers} · {ride.destination_district}",
        )
    return ride


def summary_compute(mobilization: Mobilization, closed_at: datetime | None = None) -> dict:
    """The closing figures, computed from the rows (calls, responses, rides, queue)."""
    closed_at = closed_at or mobilization.closed_at or timezone.now()
    called = set(mobilization.calls.values_list("driver_id", flat=True))
    responses = list(mobilization.responses.values_list("driver_id", "status", "arrived_at"))
    responded = {d for d, _s, _a in responses}
    cant_come = {d for d, s, _a in responses if s == R.CANT_COME}
    arrived = {d: a for d, _s, a in responses if a is not None}
    members = set(
        Driver.objects.filter(is_party_member_q(), pk__in=called).values_list("pk", flat=True)
    )
    rides = mobilization.rides.aggregate(n=Count("id"), p=Sum("passengers"))
    priority = (
        mobilization.queue.filter(status=QueueEntry.Status.SERVED, priority=0).aggregate(
            p=Sum("party_size")
        )["p"]
        or 0
    )
    waiting = (
        mobilization.queue.filter(status=QueueEntry.Status.WAITING).aggregate(p=Sum("party_size"))[
            "p"
        ]
        or 0
    )
    hours = sum((_hours(closed_at - at) for at in arrived.values()), Decimal("0.0"))
    return {
        "drivers_called": len(called),
        "drivers_responded": len(responded),
        "drivers_cant_come": len(cant_come),
        "drivers_arrived": len(arrived),
        "members_called": len(members),
        "members_responded": len(members & responded),
        "members_arrived": len(members & set(arrived)),
        "rides": rides["n"] or 0,
        "passengers": rides["p"] or 0,
        "priority_passengers": priority,
        "passengers_left_waiting": waiting,
        "driver_hours": str(hours),
        "duration_hours": str(_hours(closed_at - mobilization.created_at)),
    }


def mobilization_close(*, actor, mobilization: Mobilization, note: str = "") -> Mobilization:
    """Close: freeze the summary and write one ServiceRecord per driver who arrived, each with
    its `emergency_call` points (granted by the closing actor, in the same transaction; a
    record whose points cannot be granted — see POINTS_SKIPPED — is written without them).
    The returned mobilization carries `points = {"granted", "skipped", "total"}`."""
    require(actor, "change", mobilization)
    with transaction.atomic():
        mobilization = _lock(mobilization)
        MOBILIZATION.check(mobilization, MAction.CLOSE)
        now = timezone.now()
        summary = summary_compute(mobilization, closed_at=now)
        ride_stats = {
            row["driver_id"]: row
            for row in mobilization.rides.values("driver_id").annotate(
                n=Count("id"), p=Sum("passengers")
            )
        }
        served_on = local_date(mobilization.starts_at)
        arrivals = dict(
            mobilization.responses.filter(arrived_at__isnull=False).values_list(
                "driver_id", "arrived_at"
            )
        )
        ServiceRecord.objects.bulk_create(
            [
                ServiceRecord(
                    driver_id=driver_id,
                    unit_id=mobilization.unit_id,
                    kind=ServiceRecord.Kind.MOBILIZATION,
                    mobilization=mobilization,
                    hours=_hours(now - arrived_at),
                    rides=ride_stats.get(driver_id, {}).get("n", 0),
                    passengers=ride_stats.get(driver_id, {}).get("p", 0) or 0,
                    served_on=served_on,
                    confirmed_by=actor if getattr(actor, "pk", None) else None,
                )
                for driver_id, arrived_at in arrivals.items()
            ]
        )
        points = {"granted": 0, "skipped": 0, "total": 0}
        records = ServiceRecord.objects.filter(mobilization=mobilization).select_related("driver")
        for record in records.order_by("id"):
            entry = _record_points(
                actor=actor,
                record=record,
                driver=record.driver,
                rule_code=EMERGENCY_RULE,
                occurred_at=arrivals[record.driver_id],
                note=mobilization.title,
            )
            if entry is None:
                points["skipped"] += 1
            else:
                points["granted"] += 1
                points["total"] += entry.amount
        MOBILIZATION.apply(
            mobilization,
            MAction.CLOSE,
            actor=actor,
            note=note,
            now=now,
            changes={"closed_at": now, "summary": summary, "closing_note": note},
            audit_data={**summary, "points": points},
            audit_summary="",
        )
    mobilization.points = points
    return mobilization


def mobilization_cancel(*, actor, mobilization: Mobilization, reason: str) -> Mobilization:
    require(actor, "change", mobilization)
    if not (reason or "").strip():
        raise ValidationFailed(_("Give a reason."))
    with transaction.atomic():
        mobilization = _lock(mobilization)
        now = timezone.now()
        MOBILIZATION.apply(
            mobilization,
            MAction.CANCEL,
            actor=actor,
            note=reason,
            now=now,
            changes={"closed_at": now, "closing_note": reason},
            audit_summary="",
            audit_reason=reason,
        )
    return mobilization

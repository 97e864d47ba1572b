"""Emergency mobilisations: open, call drivers, answers, passenger queue, rides, close.

The mobilisation state machine is `common.TRANSITIONS`; each transition and each change of a
driver's answer adds an immutable activity row."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core import audit
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
    Mobilisation,
    MobilisationActivity,
    PickupPoint,
    QueueEntry,
    Response,
    ResponseEvent,
    Ride,
    ServiceRecord,
)
from redwheel.mobilization.services.common import (
    EMERGENCY_RULE,
    RESPONSE_TRANSITIONS,
    TRANSITIONS,
    MAction,
    MStatus,
    R,
    _check_radius,
    _city_of,
    _hours,
    _own_driver,
    _record_points,
    is_party_member_q,
)
from redwheel.orgs.models import OrgUnit

# Mobilisations -------------------------------------------------------------------------------


def allowed_actions(mobilisation: Mobilisation) -> list[str]:
    return [a for a, (sources, _t) in TRANSITIONS.items() if mobilisation.status in sources]


def _transition(mobilisation: Mobilisation, action: str, actor, note: str = "", data=None):
    sources, target = TRANSITIONS[action]
    if mobilisation.status not in sources:
        raise InvalidTransition(
            _("This mobilisation is %(status)s; it cannot be changed.")
            % {"status": mobilisation.get_status_display()}
        )
    MobilisationActivity.objects.create(
        mobilisation=mobilisation,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        from_status=mobilisation.status or "",
        to_status=target,
        note=note[:300],
        data=data or {},
    )
    return target


def _lock(mobilisation: Mobilisation) -> Mobilisation:
    return (
        Mobilisation.objects.select_for_update()
        .select_related("hub", "unit")
        .get(pk=mobilisation.pk)
    )


def mobilisation_open(
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
) -> Mobilisation:
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
        mobilisation = Mobilisation(
            unit=unit,
            hub=hub,
            title=title.strip(),
            reason=reason.strip(),
            starts_at=starts_at,
            ends_at=ends_at,
            expected_passengers=expected_passengers,
            drivers_needed=drivers_needed,
            status=TRANSITIONS[MAction.OPEN][1],
            opened_by=actor if getattr(actor, "pk", None) else None,
        )
        mobilisation.save()
        MobilisationActivity.objects.create(
            mobilisation=mobilisation,
            actor=mobilisation.opened_by,
            action=MAction.OPEN,
            from_status="",
            to_status=MStatus.OPEN,
            note=mobilisation.reason[:300],
        )
        audit.record(
            actor=actor,
            action="mobilisation.open",
            obj=mobilisation,
            summary=f"{hub.name} · {mobilisation.title}",
        )
    return mobilisation


def _call_notifications(mobilisation: Mobilisation, driver_ids: list[int]) -> list[Notification]:
    hub = mobilisation.hub
    title = _("Call: %(hub)s needs cars") % {"hub": hub.name}
    body = f"{mobilisation.title} — {mobilisation.reason}"[:500]
    base = {
        "mobilisation_id": mobilisation.pk,
        "hub": hub.name,
        "lng": hub.lng,
        "lat": hub.lat,
        "title": mobilisation.title,
        "starts_at": mobilisation.starts_at.isoformat(),
        "ends_at": mobilisation.ends_at.isoformat(),
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
                platform_id=platform_id,
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


def mobilisation_call(
    *,
    actor,
    mobilisation: Mobilisation,
    fleets: list[Fleet] = (),
    radius_km: float | None = None,
    position_max_age_minutes: int | None = None,
) -> int:
    """Call the active members of `fleets` and/or the drivers last seen within `radius_km` of
    the hub. Drivers already called are skipped. Returns the number of drivers newly called."""
    require(actor, "change", mobilisation)
    if not fleets and radius_km is None:
        raise ValidationFailed(_("Choose at least one fleet or a radius."))
    if radius_km is not None:
        _check_radius(radius_km)
    fleet_ids = sorted({f.pk for f in fleets})
    city = _city_of(mobilisation.unit)
    usable_fleets = scope(actor, "view", Fleet.objects.filter(pk__in=fleet_ids)).filter(
        unit__path__startswith=city
    )
    if len(fleet_ids) != usable_fleets.count():
        raise NotFound()
    # Only drivers the sender may manage are ever called, whatever the fleet's roster says.
    callable_drivers = scope(actor, "change", Driver.objects.all())
    with transaction.atomic():
        mobilisation = _lock(mobilisation)
        _transition_check(mobilisation, MAction.CALL)
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
            hub = mobilisation.hub
            near = geo.drivers_near(hub.lng, hub.lat, radius_km, callable_drivers, since=since)
            for driver_id, distance in near.items():
                candidates.setdefault(driver_id, (Call.Via.RADIUS, None, distance))
        already = set(mobilisation.calls.values_list("driver_id", flat=True))
        new_ids = sorted(set(candidates) - already)
        fast_bulk_insert(
            Call,
            [
                Call(
                    mobilisation=mobilisation,
                    driver_id=d,
                    via=candidates[d][0],
                    fleet_id=candidates[d][1],
                    distance_m=candidates[d][2],
                )
                for d in new_ids
            ],
        )
        sent = enqueue_many(_call_notifications(mobilisation, new_ids)) if new_ids else 0
        data = {
            "called": len(new_ids),
            "skipped": len(candidates) - len(new_ids),
            "fleets": fleet_ids,
            "radius_km": radius_km,
            "notifications": sent,
        }
        _transition(mobilisation, MAction.CALL, actor, data=data)
        audit.record(actor=actor, action="mobilisation.call", obj=mobilisation, data=data)
    return len(new_ids)


def _transition_check(mobilisation: Mobilisation, action: str) -> None:
    if mobilisation.status not in TRANSITIONS[action][0]:
        raise InvalidTransition(
            _("This mobilisation is %(status)s; it cannot be changed.")
            % {"status": mobilisation.get_status_display()},
            code="mobilisation_not_open",
        )


def response_record(*, actor, mobilisation: Mobilisation, status: str) -> tuple[Response, bool]:
    """The signed-in driver answers a call. Idempotent: repeating an answer (or sending an older
    one) changes nothing and returns `(response, False)`. Refused once the mobilisation closed."""
    driver = _own_driver(actor)
    get_or_404(actor, "change", Call.objects.filter(driver=driver), mobilisation_id=mobilisation.pk)
    if status not in R.values:
        raise ValidationFailed(_("Unknown answer."))
    with transaction.atomic():
        mobilisation = _lock(mobilisation)
        if not mobilisation.is_open:
            raise InvalidTransition(
                _("This mobilisation has ended (%(status)s); answers are no longer accepted.")
                % {"status": mobilisation.get_status_display()},
                code="mobilisation_closed",
            )
        response = (
            Response.objects.select_for_update()
            .filter(mobilisation=mobilisation, driver=driver)
            .first()
        )
        current = response.status if response else None
        if status not in RESPONSE_TRANSITIONS[current]:
            return response, False
        now = timezone.now()
        if response is None:
            try:
                with transaction.atomic():
                    response = Response.objects.create(
                        mobilisation=mobilisation,
                        driver=driver,
                        status=status,
                        arrived_at=now if status == R.ARRIVED else None,
                    )
            except IntegrityError:  # a concurrent first tap won; treat this one as a repeat
                return Response.objects.get(mobilisation=mobilisation, driver=driver), False
        else:
            response.status = status
            if status == R.ARRIVED:
                response.arrived_at = now
            response.save(update_fields=["status", "arrived_at", "updated_at"])
        ResponseEvent.objects.create(response=response, from_status=current or "", to_status=status)
        audit.record(
            actor=actor,
            action="mobilisation.respond",
            obj=response,
            summary=f"{current or '-'} → {status}",
        )
    return response, True


def passenger_enqueue(
    *,
    actor,
    mobilisation: Mobilisation,
    party_size: int = 1,
    need: str = "none",
    pickup_point: PickupPoint | None = None,
    destination_district: str = "",
    note: str = "",
) -> QueueEntry:
    require(actor, "change", mobilisation)
    if need not in QueueEntry.Need.values:
        raise ValidationFailed(_("Unknown priority need."))
    if not 1 <= party_size <= 8:
        raise ValidationFailed(_("A party has between 1 and 8 passengers."))
    if pickup_point is not None and pickup_point.hub_id != mobilisation.hub_id:
        raise ValidationFailed(_("This pick-up point belongs to another hub."))
    with transaction.atomic():
        mobilisation = _lock(mobilisation)
        _transition_check(mobilisation, MAction.CALL)
        entry = QueueEntry.objects.create(
            mobilisation=mobilisation,
            party_size=party_size,
            need=need,
            priority=0 if need in QueueEntry.PRIORITY_NEEDS else 1,
            pickup_point=pickup_point,
            destination_district=destination_district.strip(),
            note=note.strip(),
        )
        audit.record(
            actor=actor,
            action="mobilisation.enqueue",
            obj=entry,
            data={"party_size": party_size, "need": need},
        )
    return entry


def passenger_leave(*, actor, entry: QueueEntry) -> QueueEntry:
    require(actor, "change", entry)
    with transaction.atomic():
        entry = QueueEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.status != QueueEntry.Status.WAITING:
            raise InvalidTransition(_("This passenger is no longer waiting."))
        entry.status = QueueEntry.Status.LEFT
        entry.save(update_fields=["status", "updated_at"])
        audit.record(actor=actor, action="mobilisation.queue_leave", obj=entry)
    return entry


def ride_record(
    *,
    actor,
    mobilisation: Mobilisation,
    driver: Driver,
    destination_district: str = "",
    passengers: int | None = None,
):
    """Record one free ride by an arrived driver. If anyone is waiting, the ride serves the head
    of the queue (priority needs first, then first come first served) and `passengers` is
    ignored; with an empty queue it records `passengers` walk-up passengers."""
    require(actor, "change", mobilisation)
    with transaction.atomic():
        mobilisation = _lock(mobilisation)
        _transition_check(mobilisation, MAction.CALL)
        if not Response.objects.filter(
            mobilisation=mobilisation, driver=driver, arrived_at__isnull=False
        ).exists():
            raise InvalidTransition(
                _("Only drivers who have arrived at the hub can take passengers."),
                code="driver_not_arrived",
            )
        head = (
            QueueEntry.objects.select_for_update()
            .filter(mobilisation=mobilisation, status=QueueEntry.Status.WAITING)
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
            mobilisation=mobilisation,
            driver=driver,
            passengers=passengers,
            destination_district=destination_district.strip(),
            recorded_by=actor if getattr(actor, "pk", None) else None,
        )
        if head is not None:
            head.status, head.ride, head.served_at = QueueEntry.Status.SERVED, ride, timezone.now()
            head.save(update_fields=["status", "ride", "served_at", "updated_at"])
        audit.record(
            actor=actor,
            action="mobilisation.ride",
            obj=ride,
            summary=f"{driver.name} · {passengers} · {ride.destination_district}",
        )
    return ride


def summary_compute(mobilisation: Mobilisation, closed_at: datetime | None = None) -> dict:
    """The closing figures, computed from the rows (calls, responses, rides, queue)."""
    closed_at = closed_at or mobilisation.closed_at or timezone.now()
    called = set(mobilisation.calls.values_list("driver_id", flat=True))
    responses = list(mobilisation.responses.values_list("driver_id", "status", "arrived_at"))
    responded = {d for d, _s, _a in responses}
    cant_come = {d for d, s, _a in responses if s == R.CANT_COME}
    arrived = {d: a for d, _s, a in responses if a is not None}
    members = set(
        Driver.objects.filter(is_party_member_q(), pk__in=called).values_list("pk", flat=True)
    )
    rides = mobilisation.rides.aggregate(n=Count("id"), p=Sum("passengers"))
    priority = (
        mobilisation.queue.filter(status=QueueEntry.Status.SERVED, priority=0).aggregate(
            p=Sum("party_size")
        )["p"]
        or 0
    )
    waiting = (
        mobilisation.queue.filter(status=QueueEntry.Status.WAITING).aggregate(p=Sum("party_size"))[
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
        "duration_hours": str(_hours(closed_at - mobilisation.created_at)),
    }


def mobilisation_close(*, actor, mobilisation: Mobilisation, note: str = "") -> Mobilisation:
    """Close: freeze the summary and write one ServiceRecord per driver who arrived, each with
    its `emergency_call` points (granted by the closing actor, in the same transaction; a
    record whose points cannot be granted — see POINTS_SKIPPED — is written without them).
    The returned mobilisation carries `points = {"granted", "skipped", "total"}`."""
    require(actor, "change", mobilisation)
    with transaction.atomic():
        mobilisation = _lock(mobilisation)
        now = timezone.now()
        target = _transition(mobilisation, MAction.CLOSE, actor, note=note)
        summary = summary_compute(mobilisation, closed_at=now)
        ride_stats = {
            row["driver_id"]: row
            for row in mobilisation.rides.values("driver_id").annotate(
                n=Count("id"), p=Sum("passengers")
            )
        }
        served_on = timezone.localtime(mobilisation.starts_at).date()
        arrivals = dict(
            mobilisation.responses.filter(arrived_at__isnull=False).values_list(
                "driver_id", "arrived_at"
            )
        )
        ServiceRecord.objects.bulk_create(
            [
                ServiceRecord(
                    driver_id=driver_id,
                    unit_id=mobilisation.unit_id,
                    kind=ServiceRecord.Kind.MOBILISATION,
                    mobilisation=mobilisation,
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
        records = ServiceRecord.objects.filter(mobilisation=mobilisation).select_related("driver")
        for record in records.order_by("id"):
            entry = _record_points(
                actor=actor,
                record=record,
                driver=record.driver,
                rule_code=EMERGENCY_RULE,
                occurred_at=arrivals[record.driver_id],
                note=mobilisation.title,
            )
            if entry is None:
                points["skipped"] += 1
            else:
                points["granted"] += 1
                points["total"] += entry.amount
        mobilisation.status, mobilisation.closed_at = target, now
        mobilisation.summary, mobilisation.closing_note = summary, note
        mobilisation.save(
            update_fields=["status", "closed_at", "summary", "closing_note", "updated_at"]
        )
        audit.record(
            actor=actor,
            action="mobilisation.close",
            obj=mobilisation,
            data={**summary, "points": points},
        )
    mobilisation.points = points
    return mobilisation


def mobilisation_cancel(*, actor, mobilisation: Mobilisation, reason: str) -> Mobilisation:
    require(actor, "change", mobilisation)
    if not (reason or "").strip():
        raise ValidationFailed(_("Give a reason."))
    with transaction.atomic():
        mobilisation = _lock(mobilisation)
        target = _transition(mobilisation, MAction.CANCEL, actor, note=reason)
        mobilisation.status, mobilisation.closed_at = target, timezone.now()
        mobilisation.closing_note = reason
        mobilisation.save(update_fields=["status", "closed_at", "closing_note", "updated_at"])
        audit.record(actor=actor, action="mobilisation.cancel", obj=mobilisation, reason=reason)
    return mobilisation

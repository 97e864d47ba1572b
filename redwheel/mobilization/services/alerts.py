"""Public alerts: a broadcast to the drivers in the sender's scope inside a circle, and the
drivers' "seen something" replies."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core import audit
from redwheel.core.errors import InvalidTransition, ValidationFailed
from redwheel.core.models import Notification
from redwheel.core.notifications import enqueue_many, notify_user
from redwheel.core.permissions import get_or_404, require, scope
from redwheel.drivers.models import Driver
from redwheel.mobilization import geo
from redwheel.mobilization.models import (
    Alert,
    AlertRecipient,
    Sighting,
)
from redwheel.mobilization.services.common import (
    _check_coordinates,
    _check_radius,
    _own_driver,
)
from redwheel.orgs.models import OrgUnit

# Public alerts -------------------------------------------------------------------------------


def alert_create(
    *,
    actor,
    unit: OrgUnit,
    kind: str,
    title: str,
    description: str,
    lng: float,
    lat: float,
    radius_km: float,
    expires_at: datetime,
    photo=None,
    position_max_age_minutes: int | None = None,
) -> Alert:
    """Broadcast to the drivers in the actor's scope last seen inside the circle."""
    require(actor, "change", unit)
    _check_coordinates(lng, lat)
    _check_radius(radius_km)
    if kind not in Alert.Kind.values:
        raise ValidationFailed(_("Unknown kind."))
    if not (title or "").strip() or not (description or "").strip():
        raise ValidationFailed(_("A title and a description are required."))
    if expires_at <= timezone.now():
        raise ValidationFailed(_("The expiry must be in the future."))
    since = (
        timezone.now() - timedelta(minutes=position_max_age_minutes)
        if position_max_age_minutes
        else None
    )
    with transaction.atomic():
        alert = Alert(
            unit=unit,
            sender=actor,
            kind=kind,
            title=title.strip(),
            description=description.strip(),
            lng=lng,
            lat=lat,
            radius_km=radius_km,
            expires_at=expires_at,
        )
        if photo is not None:
            alert.photo = photo
        alert.full_clean(exclude=["sender", "unit"])
        alert.save()
        near = geo.drivers_near(
            lng, lat, radius_km, scope(actor, "change", Driver.objects.all()), since=since
        )
        AlertRecipient.objects.bulk_create(
            [AlertRecipient(alert=alert, driver_id=d, distance_m=m) for d, m in near.items()],
            batch_size=1000,
        )
        now = timezone.now()
        payload = {
            "alert_id": alert.pk,
            "kind": kind,
            "lng": lng,
            "lat": lat,
            "radius_km": radius_km,
            "expires_at": expires_at.isoformat(),
        }
        enqueue_many(
            [
                Notification(
                    channel=Notification.Channel.INBOX,
                    recipient_id=user_id,
                    event="alert.broadcast",
                    title=alert.title,
                    body=alert.description[:500],
                    payload=payload,
                    status=Notification.Status.SENT,
                    sent_at=now,
                )
                for user_id in Driver.objects.filter(
                    pk__in=list(near), user__isnull=False
                ).values_list("user_id", flat=True)
            ]
        )
        alert.recipients_count = len(near)
        alert.save(update_fields=["recipients_count", "updated_at"])
        audit.record(
            actor=actor,
            action="alert.create",
            obj=alert,
            summary=alert.title,
            data={"recipients": len(near)},
        )
    return alert


def alert_withdraw(*, actor, alert: Alert) -> Alert:
    require(actor, "change", alert)
    if alert.withdrawn_at is not None:
        raise InvalidTransition(_("This alert has already been withdrawn."))
    with transaction.atomic():
        alert.withdrawn_at = timezone.now()
        alert.save(update_fields=["withdrawn_at", "updated_at"])
        audit.record(actor=actor, action="alert.withdraw", obj=alert)
    return alert


def sighting_report(*, actor, alert: Alert, lng: float, lat: float, note: str) -> Sighting:
    """A driver who received the alert reports "seen something"; the sender gets an inbox
    message with the place and the note."""
    driver = _own_driver(actor)
    get_or_404(actor, "change", AlertRecipient.objects.filter(driver=driver), alert_id=alert.pk)
    _check_coordinates(lng, lat)
    if not (note or "").strip():
        raise ValidationFailed(_("Say what you saw."))
    if alert.withdrawn_at is not None or alert.expires_at <= timezone.now():
        raise InvalidTransition(_("This alert has expired."), code="alert_expired")
    with transaction.atomic():
        sighting = Sighting.objects.create(
            alert=alert, driver=driver, lng=lng, lat=lat, note=note.strip()[:500]
        )
        notify_user(
            user=alert.sender,
            event="alert.sighting",
            title=_("Sighting reported: %(title)s") % {"title": alert.title},
            body=f"{driver.name}（{driver.phone_masked}）: {sighting.note} @ {lat:.5f}, {lng:.5f}",
            payload={"alert_id": alert.pk, "sighting_id": sighting.pk, "lng": lng, "lat": lat},
        )
        audit.record(actor=actor, action="alert.sighting", obj=sighting)
    return sighting

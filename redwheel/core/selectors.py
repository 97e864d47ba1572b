"""Reads for core pages. Every selector takes the viewer."""

from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from redwheel.core.errors import NotFound
from redwheel.core.models import AuditEntry, Notification
from redwheel.core.permissions import granted_paths, is_unscoped, scope


def inbox(viewer) -> QuerySet[Notification]:
    """The viewer's own in-app notifications, newest first."""
    if not getattr(viewer, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=viewer, channel=Notification.Channel.INBOX)


def inbox_unread_count(viewer) -> int:
    return inbox(viewer).filter(read_at__isnull=True).count()


def can_read_audit_log(viewer) -> bool:
    """Superusers, and staff with the `audit` action somewhere (they read their subtree's)."""
    return is_unscoped(viewer) or bool(granted_paths(viewer, "audit"))


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_log(
    viewer,
    *,
    action: str = "",
    actor: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEntry]:
    """Audit entries, newest first, filtered. Raises NotFound for viewers who may not read it.

    `action` matches a prefix ("user." finds every user action); `actor` matches part of the
    actor label (name and masked phone); dates are inclusive days in the local time zone.
    """
    if not can_read_audit_log(viewer):
        raise NotFound()
    entries = scope(viewer, "audit", AuditEntry.objects.all())
    if action:
        entries = entries.filter(action__startswith=action.strip())
    if actor:
        entries = entries.filter(actor_label__icontains=actor.strip())
    if date_from:
        entries = entries.filter(at__gte=_day_start(date_from))
    if date_to:
        entries = entries.filter(at__lt=_day_start(date_to + timedelta(days=1)))
    return entries.only(
        "id", "at", "actor_label", "action", "object_type", "object_id", "summary", "reason"
    )

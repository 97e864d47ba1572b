"""Writes for core objects that people change from pages."""

from django.db import transaction
from django.utils import timezone

from redwheel.core.errors import NotFound
from redwheel.core.models import Notification

# Marking one's own inbox message as read is a read receipt, not a business write: it is not
# audit-logged (every driver reading every message would drown the audit log).


def notification_mark_read(*, actor, notification_id: int) -> Notification:
    """Mark one of the actor's own inbox notifications as read. Others' ids are NotFound."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .filter(pk=notification_id, recipient_id=actor.pk, channel=Notification.Channel.INBOX)
            .first()
        )
        if notification is None:
            raise NotFound()
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at", "updated_at"])
    return notification


def notification_mark_all_read(*, actor) -> int:
    """Mark every unread inbox notification of the actor as read; returns how many."""
    with transaction.atomic():
        return Notification.objects.filter(
            recipient_id=actor.pk, channel=Notification.Channel.INBOX, read_at__isnull=True
        ).update(read_at=timezone.now(), updated_at=timezone.now())

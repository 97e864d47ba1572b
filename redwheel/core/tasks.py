from django_tasks import task

from redwheel.core import notifications


@task()
def deliver_notification(notification_id: int) -> str:
    return notifications.deliver(notification_id)


@task()
def deliver_notifications(notification_ids: list[int]) -> int:
    """Deliver a chunk of outbox rows (see notifications.enqueue_many); returns how many sent."""
    return sum(notifications.deliver(pk) == "sent" for pk in notification_ids)


@task()
def deliver_due_notifications() -> int:
    return notifications.deliver_due()

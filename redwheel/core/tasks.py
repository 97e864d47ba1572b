from django_tasks import task

from redwheel.core import notifications


@task()
def deliver_notification(notification_id: int) -> str:
    return notifications.deliver(notification_id)


@task()
def deliver_due_notifications() -> int:
    return notifications.deliver_due()

from django_tasks import task

from redwheel.party.dues import reminders


@task()
def send_dues_reminders() -> int:
    """Periodic (hourly): month-end and arrears reminders, once per member, kind and month."""
    return reminders.send_due()

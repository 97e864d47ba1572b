from django_tasks import task

from redwheel.party.mobile import services


@task()
def send_six_month_reminders() -> int:
    """Periodic: remind members away six months, and their mobile branch, once per entry."""
    return services.remind_due()

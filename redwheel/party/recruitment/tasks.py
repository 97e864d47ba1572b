from django_tasks import task

from redwheel.party.recruitment import services


@task()
def send_weekly_digests() -> dict:
    """Periodic: each branch secretary's weekly digest of due and overdue steps (once a week)."""
    return services.send_weekly_digests()

from django_tasks import task

from redwheel.appeals import services


@task()
def escalate_due_cases() -> dict:
    """Periodic: escalate overdue cases, flag overdue ones at the top, close stale answers."""
    return services.escalate_due()

"""Background jobs of the exchange app (django-tasks). Registered periodic jobs: see apps.py."""

from django_tasks import task

from redwheel.core.permissions import SystemActor
from redwheel.exchange import services


@task()
def purge_position_samples() -> int:
    """Delete position samples older than POSITION_RETENTION_DAYS (daily)."""
    return services.position_samples_purge(actor=SystemActor.operator("exchange position purge"))

"""The daily partition job of the exchange app (registered in apps.py)."""

from django_tasks import task

from redwheel.exchange import partitions


@task()
def maintain_partitions() -> dict[str, list[str]]:
    """Create the coming months' partitions, then drop those past retention (PostgreSQL), and
    delete the trips past retention (both databases)."""
    created = partitions.ensure_partitions()
    dropped = partitions.drop_expired_partitions() + partitions.purge_expired_trips()
    return {"created": [str(c) for c in created], "dropped": [str(c) for c in dropped]}

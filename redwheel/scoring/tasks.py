"""Background task: today's score snapshots (registered as a periodic job in apps.py)."""

from django_tasks import task

from redwheel.core.permissions import SystemActor
from redwheel.scoring import services


@task()
def snapshot_scores() -> dict:
    run = services.scores_snapshot(actor=SystemActor.operator("score snapshots"))
    return {"day": run.day.isoformat(), "stored": run.stored}

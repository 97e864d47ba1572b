"""Background work for the sandbox: one task per simulation run (it takes the run id)."""

from django_tasks import task

from redwheel.dispatch import services


@task()
def run_simulation(run_id: int) -> str:
    """Simulate a stored run; progress is written to the run's row as the engine reports it."""
    services.run_execute(run_id=run_id)
    return services.SimulationRun.objects.values_list("status", flat=True).get(pk=run_id)

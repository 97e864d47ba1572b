"""Background work for the sandbox: one task per simulation run and per fleet sizing (each takes
the row's id)."""

from django_tasks import task

from redwheel.dispatch import services
from redwheel.dispatch.models import FleetSizing
from redwheel.dispatch.services import sizing


@task()
def run_simulation(run_id: int) -> str:
    """Simulate a stored run; progress is written to the run's row as the engine reports it."""
    services.run_execute(run_id=run_id)
    return services.SimulationRun.objects.values_list("status", flat=True).get(pk=run_id)


@task()
def run_fleet_sizing(sizing_id: int) -> str:
    """Size the fleet of a stored sizing; progress is written to its row step by step."""
    sizing.sizing_execute(sizing_id=sizing_id)
    return FleetSizing.objects.values_list("status", flat=True).get(pk=sizing_id)

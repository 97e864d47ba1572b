"""Fleet sizing on a run's demand: the smallest fleet that serves a target share of it.

The fleet grows by bisection (`engine.sizing.size_fleet`); every candidate fleet is built the way
the run's synthetic fleets are, so a sized fleet can be simulated again as a run.
"""

from collections.abc import Callable

from redwheel.dispatch import engine
from redwheel.dispatch.engine import demand as engine_demand
from redwheel.dispatch.engine.demand import BoundingBox
from redwheel.dispatch.engine.sizing import SizingResult, size_fleet
from redwheel.dispatch.services.inputs import period_fleet

FLEET_PLACEMENTS = ("demand", "random")


def fleet_factory(
    placement: str, orders: engine.Orders, bbox: BoundingBox, t0: float, t1: float
) -> Callable[[int, int], engine.Fleet]:
    """`make_fleet(n, seed)` for the period [t0, t1): drivers placed and shifted after the
    orders ("demand"), or at random hotspots of `bbox` with random shifts ("random")."""
    if placement == "demand":
        return lambda n, seed: period_fleet(
            engine_demand.demand_following_fleet(orders, n, seed), 0.0, t1 - t0
        )
    if placement == "random":
        return lambda n, seed: period_fleet(engine.synthetic_fleet(n, bbox, seed), t0, t1)
    raise ValueError(f"fleet placement must be one of: {', '.join(FLEET_PLACEMENTS)}")


def fleet_size(
    rule_set: engine.RuleSet,
    orders: engine.Orders,
    make_fleet: Callable[[int, int], engine.Fleet],
    *,
    target: float,
    seeds: list[int],
    config: engine.SimulationConfig,
    progress=None,
) -> SizingResult:
    """The smallest fleet whose mean served share over `seeds` reaches `target` (0–1)."""
    return size_fleet(
        rule_set,
        orders,
        make_fleet,
        target_served=target,
        seeds=seeds,
        config=config,
        progress=progress,
    )

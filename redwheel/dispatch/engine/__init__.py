"""RedWheel dispatch engine: batch matching, fatigue rules and a city-day simulator.

Pure NumPy/SciPy; nothing here may import Django, so the engine can be tested, benchmarked and
reused outside the web project.
"""

from .candidates import Candidates, nearest_candidates
from .demand import (
    DEFAULT_CITY,
    BoundingBox,
    Fleet,
    Orders,
    Sessions,
    demand_following_fleet,
    demand_intensity,
    load_orders_csv,
    synthetic_fleet,
    synthetic_orders,
)
from .environment import IDLE_POLICIES, speed_profile_from_trips
from .fatigue import FatigueStatus, FatigueTracker
from .geo import LocalProjection, haversine_m
from .matcher import (
    UNASSIGNED,
    AssignmentExplanation,
    DriverPool,
    MatchResult,
    OrderBatch,
    dense_cost_matrix,
    find_candidates,
    match_window,
)
from .metrics import format_comparison_table, gini, income_losers
from .rules import FatigueRules, RuleSet
from .simulator import Comparison, SimulationConfig, SimulationResult, compare, simulate
from .sizing import SizingResult, size_fleet
from .uncertainty import DEFAULT_SEEDS, Interval, Replicated, interval, replicate, seeds_from

__all__ = [
    "DEFAULT_CITY",
    "DEFAULT_SEEDS",
    "IDLE_POLICIES",
    "UNASSIGNED",
    "AssignmentExplanation",
    "BoundingBox",
    "Candidates",
    "Comparison",
    "DriverPool",
    "FatigueRules",
    "FatigueStatus",
    "FatigueTracker",
    "Fleet",
    "Interval",
    "LocalProjection",
    "MatchResult",
    "OrderBatch",
    "Orders",
    "Replicated",
    "RuleSet",
    "Sessions",
    "SimulationConfig",
    "SimulationResult",
    "SizingResult",
    "compare",
    "demand_following_fleet",
    "demand_intensity",
    "dense_cost_matrix",
    "find_candidates",
    "format_comparison_table",
    "gini",
    "haversine_m",
    "income_losers",
    "interval",
    "load_orders_csv",
    "match_window",
    "nearest_candidates",
    "replicate",
    "seeds_from",
    "simulate",
    "size_fleet",
    "speed_profile_from_trips",
    "synthetic_fleet",
    "synthetic_orders",
]

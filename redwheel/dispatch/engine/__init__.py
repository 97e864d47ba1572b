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
    demand_intensity,
    load_orders_csv,
    synthetic_fleet,
    synthetic_orders,
)
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

__all__ = [
    "DEFAULT_CITY",
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
    "LocalProjection",
    "MatchResult",
    "OrderBatch",
    "Orders",
    "RuleSet",
    "SimulationConfig",
    "SimulationResult",
    "compare",
    "demand_intensity",
    "dense_cost_matrix",
    "find_candidates",
    "format_comparison_table",
    "gini",
    "haversine_m",
    "income_losers",
    "load_orders_csv",
    "match_window",
    "nearest_candidates",
    "simulate",
    "synthetic_fleet",
    "synthetic_orders",
]

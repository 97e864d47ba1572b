"""Published dispatch rule sets.

A rule set is the complete, versioned description of how a window is matched. Platforms publish
it as JSON so drivers can check exactly how much their score is worth (``bonus_cap_m``) and which
fatigue limits apply to them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np


@dataclass(frozen=True)
class FatigueRules:
    """Driving-time limits; a driver over either limit is not offered orders."""

    continuous_limit_s: float = 4 * 3600.0
    continuous_rest_s: float = 20 * 60.0
    daily_limit_s: float = 10 * 3600.0
    daily_rest_s: float = 6 * 3600.0

    def __post_init__(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) <= 0:
                raise ValueError(f"FatigueRules.{f.name} must be positive")
        if self.daily_rest_s < self.continuous_rest_s:
            raise ValueError("daily_rest_s must be at least continuous_rest_s")


@dataclass(frozen=True)
class RuleSet:
    """Parameters of the batch matcher.

    ``score_weight`` scales how much of ``bonus_cap_m`` a perfect score (100) earns; the bonus is
    always clipped to ``bonus_cap_m``, which is therefore the published worst case: no driver is
    ever preferred over an idle candidate who is closer by more than the cap.
    """

    name: str = "default"
    version: str = "1"
    score_weight: float = 0.0
    bonus_cap_m: float = 0.0
    max_pickup_m: float = 3000.0
    k_candidates: int = 8
    unassigned_penalty_m: float = 100_000.0
    window_s: float = 2.0
    fatigue: FatigueRules = field(default_factory=FatigueRules)

    def __post_init__(self) -> None:
        if self.score_weight < 0:
            raise ValueError("score_weight must be >= 0")
        if self.bonus_cap_m < 0:
            raise ValueError("bonus_cap_m must be >= 0")
        if self.max_pickup_m <= 0:
            raise ValueError("max_pickup_m must be positive")
        if self.k_candidates < 1:
            raise ValueError("k_candidates must be >= 1")
        if self.window_s <= 0:
            raise ValueError("window_s must be positive")
        # Leaving an order unassigned must cost more than any feasible pickup, otherwise the
        # optimum could skip an order even though a driver within reach is idle.
        if self.unassigned_penalty_m <= self.max_pickup_m:
            raise ValueError("unassigned_penalty_m must exceed max_pickup_m")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, **json_kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **json_kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RuleSet:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown rule set field(s): {', '.join(sorted(unknown))}")
        values = dict(data)
        fatigue = values.pop("fatigue", None)
        if isinstance(fatigue, dict):
            fatigue_known = {f.name for f in fields(FatigueRules)}
            bad = set(fatigue) - fatigue_known
            if bad:
                raise ValueError(f"unknown fatigue field(s): {', '.join(sorted(bad))}")
            values["fatigue"] = FatigueRules(**fatigue)
        elif fatigue is not None:
            values["fatigue"] = fatigue
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> RuleSet:
        return cls.from_dict(json.loads(text))

    def without_bonus(self, name: str | None = None) -> RuleSet:
        """The same rules with the score bonus switched off: the fairness baseline."""
        return replace(
            self, name=name or f"{self.name}-no-bonus", score_weight=0.0, bonus_cap_m=0.0
        )

    def bonus_m(self, score: float | np.ndarray) -> np.ndarray:
        """Metres-equivalent bonus for a driver score (0-100); works on scalars and arrays."""
        clipped = np.clip(np.asarray(score, dtype=float), 0.0, 100.0)
        return np.minimum(self.bonus_cap_m, self.score_weight * clipped / 100.0 * self.bonus_cap_m)

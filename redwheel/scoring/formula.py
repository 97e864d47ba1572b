"""The published formulas, as pure functions (no database): credit grade and composite score.

docs/scoring.md states every formula with a worked example; keep the two in step.
"""

from dataclasses import asdict, dataclass

# Credit (信誉考核) ---------------------------------------------------------------------------

CREDIT_BASE = 20
CREDIT_BONUS_MAX = 10
# Lowest credit points of each grade, best first. AAA ≥ 20, AA 11–19, A 5–10, B 0–4.
GRADES = (("AAA", 20), ("AA", 11), ("A", 5), ("B", 0))
GRADE_ORDER = {grade: rank for rank, (grade, _low) in enumerate(reversed(GRADES))}  # B=0 … AAA=3
# The platform-reported ratedDriver Level (1–5, 5 best) as a grade.
REPORTED_LEVEL_GRADE = {5: "AAA", 4: "AA", 3: "A", 2: "B", 1: "B"}


def credit_points(deductions: int, bonus: int) -> int:
    """20 base + bonus (at most 10) − deductions, never below 0."""
    return max(0, CREDIT_BASE + min(max(bonus, 0), CREDIT_BONUS_MAX) - max(deductions, 0))


def grade_of(points: int) -> str:
    return next(grade for grade, low in GRADES if points >= low)


def combined_grade(own: str, reported_level: int | None) -> str:
    """Our grade, lowered to the platform-reported level when that is worse (never raised)."""
    if reported_level is None:
        return own
    reported = REPORTED_LEVEL_GRADE.get(reported_level, "B")
    return own if GRADE_ORDER[own] <= GRADE_ORDER[reported] else reported


def credit_bonus(community_points: int, step: int) -> int:
    return min(CREDIT_BONUS_MAX, max(community_points, 0) // step)


# Composite score ------------------------------------------------------------------------------

# Normalisation constants (part of the formula; a change means a new rule book version).
NO_RATING_NORM = 0.8  # no rating in the window counts as this (neither best nor bad)
RATING_FLOOR, RATING_TOP = 3.0, 5.0  # an average of 3.0 or less scores 0, 5.0 scores 1
RATING_SHARE = 0.6  # service = 0.6 × rating + 0.4 × complaints
COMPLAINT_CEILING = 50.0  # complaints per 10,000 orders at which the complaint part reaches 0
MIN_ORDERS = 100  # rates over fewer orders are taken over 100, so one complaint is not 100/10k
PUNISHMENT_COST = 0.2  # safety = 1 − 0.2 × punishments − 0.1 × traffic violations
VIOLATION_COST = 0.1
CREDIT_NORM = {"AAA": 1.0, "AA": 0.7, "A": 0.4, "B": 0.0}


@dataclass(frozen=True)
class Inputs:
    """The raw values of one driver over the score window."""

    orders: int = 0
    rating_count: int = 0
    rating_sum: int = 0
    complaints: int = 0
    punishments: int = 0
    violations: int = 0
    credit_grade: str = "AAA"
    community_points: int = 0


@dataclass(frozen=True)
class Weights:
    service: int = 40
    safety: int = 35
    credit: int = 15
    community: int = 10
    community_points_cap: int = 100

    @classmethod
    def of(cls, book) -> "Weights":
        return cls(
            service=book.weight_service,
            safety=book.weight_safety,
            credit=book.weight_credit,
            community=book.weight_community,
            community_points_cap=book.community_points_cap,
        )


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def rating_norm(inputs: Inputs) -> float:
    if inputs.rating_count <= 0:
        return NO_RATING_NORM
    mean = inputs.rating_sum / inputs.rating_count
    return _clamp((mean - RATING_FLOOR) / (RATING_TOP - RATING_FLOOR))


def complaints_per_10k(inputs: Inputs) -> float:
    return inputs.complaints * 10000 / max(inputs.orders, MIN_ORDERS)


def normalised(inputs: Inputs, weights: Weights) -> dict[str, float]:
    """Each component on 0…1 (1 is best)."""
    complaint_norm = _clamp(1 - complaints_per_10k(inputs) / COMPLAINT_CEILING)
    return {
        "service": RATING_SHARE * rating_norm(inputs) + (1 - RATING_SHARE) * complaint_norm,
        "safety": _clamp(
            1 - PUNISHMENT_COST * inputs.punishments - VIOLATION_COST * inputs.violations
        ),
        "credit": CREDIT_NORM[inputs.credit_grade],
        "community": min(max(inputs.community_points, 0), weights.community_points_cap)
        / weights.community_points_cap,
    }


def raw_values(inputs: Inputs) -> dict[str, dict]:
    mean = inputs.rating_sum / inputs.rating_count if inputs.rating_count else None
    return {
        "service": {
            "orders": inputs.orders,
            "ratings": inputs.rating_count,
            "rating_mean": round(mean, 3) if mean is not None else None,
            "complaints": inputs.complaints,
            "complaints_per_10k": round(complaints_per_10k(inputs), 2),
        },
        "safety": {"punishments": inputs.punishments, "traffic_violations": inputs.violations},
        "credit": {"grade": inputs.credit_grade},
        "community": {"points": inputs.community_points},
    }


COMPONENTS = ("service", "safety", "credit", "community")


def score(inputs: Inputs, weights: Weights) -> tuple[float, list[dict]]:
    """(score 0–100 rounded to 2 decimals, explanation rows per component)."""
    norms = normalised(inputs, weights)
    raws = raw_values(inputs)
    rows = []
    for name in COMPONENTS:
        weight = getattr(weights, name)
        rows.append(
            {
                "component": name,
                "raw": raws[name],
                "normalised": round(norms[name], 4),
                "weight": weight,
                "contribution": round(weight * norms[name], 2),
            }
        )
    total = round(sum(getattr(weights, name) * norms[name] for name in COMPONENTS), 2)
    return min(100.0, max(0.0, total)), rows


def inputs_dict(inputs: Inputs) -> dict:
    return asdict(inputs)

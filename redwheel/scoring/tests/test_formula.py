"""Property tests of the published formulas (pure, no database)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from redwheel.scoring import formula
from redwheel.scoring.models import COMMUNITY_WEIGHT_MAX

GRADES = ["B", "A", "AA", "AAA"]


@st.composite
def weights(draw):
    community = draw(st.integers(0, COMMUNITY_WEIGHT_MAX))
    service = draw(st.integers(community, 100 - community))
    safety = draw(st.integers(community, max(community, 100 - community - service)))
    credit = 100 - service - safety - community
    if credit < 0:
        safety, credit = 100 - service - community, 0
    return formula.Weights(
        service=service,
        safety=safety,
        credit=credit,
        community=community,
        community_points_cap=draw(st.integers(1, 500)),
    )


@st.composite
def inputs(draw):
    count = draw(st.integers(0, 500))
    return formula.Inputs(
        orders=draw(st.integers(0, 5000)),
        rating_count=count,
        rating_sum=draw(st.integers(count, 5 * count)),
        complaints=draw(st.integers(0, 50)),
        punishments=draw(st.integers(0, 6)),
        violations=draw(st.integers(0, 12)),
        credit_grade=draw(st.sampled_from(GRADES)),
        community_points=draw(st.integers(0, 1000)),
    )


def total(i, w):
    return formula.score(i, w)[0]


def replace(i, **changes):
    return formula.Inputs(**{**formula.inputs_dict(i), **changes})


@settings(max_examples=300, deadline=None)
@given(inputs(), weights(), st.integers(1, 50))
def test_score_is_monotone_in_each_component(i, w, step):
    s = total(i, w)
    assert 0 <= s <= 100
    if i.rating_count:  # a better average (same number of ratings) never lowers the score
        better = replace(i, rating_sum=min(5 * i.rating_count, i.rating_sum + step))
        assert total(better, w) >= s
    assert total(replace(i, complaints=i.complaints + step), w) <= s
    assert total(replace(i, orders=i.orders + step), w) >= s  # same complaints, more orders
    assert total(replace(i, punishments=i.punishments + 1), w) <= s
    assert total(replace(i, violations=i.violations + step), w) <= s
    assert total(replace(i, community_points=i.community_points + step), w) >= s
    rank = GRADES.index(i.credit_grade)
    if rank < 3:
        assert total(replace(i, credit_grade=GRADES[rank + 1]), w) >= s


@settings(max_examples=300, deadline=None)
@given(inputs(), inputs(), weights())
def test_points_cannot_carry_a_driver_past_better_service_and_safety_by_more_than_the_cap(a, b, w):
    """If B is at least as good as A in service, safety and credit, A can lead B by at most the
    community weight (the published cap), whatever A's points."""
    norms_a, norms_b = formula.normalised(a, w), formula.normalised(b, w)
    if all(norms_b[c] >= norms_a[c] for c in ("service", "safety", "credit")):
        assert total(a, w) - total(b, w) <= w.community + 0.01
        assert w.community <= COMMUNITY_WEIGHT_MAX


@given(st.integers(0, 100), st.integers(0, 100))
def test_credit_points_and_grades(deductions, bonus):
    points = formula.credit_points(deductions, bonus)
    assert 0 <= points <= formula.CREDIT_BASE + formula.CREDIT_BONUS_MAX
    grade = formula.grade_of(points)
    assert (grade == "AAA") == (points >= 20)
    assert (grade == "AA") == (11 <= points <= 19)
    assert (grade == "A") == (5 <= points <= 10)


def test_reported_level_lowers_but_never_raises():
    assert formula.combined_grade("AAA", None) == "AAA"
    assert formula.combined_grade("AAA", 3) == "A"
    assert formula.combined_grade("B", 5) == "B"
    assert formula.combined_grade("AA", 4) == "AA"

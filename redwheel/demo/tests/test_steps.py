"""Discovering the capabilities' demo hooks and ordering the steps."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from redwheel.demo import steps
from redwheel.demo.steps import CITY, Step, all_steps, discovered, ordered


def step(name, *after):
    return Step(name, lambda demo: True, after)


def names(found):
    return [s.name for s in found]


def test_each_step_runs_after_the_steps_it_names_and_ties_keep_the_given_order():
    given = [step("city"), step("late", "city", "b"), step("a", "city"), step("b", "city", "a")]
    assert names(ordered(given)) == ["city", "a", "b", "late"]
    given = [step("city"), step("x", "city"), step("y", "city")]
    assert names(ordered(given)) == ["city", "x", "y"]
    assert names(ordered(reversed(given))) == ["city", "y", "x"]


def test_unknown_circular_and_duplicate_steps_are_refused():
    with pytest.raises(ImproperlyConfigured, match="unknown"):
        ordered([step("city"), step("x", "city", "nope")])
    with pytest.raises(ImproperlyConfigured, match="cycle"):
        ordered([step("city"), step("x", "city", "y"), step("y", "city", "x")])
    with pytest.raises(ImproperlyConfigured, match="same name"):
        ordered([step("city"), step("city")])


def test_every_capability_demo_is_discovered_and_runs_after_what_it_reads():
    found = {s.name: s for s in discovered()}
    assert {"scoring", "dispatch", "appeals", "mobilization"} <= set(found)
    assert all(CITY in s.after for s in found.values())
    assert found["mobilization"].module == "redwheel.mobilization.demo"

    order = names(all_steps())
    assert order[:2] == [CITY, "operations"]
    for index, s in enumerate(all_steps()):
        assert all(order.index(name) < index for name in s.after), s
    # What the hooks read: points need the published rule book, the sandbox the scores,
    # the scores and the penalty appeals the month of operating data.
    assert order.index("scoring") < order.index("mobilization")
    assert order.index("scoring") < order.index("dispatch")
    assert order.index("operations") < order.index("appeals")


def test_a_demo_module_without_the_hook_is_refused(monkeypatch):
    from redwheel.scoring import demo as scoring_demo

    monkeypatch.delattr(scoring_demo, "build_demo")
    with pytest.raises(ImproperlyConfigured, match=r"redwheel\.scoring\.demo"):
        steps.discovered()

"""The steps of the demo city and the order they run in.

Two steps are the demo app's own: `city` (the org tree, platforms, accounts and drivers) and
`operations` (a month of exchange-format operating data through the real ingestion path).
Every other step is a capability's `redwheel/<app>/demo.py`, found here by discovery, so a
new capability adds its demo by adding that module and nothing else (docs/demo.md):

    DEMO_AFTER = ("scoring",)   # steps whose data this one reads; "city" is implied

    def build_demo(demo) -> bool:   # demo: a redwheel.demo.context.DemoContext
        ...                          # True if it wrote something, False if already there

The step is named after its app's label.
"""

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import module_has_submodule

from redwheel.demo import city, operations

CITY = "city"


@dataclass(frozen=True)
class Step:
    name: str
    build: Callable[..., bool]
    after: tuple[str, ...] = ()
    module: str = ""


BUILT_IN = (
    Step(CITY, city.build_demo, (), city.__name__),
    Step("operations", operations.build_demo, (CITY,), operations.__name__),
)


def discovered() -> list[Step]:
    """Every installed RedWheel app's demo hook, in INSTALLED_APPS order (lower layers first)."""
    steps = []
    for config in apps.get_app_configs():
        if not config.name.startswith("redwheel.") or config.name == "redwheel.demo":
            continue
        if not module_has_submodule(config.module, "demo"):
            continue
        module = import_module(f"{config.name}.demo")
        hook = getattr(module, "build_demo", None)
        if not callable(hook):
            raise ImproperlyConfigured(
                f"{module.__name__} defines no build_demo(demo) hook (see docs/demo.md)."
            )
        after = tuple(getattr(module, "DEMO_AFTER", ()))
        steps.append(Step(config.label, hook, (CITY, *after), module.__name__))
    return steps


def ordered(steps) -> list[Step]:
    """Each step after every step it names. Among steps whose dependencies are all done, the
    one given first goes first, so the order is the same on every run."""
    steps = list(steps)
    names = [step.name for step in steps]
    if len(set(names)) != len(names):
        raise ImproperlyConfigured(f"Two demo steps have the same name: {names}.")
    for step in steps:
        unknown = set(step.after) - set(names)
        if unknown:
            raise ImproperlyConfigured(
                f"Demo step {step.name!r} runs after unknown steps: {sorted(unknown)}."
            )
    done: list[Step] = []
    waiting = steps
    while waiting:
        finished = {step.name for step in done}
        ready = next((s for s in waiting if set(s.after) <= finished), None)
        if ready is None:
            raise ImproperlyConfigured(
                f"Demo steps depend on each other in a cycle: {[s.name for s in waiting]}."
            )
        done.append(ready)
        waiting = [s for s in waiting if s is not ready]
    return done


def all_steps() -> list[Step]:
    return ordered([*BUILT_IN, *discovered()])

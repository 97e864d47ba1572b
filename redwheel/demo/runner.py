"""Run the demo steps in order, one progress line per step, and start afresh on request."""

import time
from dataclasses import dataclass

from django.core.management import call_command
from django.utils.translation import gettext as _

from redwheel.demo.city import demo_city
from redwheel.demo.context import DemoContext
from redwheel.demo.steps import Step, all_steps
from redwheel.orgs.models import OrgUnit


class OtherCitiesPresent(Exception):
    """Starting afresh would delete cities that are not the demo city."""


@dataclass(frozen=True)
class StepResult:
    step: Step
    built: bool
    seconds: float


def run(demo: DemoContext, steps: list[Step] | None = None) -> list[StepResult]:
    """Run every step (by default all of them, discovered and ordered). A step that finds its
    data already there changes nothing, so running the demo again is safe and fast."""
    steps = all_steps() if steps is None else steps
    results = []
    for index, step in enumerate(steps, start=1):
        label = {"index": index, "total": len(steps), "step": step.name}
        # Steps time their own detail lines from their start, so these lines carry no clock.
        _line(demo, _("step %(index)s/%(total)s: %(step)s") % label)
        started = demo.started = time.monotonic()
        built = bool(step.build(demo))
        seconds = time.monotonic() - started
        if built:
            _line(
                demo,
                _("step %(index)s/%(total)s: %(step)s built in %(seconds).1f s")
                % {**label, "seconds": seconds},
            )
        else:
            _line(
                demo, _("step %(index)s/%(total)s: %(step)s already there, nothing to do") % label
            )
        results.append(StepResult(step, built, seconds))
    return results


def _line(demo: DemoContext, text: str) -> None:
    demo.out.write(f"== {text}\n")
    if hasattr(demo.out, "flush"):
        demo.out.flush()


def empty_database() -> None:
    """Delete the demo city's data so that it can be built again.

    Audit and activity rows are append-only (the ORM refuses to delete them), so the demo city
    cannot be taken out of a shared database row by row; the database is emptied instead
    (`manage.py flush`: every table, the schema stays). That is only the demo city's data when
    no other city is in it, so any other city refuses."""
    root = demo_city()
    others = OrgUnit.objects.filter(parent=None)
    if root is not None:
        others = others.exclude(pk=root.pk)
    names = list(others.order_by("name").values_list("name", flat=True))
    if names:
        raise OtherCitiesPresent(
            _(
                "--fresh empties the database, and it holds cities other than the demo city: "
                "%(cities)s. Use a database of its own for the demo."
            )
            % {"cities": "、".join(names)}
        )
    call_command("flush", interactive=False, verbosity=0)

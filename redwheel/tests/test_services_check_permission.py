"""Every public service checks permission itself (issue 12, deliverable 2).

The services are found by introspection — every public function of every `services` module
that takes `actor` — so a new one cannot be forgotten. Each is called with objects of a
foreign city by actors that may not touch them: a signed-in account with no grants, the
other city's committee, and a platform principal of the other city. Each call must be
refused (NotFound, PermissionDenied or Unauthorized), or, for predicates, answer "no"; and
no row of any model may change.
"""

import importlib
import inspect
import pkgutil
import typing
from datetime import date, datetime

import pytest
from django.apps import apps
from django.db import models
from django.utils import timezone

import redwheel
from redwheel import testing
from redwheel.core.errors import NotFound, PermissionDenied, Unauthorized
from redwheel.core.permissions import SystemActor
from redwheel.tests.world import build_world

# Services that only ever act on the actor's own rows, with why.
OWN_ROWS_ONLY = {
    "redwheel.accounts.services.password_change": "changes the actor's own password",
    "redwheel.core.services.notification_mark_all_read": "marks the actor's own inbox read",
}
# The points rule book is one for the whole deployment (docs/scoring.md): every city's
# committee manages it. Per-city rule books are a follow-up; until then these are exempt.
DEPLOYMENT_WIDE = {
    f"redwheel.scoring.services.{name}"
    for name in (
        "rulebook_draft",
        "rulebook_publish",
        "rulebook_weights_set",
        "rule_set",
        "rule_remove",
        "deduction_add",
        "may_manage_rules",
    )
}
# Predicates answer whether the actor may do something; for outsiders they must say no.
PREDICATES = {
    "allowed_actions",
    "can_handle",
    "case_roles",
    "is_own",
    "may_grant",
    "may_manage_rules",
}
REFUSALS = (NotFound, PermissionDenied, Unauthorized)


def public_services():
    found = []
    for info in pkgutil.walk_packages(redwheel.__path__, "redwheel."):
        if not (info.name.endswith(".services") or ".services." in info.name):
            continue
        module = importlib.import_module(info.name)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or fn.__module__ != module.__name__:
                continue
            if "actor" in inspect.signature(fn).parameters:
                found.append(fn)
    return found


SERVICES = public_services()


def test_services_are_found():
    names = {f"{fn.__module__.split('.services')[0]}.services.{fn.__name__}" for fn in SERVICES}
    # A sample from each app: if introspection broke, this list would shrink to nothing.
    assert {
        "redwheel.drivers.services.membership_verify",
        "redwheel.appeals.services.case_accept",
        "redwheel.mobilization.services.mobilization_open",
        "redwheel.dispatch.services.ruleset_publish",
        "redwheel.scoring.services.points_grant",
        "redwheel.orgs.services.unit_create",
        "redwheel.accounts.services.grant_create",
        "redwheel.exchange.services.ingest",
    } <= names


@pytest.fixture(scope="module")
def foreign(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            home = build_world("本城")
            world = build_world("外城")
            outsiders = {
                "no grants": testing.user("路人"),
                "other city's committee": testing.staff(home.city.root),
                "other city's platform": SystemActor.for_platform(
                    home.city.platform_a.pk, "other feed"
                ),
            }
            yield world, outsiders
            transaction.set_rollback(True)


def _by_model(world) -> dict[type, object]:
    found: dict[type, object] = {}
    for obj in world.objects:
        found.setdefault(type(obj), obj)
    return found


NAME_HINTS = {  # un-annotated parameters, by name
    "unit": "orgs.OrgUnit",
    "parent": "orgs.OrgUnit",
    "city": "orgs.OrgUnit",
    "lead_unit": "orgs.OrgUnit",
    "platform": "orgs.Platform",
    "aggregator": "orgs.Platform",
    "driver": "drivers.Driver",
    "member": "drivers.Driver",
}


def _value(param: inspect.Parameter, world, objects):
    annotation = param.annotation
    if isinstance(annotation, str) or annotation is inspect.Parameter.empty:
        label = NAME_HINTS.get(param.name)
        annotation = apps.get_model(label) if label else str
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)) and args:
        annotation, origin, args = args[0], typing.get_origin(args[0]), typing.get_args(args[0])
    if inspect.isclass(annotation) and issubclass(annotation, models.Model):
        return objects.get(annotation) or pytest.fail(
            f"tests/world.py builds no {annotation.__name__}: add one"
        )
    if origin in (list, tuple, typing.Sequence, __import__("collections.abc").abc.Sequence):
        inner = args[0] if args else str
        if inspect.isclass(inner) and issubclass(inner, models.Model):
            return [objects[inner]]
        return []
    simple = {
        str: "x",
        int: 1,
        float: 1.0,
        bool: True,
        dict: {},
        list: [],
        datetime: timezone.now(),
        date: timezone.localdate(),
    }
    if annotation in simple:
        return simple[annotation]
    return None


def _row_counts():
    return {m._meta.label: m._base_manager.count() for m in apps.get_models()}


@pytest.mark.django_db
@pytest.mark.parametrize("service", SERVICES, ids=lambda fn: f"{fn.__module__}.{fn.__name__}")
def test_every_service_refuses_actors_outside_its_scope(service, foreign):
    qualified = f"{service.__module__}.{service.__name__}"
    if qualified in OWN_ROWS_ONLY:
        pytest.skip(OWN_ROWS_ONLY[qualified])
    world, outsiders = foreign
    if qualified in DEPLOYMENT_WIDE:
        outsiders = {k: v for k, v in outsiders.items() if k != "other city's committee"}
    objects = _by_model(world)
    if qualified.endswith("deadline_policy_save"):
        from redwheel.appeals.models import DeadlinePolicy

        objects[DeadlinePolicy] = DeadlinePolicy(level=1, category="")  # deployment-wide
    kwargs = {}
    for param in inspect.signature(service).parameters.values():
        if param.name == "actor" or param.kind is param.VAR_KEYWORD:
            continue
        if param.default is param.empty or param.name in NAME_HINTS:
            kwargs[param.name] = _value(param, world, objects)
    for label, actor in outsiders.items():
        before = _row_counts()
        try:
            answer = service(actor=actor, **kwargs)
        except REFUSALS:
            pass
        else:
            assert service.__name__ in PREDICATES, f"{qualified} let {label} through"
            assert not answer, f"{qualified} said yes to {label}"
        assert _row_counts() == before, f"{qualified} changed rows for {label}"

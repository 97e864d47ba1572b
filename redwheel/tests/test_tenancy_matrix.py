"""The tenancy matrix (issue 12, acceptance): every URL, every role, foreign ids → 404.

URL patterns — pages, the JSON API and the admin — come from the resolver, not from a list,
so a new endpoint is covered without editing this file. Two whole cities share the
database; every role of the home city requests every pattern filled with the id of every
kind of object of the foreign city, by GET and by POST. A foreign id must answer exactly as
an id that does not exist, with a refusal (401/403/404/405), and change no row. Pages
without ids must not show anything of the foreign city. Read-only roles are refused every
write, on their own city's objects too.
"""

import re

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.db.models import Max
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from redwheel.accounts.models import Grant
from redwheel.core import testing
from redwheel.tests.world import build_world

REFUSED = {401, 403, 404, 405}
MISSING_ID = 987_654_321
ID_PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
# Self-service endpoints that act only on the signed-in account, never on an object by id.
OWN_ACCOUNT = ("accounts/", "i18n/", "core/inbox/", "api/v1/me")
# String parameters that are not ids: the values every pattern is tried with.
STRING_SAMPLES = {
    "action": ["accept", "answer", "check-in", "cancel", "withdraw"],
    "record_type": ["baseInfoDriver"],
    "kind": ["drivers"],
    "fmt": ["xlsx"],
}


def _patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _is_id(conv: str | None, name: str) -> bool:
    return conv == "int" or name in ("pk", "id", "number") or name.endswith("_id")


def _fill(route: str, ids: list[str]) -> list[str]:
    """Concrete paths for `route`: every id-like parameter takes each of `ids`."""
    route = route.lstrip("^").rstrip("$")
    if "(?P" in route or route.endswith("^") or route.startswith("media/"):
        return []  # the admin's regex app index, the API's catch-all, uploaded files
    paths = ["/" + route]
    for match in ID_PARAM.finditer(route):
        conv, name = match.group("conv"), match.group("name")
        values = ids if _is_id(conv, name) else STRING_SAMPLES.get(name)
        assert values, f"add sample values for the <{name}> parameter of {route}"
        paths = [p.replace(match.group(0), str(v), 1) for p in paths for v in values]
    return paths


def _advance_sequences(base: int) -> None:
    """Give every table's next ids their own range, so a foreign id of one model is never an
    id of any other row: a refusal then proves scoping, not a lucky miss."""
    with connection.cursor() as cursor:
        for index, model in enumerate(apps.get_models()):
            pk = model._meta.pk
            if not pk.get_internal_type().endswith("AutoField"):
                continue
            start = base + index * 100_000
            table = model._meta.db_table
            if connection.vendor == "sqlite":
                cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
                cursor.execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, start]
                )
            else:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, %s), %s)",
                    [table, pk.column, start],
                )


def _fingerprint():
    prints = {}
    for model in apps.get_models():
        manager = model._base_manager
        fields = {f.name for f in model._meta.concrete_fields}
        latest = manager.aggregate(m=Max("updated_at"))["m"] if "updated_at" in fields else None
        prints[model._meta.label] = (manager.count(), latest)
    return prints


@pytest.fixture(scope="module")
def matrix(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        home = build_world("本城")
        _advance_sequences(50_000_000)
        foreign = build_world("外城")
        city = home.city
        admin_staff = testing.user("后台职员", is_staff=True)
        from django.contrib.auth.models import Permission

        admin_staff.user_permissions.add(*Permission.objects.all())
        roles = {
            "committee": testing.staff(city.root, "staff"),
            "platform committee": testing.staff(city.committee_a, "staff"),
            "secretary": testing.staff(city.branch_a, "secretary"),
            "viewer": testing.staff(city.root, "viewer"),
            "regulator": testing.staff(city.root, "regulator"),
            "instructor": testing.staff(city.branch_a, "instructor"),
            "driver": home.driver.user,
            "member": home.member.user,
            "admin-permissions staff": admin_staff,
            "token": home.token_secret,
        }
        foreign_ids = sorted(
            {str(o.pk) for o in foreign.objects} | {o.number for o in _cases(foreign)}
        )
        yield home, foreign, roles, foreign_ids
        transaction.set_rollback(True)


def _cases(world):
    from redwheel.appeals.models import Case

    return [o for o in world.objects if isinstance(o, Case)]


def _client(principal) -> Client:
    if isinstance(principal, str):
        return Client(HTTP_AUTHORIZATION=f"Bearer {principal}")
    client = Client()
    client.force_login(principal)
    return client


ROUTES = sorted(set(_patterns()))
ID_ROUTES = [r for r in ROUTES if ID_PARAM.search(r) and _fill(r, ["1"])]
PLAIN_ROUTES = [r for r in ROUTES if not ID_PARAM.search(r) and "^" not in r]


@pytest.mark.django_db
@pytest.mark.parametrize("route", ID_ROUTES)
def test_foreign_ids_answer_like_missing_ones_for_every_role(route, matrix):
    _home, _foreign, roles, foreign_ids = matrix
    before = _fingerprint()
    for role, principal in roles.items():
        client = _client(principal)
        for method in ("get", "post"):
            missing = {
                getattr(client, method)(p).status_code for p in _fill(route, [str(MISSING_ID)])
            }
            for path in _fill(route, foreign_ids):
                status = getattr(client, method)(path).status_code
                assert status in REFUSED, f"{role} {method.upper()} {path} → {status}"
                assert status in missing, f"{role} {method.upper()} {path}: {status} ≠ {missing}"
    assert _fingerprint() == before, f"{route} changed rows"


@pytest.mark.django_db
@pytest.mark.parametrize("route", PLAIN_ROUTES)
def test_pages_without_ids_show_nothing_of_the_foreign_city(route, matrix):
    _home, foreign, roles, _ids = matrix
    path = _fill(route, [])[0] if _fill(route, []) else None
    if path is None:
        pytest.skip("no concrete path")
    for role, principal in roles.items():
        response = _client(principal).get(path)
        assert response.status_code < 500, f"{role} GET {path} → {response.status_code}"
        if response.get("Content-Type", "").startswith(("text/", "application/json")):
            body = response.content.decode(errors="replace")
            assert foreign.marker not in body, f"{role} GET {path} shows the foreign city"


READ_ONLY = ("viewer", "instructor")


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES)
def test_read_only_roles_are_refused_every_write(route, matrix):
    home, _foreign, roles, _ids = matrix
    if route.startswith(OWN_ACCOUNT) or "^" in route:
        pytest.skip("acts on the signed-in account only")
    own_ids = sorted({str(o.pk) for o in home.objects} | {o.number for o in _cases(home)})
    paths = _fill(route, own_ids) if ID_PARAM.search(route) else _fill(route, [])
    before = _fingerprint()
    for role in READ_ONLY:
        client = _client(roles[role])
        assert Grant.objects.filter(user=roles[role]).exists()
        for path in paths:
            status = client.post(path).status_code
            assert status in REFUSED, f"{role} POST {path} → {status}"
    assert _fingerprint() == before, f"{route} changed rows"

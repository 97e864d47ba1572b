"""The tenancy matrix (issue 12, acceptance): every URL, every role, foreign ids → 404.

URL patterns — pages, the JSON API and the admin — come from the resolver, not from a list,
so a new endpoint is covered without editing this file. Two whole cities share the
database; every role of the home city requests every pattern filled with the id of every
kind of object of the foreign city, by GET and by POST. A foreign id must answer exactly as
an id that does not exist, with a refusal (401/403/404/405), and change no row. Pages
without ids must not show anything of the foreign city. Read-only roles posting to every
endpoint, with their own city's ids, are refused (before any input is validated) and change
no row.
"""

import re

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.db.models import Max
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from config import legacy_urls
from redwheel import testing
from redwheel.accounts.models import Grant
from redwheel.tests.world import build_world

REFUSED = {401, 403, 404, 405, "login"}
MISSING_ID = 987_654_321
ID_PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
# Self-service endpoints that act only on the signed-in account, never on an object by id.
# (`api/v1/me/`, with the slash: `api/v1/memberships/...` acts on others' memberships.)
OWN_ACCOUNT = ("accounts/", "i18n/", "inbox/", "api/v1/me/")
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
            yield prefix + str(entry.pattern), entry.callback


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
        if conv == "int" or (_is_id(conv, name) and name != "number"):
            values = [i for i in ids if i.isdigit()]
        else:
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
        if model._meta.label == "sessions.Session":
            continue  # each role's client signs in
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
        yield home, foreign, roles, _ids_by_model(foreign)
        transaction.set_rollback(True)


def _ids_by_model(world) -> dict[str, list[str]]:
    """One id per model of the world ("app_label.model" → [id]); cases also by number."""
    ids: dict[str, list[str]] = {}
    for obj in world.objects:
        if obj._meta.label_lower != "scoring.rulebook":  # one for the deployment, not a city's
            ids.setdefault(obj._meta.label_lower, [str(obj.pk)])
    ids["appeals.case"] = ids["appeals.case"] + [c.number for c in _cases(world)][:1]
    return ids


SHARED = ("accounts.", "orgs.", "drivers.driver", "drivers.membership")


def _candidates(route: str, view, ids: dict[str, list[str]]) -> list[str]:
    """The foreign ids worth trying on `route`: those of the models its app serves (and the
    shared org, account and driver models); every model's for the JSON API."""
    if route.startswith("admin/"):
        label = ".".join(route.split("/")[1:3])
        return ids.get(label) or ids["drivers.driver"]
    module = getattr(view, "__module__", "") or ""
    if route.startswith("api/") or not module.startswith("redwheel."):
        return sorted({i for values in ids.values() for i in values})
    config = apps.get_containing_app_config(module)
    app = config.label if config else module.split(".")[1]
    return sorted(
        {
            i
            for label, values in ids.items()
            if label.startswith((f"{app}.", *SHARED))
            for i in values
        }
    )


def _cases(world):
    from redwheel.appeals.models import Case

    return [o for o in world.objects if isinstance(o, Case)]


def _outcome(response):
    """The status, or "login" for a redirect to the sign-in page (no session: a refusal)."""
    if response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")):
        return "login"
    return response.status_code


def _client(principal) -> Client:
    if isinstance(principal, str):
        return Client(HTTP_AUTHORIZATION=f"Bearer {principal}")
    client = Client()
    client.force_login(principal)
    return client


# The old URLs only redirect to pages covered here (redwheel/tests/test_legacy_urls.py).
VIEWS = {route: view for route, view in _patterns() if view is not legacy_urls.moved}
ROUTES = sorted(VIEWS)
ID_ROUTES = [
    r
    for r in ROUTES
    if any(_is_id(m.group("conv"), m.group("name")) for m in ID_PARAM.finditer(r))
    and _fill(r, ["1"])
]
PLAIN_ROUTES = [r for r in ROUTES if not ID_PARAM.search(r) and "^" not in r]


@pytest.mark.django_db
@pytest.mark.parametrize("route", ID_ROUTES)
def test_foreign_ids_answer_like_missing_ones_for_every_role(route, matrix):
    _home, _foreign, roles, ids = matrix
    foreign_ids = _candidates(route, VIEWS[route], ids)
    before = _fingerprint()
    for role, principal in roles.items():
        client = _client(principal)
        for method in ("get", "post"):
            missing = {
                _outcome(getattr(client, method)(p)) for p in _fill(route, [str(MISSING_ID)])
            }
            for path in _fill(route, foreign_ids):
                status = _outcome(getattr(client, method)(path))
                assert status in missing, f"{role} {method.upper()} {path}: {status} ≠ {missing}"
                # A body refused by the schema before any lookup answers as it would for a
                # missing id; anything else must be a refusal.
                assert status in REFUSED or status in (400, 422), f"{role} {path} → {status}"
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
        # /readyz answers 503 by design while no worker is alive (none runs here).
        not_ready = path == "/readyz" and response.status_code == 503
        assert response.status_code < 500 or not_ready, (
            f"{role} GET {path} → {response.status_code}"
        )
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
    own_ids = _candidates(route, VIEWS[route], _ids_by_model(home))
    paths = _fill(route, own_ids) if ID_PARAM.search(route) else _fill(route, [])
    before = _fingerprint()
    for role in READ_ONLY:
        client = _client(roles[role])
        assert Grant.objects.filter(user=roles[role]).exists()
        for path in paths:
            response = client.post(path)
            status = _outcome(response)
            if status == 302 and getattr(VIEWS[route], "reads_by_post", False):
                # A search posted to keep a full number out of URLs: answered by its GET page.
                assert response["Location"].startswith(f"{path}?"), f"{role} POST {path}"
                continue
            assert status in REFUSED, f"{role} POST {path} → {status}"
    assert _fingerprint() == before, f"{route} changed rows"

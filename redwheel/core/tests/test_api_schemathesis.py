"""The published OpenAPI schema, run against the app in-process with schemathesis.

For each of three callers (a staff session, a driver session and a platform token holding every
scope) every operation gets generated requests, valid and invalid, and no answer may be a 500,
an undocumented status, an undocumented content type, or a body that violates its schema.
Bounded: at most 25 generated requests per operation and caller, no coverage or stateful phase,
a fixed seed and no example database, so a run takes well under a minute on SQLite.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from redwheel import testing
from redwheel.accounts.models import TokenScope
from redwheel.accounts.services import token_create

pytestmark = [pytest.mark.schemathesis, pytest.mark.django_db]

MAX_EXAMPLES = 25
CONFIG = """
[generation]
database = "none"
"""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CSRF_SECRET = "Ab1" * 10 + "Cd"  # a 32-character CSRF secret, sent as cookie and header


def _operations() -> list:
    from redwheel.api import api

    paths = api.get_openapi_schema()["paths"]
    return [
        pytest.param(method.upper(), path, id=f"{method.upper()} {path}")
        for path, ops in paths.items()
        for method in ops
    ]


@pytest.fixture(scope="module")
def published_schema():
    # As Django's test client does: a request must not close the connection that holds the
    # test's transaction (WSGIHandler closes "old" connections when a request starts/ends).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi(
            "/api/v1/openapi.json",
            get_wsgi_application(),
            config=SchemathesisConfig.from_str(CONFIG),
        )
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _session(user) -> dict:
    client = Client()
    client.force_login(user)
    cookies = {"sessionid": client.cookies["sessionid"].value, "csrftoken": CSRF_SECRET}
    return {"headers": {"X-CSRFToken": CSRF_SECRET}, "cookies": cookies}


def _credentials(caller: str, city) -> dict:
    """`call_and_validate` keyword arguments that make each request as `caller`."""
    city.member("党员")  # a verified member, so that lists and look-ups have rows to show
    if caller == "staff":
        return _session(testing.staff(city.root, "staff"))
    if caller == "driver":
        return _session(city.driver("司机").user)
    _token, secret = token_create(
        actor=city.admin, platform=city.platform_a, name="fuzz", scopes=list(TokenScope.values)
    )
    return {"headers": {"Authorization": f"Bearer {secret}"}}


@pytest.mark.parametrize("caller", ["staff", "driver", "platform"])
@pytest.mark.parametrize(("method", "path"), _operations())
def test_every_operation_answers_within_its_schema(published_schema, city, caller, method, path):
    credentials = _credentials(caller, city)
    operation = published_schema[path][method]
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def answers_within_schema(case):
        case.call_and_validate(checks=CHECKS, **credentials)

    answers_within_schema()
